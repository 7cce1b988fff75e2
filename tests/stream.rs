//! The table-stream function (`shared::stream`), fed the way Lambda feeds it: the table's
//! real stream read with the Streams client, filtered as the template's event source
//! mapping filters, in the event shape Lambda sends.

use crm_tests::{request, with_token, Member, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::domain::Role;
use shared::http::Function;

async fn owned_by(env: &TestEnv, m: &Member, owner: &str) -> Vec<String> {
    let path = format!(
        "/api/customers?organization={}&owner={owner}&limit=100",
        m.org
    );
    let (status, page) = env.get_customers(&m.token, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn remove(env: &TestEnv, m: &Member, user: &str) {
    let path = format!("/api/organizations/{}/members/{user}/", m.org);
    let removal = with_token(request(Method::DELETE, &path, None, Body::Empty), &m.token);
    let (status, answer) = env.send(Function::Teams, removal).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
}

#[tokio::test]
async fn a_removed_members_customers_are_unassigned_once_however_often_the_batch_comes() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let employee = env.signed_up_user().await;
    let employee_id = employee["user"]["id"].as_str().unwrap().to_owned();
    env.join(&employee_id, &m.org, Role::Employee).await;
    let mut theirs = Vec::new();
    for i in 0..3 {
        let body = json!({"organization": m.org, "email": format!("e{i}@example.com"), "owner_id": employee_id});
        let (status, c) = env.create_customer(&m.token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        theirs.push(c["id"].as_str().unwrap().to_owned());
    }
    let body = json!({"organization": m.org, "email": "mine@example.com", "owner_id": m.user});
    let (status, mine): (StatusCode, Value) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let mut reader = env.stream_reader().await;
    let before = env.stream_event(&mut reader).await;
    let jobs: Vec<_> = before
        .records
        .iter()
        .filter_map(shared::stream::Job::of)
        .collect();
    assert!(
        jobs.iter()
            .all(|job| matches!(job, shared::stream::Job::SendMail(_))),
        "no membership was removed yet, only the invitation mailed: {jobs:?}"
    );

    remove(&env, &m, &employee_id).await;
    let event = env.stream_event(&mut reader).await;
    assert_eq!(event.records.len(), 1, "the removed membership");
    let (mailer, _) = env.mailbox().await;
    env.calls.take();
    let answer = shared::stream::handle(&env.app, &mailer, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let calls = env.calls.take();
    assert_eq!(
        calls.iter().filter(|c| *c == "TransactWriteItems").count(),
        3,
        "one small transaction per customer: {calls:?}"
    );
    assert!(owned_by(&env, &m, &employee_id).await.is_empty());
    let mut unassigned = owned_by(&env, &m, "none").await;
    unassigned.sort();
    let mut expected = theirs.clone();
    expected.extend([m.signup["customer"]["id"].as_str().unwrap().to_owned()]);
    expected.sort();
    assert_eq!(unassigned, expected);
    assert_eq!(
        owned_by(&env, &m, "me").await,
        [mine["id"].as_str().unwrap()]
    );

    // The same batch again (Lambda delivers at least once): nothing more is written.
    let items = env.item_count().await;
    let again = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(again.batch_item_failures.is_empty());
    assert!(!env.calls.take().contains(&"TransactWriteItems".to_owned()));
    env.assert_untouched(items).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn other_records_ask_for_nothing_and_a_member_back_keeps_their_customers() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let employee = env.signed_up_user().await;
    let employee_id = employee["user"]["id"].as_str().unwrap().to_owned();
    env.join(&employee_id, &m.org, Role::Employee).await;
    let body = json!({"organization": m.org, "email": "k@example.com", "owner_id": employee_id});
    let (status, c) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let mut reader = env.stream_reader().await;
    // Every record, unfiltered: none names a job but a mail (two sign-ups' verifications,
    // the employee's invitation) and the removal, below.
    let all = reader.read().await.unwrap();
    let event: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(crm_tests::stream::lambda_event(&all, &env.table)).unwrap();
    let jobs: Vec<_> = event
        .records
        .iter()
        .filter_map(shared::stream::Job::of)
        .collect();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert!(
        jobs.iter()
            .all(|job| matches!(job, shared::stream::Job::SendMail(_))),
        "{jobs:?}"
    );
    remove(&env, &m, &employee_id).await;
    let removal = env.stream_event(&mut reader).await;
    let jobs: Vec<_> = removal
        .records
        .iter()
        .filter_map(shared::stream::Job::of)
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    // They are invited back before the job runs: their customer stays theirs.
    env.join(&employee_id, &m.org, Role::Employee).await;
    let (mailer, _) = env.mailbox().await;
    let answer = shared::stream::handle(&env.app, &mailer, removal).await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(
        owned_by(&env, &m, &employee_id).await,
        [c["id"].as_str().unwrap()]
    );
    env.assert_invariants().await;
}

/// When the job did not run (its batch ended in the failure queue), `check-table` names the
/// customers a departed member still owns, and `--repair` runs the same job again.
#[tokio::test]
async fn check_table_names_what_a_missed_job_left_and_repair_runs_it() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let employee = env.signed_up_user().await;
    let employee_id = employee["user"]["id"].as_str().unwrap().to_owned();
    env.join(&employee_id, &m.org, Role::Employee).await;
    let body = json!({"organization": m.org, "email": "left@example.com", "owner_id": employee_id});
    let (status, c) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    remove(&env, &m, &employee_id).await;
    let report = crm_tests::invariants::check(&env.scan().await);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.contains("owner's membership")),
        "{:?}",
        report.violations
    );
    let departed = crm_tests::invariants::departed_owners(&env.scan().await);
    assert_eq!(departed.len(), 1);
    for (org, owner) in departed {
        assert_eq!(
            env.app
                .store
                .unassign_departed_owner(org, owner)
                .await
                .unwrap(),
            1
        );
    }
    assert!(owned_by(&env, &m, &employee_id).await.is_empty());
    env.assert_invariants().await;
}

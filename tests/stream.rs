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

/// The jobs the records of `event` ask for, in order.
fn jobs_of(event: &aws_lambda_events::event::dynamodb::Event) -> Vec<shared::stream::Job> {
    event
        .records
        .iter()
        .filter_map(shared::stream::Job::of)
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
    let jobs = jobs_of(&before);
    assert!(
        jobs.iter()
            .all(|job| !matches!(job, shared::stream::Job::UnassignOwner { .. })),
        "no membership was removed yet, only mail sent and emails verified: {jobs:?}"
    );

    remove(&env, &m, &employee_id).await;
    let event = env.stream_event(&mut reader).await;
    let jobs = jobs_of(&event);
    // The filter also passes the user item's new role list, which asks for nothing.
    assert_eq!(
        event.records.len(),
        2,
        "the removed membership, the user item"
    );
    assert_eq!(jobs.len(), 1, "the removed membership: {jobs:?}");
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
    let jobs = jobs_of(&event);
    // Two users verified their emails (a copy to bring in step each); the joining changed
    // the employee's user item too, but not what a copy holds: no job for it.
    assert_eq!(jobs.len(), 5, "{jobs:?}");
    let mails = jobs
        .iter()
        .filter(|job| matches!(job, shared::stream::Job::SendMail(_)))
        .count();
    assert_eq!(mails, 3, "{jobs:?}");
    let mut copied: Vec<String> = jobs
        .iter()
        .filter_map(|job| match job {
            shared::stream::Job::CopyMember(user) => Some(user.to_string()),
            _ => None,
        })
        .collect();
    copied.sort();
    let mut verified = vec![m.user.clone(), employee_id.clone()];
    verified.sort();
    assert_eq!(copied, verified, "{jobs:?}");
    remove(&env, &m, &employee_id).await;
    let removal = env.stream_event(&mut reader).await;
    let jobs = jobs_of(&removal);
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

/// The members of `m`'s organization as listed.
async fn members(env: &TestEnv, org: &str, token: &str) -> Vec<Value> {
    let path = format!("/api/organizations/{org}/members/");
    let list = with_token(request(Method::GET, &path, None, Body::Empty), token);
    let (status, page) = env.send(Function::Teams, list).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["members"].as_array().unwrap().clone()
}

/// A founder signs up unverified; verifying the email changes the user item, whose stream
/// record brings the copy their organization lists them by in step, once however often the
/// batch comes.
#[tokio::test]
async fn a_members_listed_copy_follows_their_verified_email() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let (org, token) = (
        jane["organization"]["id"].as_str().unwrap(),
        jane["access_token"].as_str().unwrap(),
    );
    assert_eq!(members(&env, org, token).await[0]["email_verified"], false);
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    env.verify_email(&jane).await;
    let event = env.stream_event(&mut reader).await;
    let jobs = jobs_of(&event);
    let user = shared::domain::UserId::parse(jane["user"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(jobs, [shared::stream::Job::CopyMember(user)]);
    // Listed as before until the job runs: the copy follows the stream, seconds behind.
    assert_eq!(members(&env, org, token).await[0]["email_verified"], false);

    let (mailer, _) = env.mailbox().await;
    env.calls.take();
    let answer = shared::stream::handle(&env.app, &mailer, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(env.calls.take(), ["GetItem", "UpdateItem"]);
    let listed = members(&env, org, token).await;
    assert_eq!(listed[0]["email_verified"], true, "{listed:?}");
    assert_eq!(listed[0]["first_name"], jane["user"]["first_name"]);

    // Delivered again: the copy is in step already, so the update's condition refuses it.
    let before = env.scan().await;
    env.calls.take();
    let again = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(env.calls.take(), ["GetItem", "UpdateItem"]);
    assert_eq!(env.scan().await, before, "nothing changed");
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

/// A copy job that never ran (its batch in the failure queue): `check-table` names the
/// users listed by out-of-date copies, and `--repair` runs the same job.
#[tokio::test]
async fn check_table_names_out_of_date_copies_and_repair_brings_them_in_step() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let items = env.scan().await;
    assert!(crm_tests::invariants::stale_member_copies(&items).is_empty());
    env.verify_email(&jane).await;
    let stale = crm_tests::invariants::stale_member_copies(&env.scan().await);
    assert_eq!(stale.len(), 1, "jane's copy, still unverified");
    assert_eq!(stale[0].to_string(), jane["user"]["id"].as_str().unwrap());
    assert_eq!(env.app.store.copy_member_names(stale[0]).await.unwrap(), 1);
    assert!(crm_tests::invariants::stale_member_copies(&env.scan().await).is_empty());
    env.assert_invariants().await;
}

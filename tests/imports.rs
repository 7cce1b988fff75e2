//! POST /api/customers/batch: upsert by email, each row on its own. Every status, duplicates
//! inside a batch, a batch sent twice, a replayed key, the calls a batch makes, and batches
//! racing on the same emails, each test ending with the table's invariants.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crm_tests::{post_json, read, with_token, Member, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

fn statuses(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {answer}"))
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn import(env: &TestEnv, m: &Member, rows: Value) -> Value {
    let (status, answer) = env.import_customers(&m.token, &m.org, &rows).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn by_email(env: &TestEnv, m: &Member, email: &str) -> Vec<Value> {
    let path = format!("/api/customers?organization={}&email={email}", m.org);
    let (status, page) = env.get_customers(&m.token, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["customers"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_row_is_created_updated_unchanged_invalid_or_in_conflict_on_its_own() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let (status, held) = env
        .create_customer(
            &m.token,
            &json!({"organization": m.org, "email": "held@example.com", "code": "HELD-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let (status, kept) = env
        .create_customer(
            &m.token,
            &json!({"organization": m.org, "email": "kept@example.com", "name": "Kept"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    env.calls.take();
    let answer = import(
        &env,
        &m,
        json!([
            {"email": "new@example.com", "name": "Nova", "tags": ["import"]},
            {"email": "held@example.com", "status": "vip", "phone": ""},
            {"email": "kept@example.com", "name": "Kept"},
            {"email": "not an email", "status": "gone"},
            {"email": "NEW@example.com", "name": "Again"},
            {"email": "odd@example.com", "colour": "red"}
        ]),
    )
    .await;
    assert_eq!(
        statuses(&answer),
        [
            "created",
            "updated",
            "unchanged",
            "invalid",
            "invalid",
            "invalid"
        ]
    );
    let results = &answer["results"];
    assert_eq!(results[1]["id"], held["id"]);
    assert_eq!(results[2]["id"], kept["id"]);
    assert!(
        results[3]["errors"]["email"].is_string() && results[3]["errors"]["status"].is_string()
    );
    assert_eq!(
        results[4]["errors"]["email"],
        "is the email of row 0 of this batch"
    );
    assert!(results[5]["errors"]["colour"].is_string());
    // One BatchGetItem for every row's claim, a transaction for the creation, the update's
    // own read and transaction, and nothing for the unchanged row or the refused ones.
    let calls = env.calls.take();
    let count = |op: &str| calls.iter().filter(|c| c.as_str() == op).count();
    assert_eq!(count("BatchGetItem"), 2, "{calls:?}");
    assert_eq!(count("TransactWriteItems"), 2, "{calls:?}");
    assert_eq!(calls.len(), 4, "{calls:?}");

    // Another customer's code: the creation is cancelled on the code's claim. (In a batch
    // with the change of the code's holder, both transactions name that claim, which
    // carries its customer: on AWS they may conflict, and the loser tries again.)
    let answer = import(
        &env,
        &m,
        json!([{"email": "other@example.com", "code": "HELD-1"}]),
    )
    .await;
    assert_eq!(statuses(&answer), ["conflict"]);
    assert!(
        answer["results"][0]["errors"]["code"].is_string(),
        "{answer}"
    );

    let updated = &by_email(&env, &m, "held@example.com").await[0];
    assert_eq!(updated["status"], "vip");
    assert_eq!(updated["code"], "HELD-1", "left out, left alone");
    let created = &by_email(&env, &m, "new@example.com").await[0];
    assert_eq!(created["name"], "Nova");
    assert_eq!(created["tags"], json!(["import"]));
    assert!(by_email(&env, &m, "other@example.com").await.is_empty());
    env.assert_invariants().await;
}

#[tokio::test]
async fn the_same_batch_sent_again_changes_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let rows: Vec<Value> = (0..40)
        .map(|i| json!({"email": format!("r{i}@example.com"), "name": format!("Row {i}"), "status": "prospect"}))
        .collect();
    let first = import(&env, &m, json!(rows)).await;
    assert!(statuses(&first).iter().all(|s| s == "created"), "{first}");
    let before = env.item_count().await;
    env.calls.take();
    let again = import(&env, &m, json!(rows)).await;
    assert!(statuses(&again).iter().all(|s| s == "unchanged"), "{again}");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "a batch that changes nothing is one read"
    );
    for (a, b) in first["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["results"].as_array().unwrap())
    {
        assert_eq!(a["id"], b["id"]);
    }
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_key_replays_the_first_answer_and_a_bad_batch_writes_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "customers": [{"email": "once@example.com"}]});
    let send = |key: &'static str, body: Value| {
        let mut request = with_token(post_json("/api/customers/batch/", &body), &m.token);
        request
            .headers_mut()
            .insert("Idempotency-Key", key.parse().unwrap());
        let app = &env.app;
        async move {
            let response = shared::http::Function::ChangeCustomer
                .handle(app, request)
                .await
                .unwrap();
            let replayed = response.headers().contains_key("Idempotent-Replayed");
            let (status, answer) = read(response);
            (status, answer, replayed)
        }
    };
    let (status, first, replayed) = send("k-1", body.clone()).await;
    assert_eq!((status, replayed), (StatusCode::OK, false), "{first}");
    assert_eq!(statuses(&first), ["created"]);
    let (status, again, replayed) = send("k-1", body.clone()).await;
    assert_eq!((status, replayed), (StatusCode::OK, true));
    assert_eq!(again, first, "the first answer, created, not unchanged");
    let other = json!({"organization": m.org, "customers": [{"email": "twice@example.com"}]});
    let (status, _, _) = send("k-1", other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let before = env.item_count().await;
    for (rows, field) in [
        (json!([]), "customers"),
        (json!([{"email": "a@example.com"}, 7]), "customers"),
        (
            json!((0..101)
                .map(|i| json!({"email": format!("x{i}@example.com")}))
                .collect::<Vec<_>>()),
            "customers",
        ),
    ] {
        let (status, answer) = env.import_customers(&m.token, &m.org, &rows).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_row_links_an_unlinked_customer_and_never_moves_a_link() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let sam = env.member().await;
    let kim = env.member().await;
    let answer = import(
        &env,
        &m,
        json!([{"email": "sam@example.com"}, {"email": "kim@example.com", "user_id": kim.user}]),
    )
    .await;
    assert_eq!(statuses(&answer), ["created", "created"]);
    let answer = import(
        &env,
        &m,
        json!([
            {"email": "sam@example.com", "user_id": sam.user},
            {"email": "kim@example.com", "user_id": sam.user}
        ]),
    )
    .await;
    assert_eq!(statuses(&answer), ["updated", "conflict"], "{answer}");
    assert!(answer["results"][1]["errors"]["user_id"].is_string());
    let linked = &by_email(&env, &m, "sam@example.com").await[0];
    assert_eq!(linked["user_id"], json!(sam.user));
    let kept = &by_email(&env, &m, "kim@example.com").await[0];
    assert_eq!(kept["user_id"], json!(kim.user));
    env.assert_invariants().await;
}

/// Twenty batches at once over thirty emails, each batch ten of them: every email ends with
/// exactly one customer, created by exactly one row, and every row is accounted for.
#[tokio::test]
async fn racing_batches_on_the_same_emails_create_each_customer_once() {
    let env = Arc::new(TestEnv::new().await);
    let m = Arc::new(env.member().await);
    let batches: Vec<Vec<String>> = (0..20)
        .map(|b| {
            (0..10)
                .map(|i| format!("e{}@example.com", (b * 7 + i * 3) % 30))
                .collect()
        })
        .collect();
    let tasks: Vec<_> = batches
        .iter()
        .enumerate()
        .map(|(b, emails)| {
            let (env, m) = (env.clone(), m.clone());
            let rows: Vec<Value> = emails
                .iter()
                .map(|e| json!({"email": e, "name": format!("Batch {b}")}))
                .collect();
            tokio::spawn(async move {
                let (status, answer) = env.import_customers(&m.token, &m.org, &json!(rows)).await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                answer
            })
        })
        .collect();
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut retried: HashSet<String> = HashSet::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for (task, emails) in tasks.into_iter().zip(&batches) {
        let answer = task.await.unwrap();
        for (status, email) in statuses(&answer).into_iter().zip(emails) {
            assert!(
                ["created", "updated", "unchanged", "retry"].contains(&status.as_str()),
                "{email}: {answer}"
            );
            if status == "created" {
                *created.entry(email.clone()).or_default() += 1;
            }
            if status == "retry" {
                retried.insert(email.clone());
            }
            *tally.entry(status).or_default() += 1;
        }
    }
    assert_eq!(tally.values().sum::<usize>(), 200, "every row has a result");
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    for email in created.keys() {
        assert_eq!(by_email(&env, &m, email).await.len(), 1, "{email}");
    }
    let listed = env
        .get_customers(
            &m.token,
            &format!("/api/customers?organization={}&limit=100", m.org),
        )
        .await
        .1;
    // "retry" means the outcome is not known (the batch's time ran out, or an answer was
    // lost after its write committed, as under a loaded machine): such a row may have
    // created its customer. Every other customer was created by a row that says so.
    let own = m.signup["user"]["email"].as_str().unwrap();
    let listed: Vec<String> = listed["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_owned())
        .filter(|email| email != own)
        .collect();
    for email in &listed {
        assert!(
            created.contains_key(email) || retried.contains(email),
            "{email}: a customer no row created: {tally:?}"
        );
    }
    assert!(
        created.keys().all(|email| listed.contains(email)),
        "{tally:?}"
    );
    println!("racing batches: {tally:?}");
    env.assert_invariants().await;
}

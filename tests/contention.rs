//! DynamoDB's transaction conflict rule: the front that applies it, and the API under it.
//!
//! Every test here runs on the conflict-faithful front whatever the environment says. The
//! races of one user or one username (tests/customers.rs, tests/signup.rs) run on it in
//! `make test`'s second pass.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use crm_tests::{Item, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::json;

const WINDOW: Duration = Duration::from_millis(10);

async fn conflicting() -> TestEnv {
    TestEnv::with_conflict_window(Some(WINDOW)).await
}

fn key(pk: &str) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S("X".to_owned())),
    ])
}

fn put(table: &str, pk: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(key(pk)))
        .build()
        .unwrap();
    TransactWriteItem::builder().put(put).build()
}

fn check(table: &str, pk: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .unwrap();
    TransactWriteItem::builder().condition_check(check).build()
}

/// The reason codes of a cancelled transaction, in action order.
fn reasons(error: &TransactWriteItemsError) -> Vec<String> {
    match error {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("not a cancellation: {other:?}"),
    }
}

// The front itself.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlapping_transaction_is_cancelled_at_the_shared_items_only() {
    let env = TestEnv::with_conflict_window(Some(Duration::from_millis(400))).await;
    let first = env
        .client
        .transact_write_items()
        .transact_items(put(&env.table, "A"))
        .transact_items(put(&env.table, "B"))
        .send();
    let first = tokio::spawn(first);
    env.front.transactions_committed(1).await;

    // C is free, B is held (a ConditionCheck counts like any other action).
    let second = env
        .client
        .transact_write_items()
        .transact_items(put(&env.table, "C"))
        .transact_items(check(&env.table, "B"))
        .send()
        .await
        .expect_err("B is in another transaction");
    let error = second.as_service_error().expect("a service error");
    assert_eq!(reasons(error), ["None", "TransactionConflict"]);
    // A single-item write to a held item is refused outright; a read passes.
    let single = env
        .client
        .put_item()
        .table_name(&env.table)
        .set_item(Some(key("A")))
        .send()
        .await
        .expect_err("A is in another transaction");
    assert!(
        single
            .as_service_error()
            .is_some_and(|e| e.is_transaction_conflict_exception()),
        "{single:?}"
    );
    let read = env
        .client
        .get_item()
        .table_name(&env.table)
        .set_key(Some(key("A")))
        .send()
        .await
        .expect("reads never conflict");
    assert!(read.item.is_some(), "the server has committed A already");

    first.await.unwrap().expect("the first transaction commits");
    assert!(
        env.get(&shared::store::keys::Key {
            pk: "C".into(),
            sk: "X".into()
        })
        .await
        .is_none(),
        "the cancelled one wrote nothing"
    );
    let stats = env.front.stats();
    assert_eq!(
        (stats.transactions, stats.conflicts, stats.write_conflicts),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn holds_end_with_the_window_and_a_cancelled_transaction_releases_at_once() {
    let env = conflicting().await;
    let send = |pks: &[&str]| {
        let mut tx = env.client.transact_write_items();
        for pk in pks {
            tx = tx.transact_items(check(&env.table, pk));
        }
        tx.send()
    };
    send(&["A"]).await.expect("free");
    send(&["A"])
        .await
        .expect("the first one's answer came after its hold ended");
    env.client
        .put_item()
        .table_name(&env.table)
        .set_item(Some(key("T")))
        .send()
        .await
        .unwrap();
    let refused = send(&["T"]).await.expect_err("T exists");
    assert_eq!(
        reasons(refused.as_service_error().unwrap()),
        ["ConditionalCheckFailed"]
    );
    send(&["A", "B"])
        .await
        .expect("nothing held T's neighbours");
    assert_eq!(env.front.stats().conflicts, 0);
}

// The API under the rule.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creations_in_one_organization_never_conflict() {
    let env = Arc::new(conflicting().await);
    let m = env.member().await;
    let owner_token = m.token.clone();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let env = Arc::clone(&env);
            let token = owner_token.clone();
            let body = json!({"organization": m.org, "email": format!("c{i}@example.com")});
            tokio::spawn(async move { env.create_customer(&token, &body).await })
        })
        .collect();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let stats = env.front.stats();
    println!("50 creations in one organization: {stats:?}");
    assert_eq!(stats.conflicts, 0, "no two creations name a common item");
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems"; 50],
        "one call each, nothing retried"
    );
    env.assert_invariants().await;
}

/// The capacity meter reports what DynamoDB bills: a transaction writes each item twice
/// (2 units per put under 1 KB), an index once more; a consistent read of an item under
/// 4 KB is 1 unit.
#[tokio::test]
async fn the_front_meters_capacity_as_dynamodb_bills_it() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    env.front.meter_capacity();
    let body = json!({"organization": owner.org, "email": "metered@example.com"});
    let (status, customer) = env.create_customer(&owner.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    // CUSTOMER, CUSTOMER_EMAIL, CUSTOMER_CODE, a row in each of the 3 orders, its status,
    // type and (no) owner, and its 5 words (metered, example, com, and the code's two):
    // 14 items × 2, none over 1 KB. (Before search: 3 × 2 and 1 in gsi1.)
    let written = env.front.take_capacity();
    assert_eq!((written.read, written.write), (0.0, 28.0));
    let one = format!("/api/customers/{}/", customer["id"].as_str().unwrap());
    let (status, _) = env.get_customers(&owner.token, &one).await;
    assert_eq!(status, StatusCode::OK);
    let read = env.front.take_capacity();
    assert_eq!((read.read, read.write), (1.0, 0.0));
    assert_eq!(env.front.take_capacity(), Default::default());
    env.assert_invariants().await;
}

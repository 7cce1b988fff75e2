//! What every DynamoDB failure is answered with, and that none leaves anything written.
//!
//! Faults are injected in the SDK's HTTP path (see `DynamoFront`), as DynamoDB or the network
//! would produce them. Each test ends with the table's invariant check.

use std::time::Duration;

use crm_tests::{post_json, read, with_token, Fault, TestEnv};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};

async fn create(env: &TestEnv, token: &str, body: &Value) -> Response<Body> {
    shared::http::Function::CreateCustomer
        .handle(
            &env.app,
            with_token(post_json("/api/customers/", body), token),
        )
        .await
        .expect("handlers answer every request")
}

/// Sends a customer creation for another user (a read, then a write) while `fault` is
/// scripted for `count` calls of `operation`; checks the answer's status and that nothing
/// was written.
async fn expect_answer(
    operation: &'static str,
    fault: Fault,
    count: usize,
    expected: StatusCode,
) -> Value {
    let env = TestEnv::impatient().await;
    let m = env.member().await;
    let other = env.member().await;
    let before = env.item_count().await;
    env.front.fail_next(operation, fault.clone(), count);
    let body = json!({"organization": m.org, "user_id": other.user, "email": "a@example.com"});
    let response = create(&env, &m.token, &body).await;
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let (status, answer) = read(response);
    assert_eq!(status, expected, "{operation} {fault:?}: {answer}");
    if expected == StatusCode::SERVICE_UNAVAILABLE {
        assert!(retry_after.is_some(), "503 says when to retry");
        assert_eq!(answer["error"]["code"], "service_unavailable");
    }
    assert_eq!(env.item_count().await, before, "{fault:?}: nothing written");
    env.assert_invariants().await;
    answer
}

#[tokio::test]
async fn throttled_cancellations_are_503_with_retry_after() {
    for code in [
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    ] {
        expect_answer(
            "TransactWriteItems",
            Fault::Cancelled(code),
            1,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    }
}

#[tokio::test]
async fn throttling_that_outlasts_the_sdks_retries_is_503() {
    for operation in ["TransactWriteItems", "BatchGetItem"] {
        expect_answer(
            operation,
            Fault::Error(400, "ThrottlingException"),
            3,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    }
    expect_answer(
        "TransactWriteItems",
        Fault::Error(400, "ProvisionedThroughputExceededException"),
        3,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_or_stalled_store_is_503() {
    expect_answer(
        "TransactWriteItems",
        Fault::Unreachable,
        3,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    expect_answer(
        "TransactWriteItems",
        Fault::Stall(Duration::from_secs(2)),
        3,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
}

#[tokio::test]
async fn a_validation_error_is_a_500_that_says_nothing_internal() {
    for fault in [
        Fault::Cancelled("ValidationError"),
        Fault::Error(400, "ValidationException"),
    ] {
        let answer = expect_answer(
            "TransactWriteItems",
            fault,
            1,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
        assert_eq!(answer["error"]["code"], "internal_error");
        let text = answer.to_string();
        for secret in ["Validation", "injected", "TransactWrite", "pk", "ORG#"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

#[tokio::test]
async fn a_fault_the_sdk_outlives_changes_nothing_for_the_client() {
    // One throttled attempt and one lost connection: the SDK's own retries absorb both.
    for fault in [Fault::Error(400, "ThrottlingException"), Fault::Unreachable] {
        let env = TestEnv::impatient().await;
        let m = env.member().await;
        env.front.fail_next("TransactWriteItems", fault.clone(), 1);
        let body = json!({"organization": m.org, "email": "a@example.com"});
        let (status, answer) = read(create(&env, &m.token, &body).await);
        assert_eq!(status, StatusCode::CREATED, "{fault:?}: {answer}");
        env.assert_invariants().await;
    }
}

#[tokio::test]
async fn a_lost_answer_is_retried_with_the_same_token_and_applied_once() {
    let env = TestEnv::impatient().await;
    let m = env.member().await;
    let before = env.item_count().await;
    // The write reaches the table, its answer does not; the SDK sends it again with the same
    // ClientRequestToken, which DynamoDB answers without applying it twice.
    env.front
        .fail_next("TransactWriteItems", Fault::LoseAnswer, 1);
    let body = json!({"organization": m.org, "email": "lost@example.com"});
    let (status, answer) = read(create(&env, &m.token, &body).await);
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        env.item_count().await,
        before + 3 + crm_tests::index_items(&answer),
        "one record, its two claims, rows, filter entries and words"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn sign_up_and_reads_map_store_faults_the_same_way() {
    let env = TestEnv::impatient().await;
    let m = env.member().await;
    let before = env.item_count().await;
    env.front
        .fail_next("TransactWriteItems", Fault::Cancelled("ThrottlingError"), 1);
    let (status, answer) = env.signup(&crm_tests::sample_signup()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    env.front
        .fail_next("Query", Fault::Error(400, "ThrottlingException"), 3);
    let (status, answer) = env
        .get_customers(&m.token, &format!("/api/customers/?organization={}", m.org))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    env.front.fail_next("GetItem", Fault::Unreachable, 3);
    let id = m.signup["customer"]["id"].as_str().unwrap();
    let (status, answer) = env
        .get_customers(&m.token, &format!("/api/customers/{id}/"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

/// A single-item write to an item that a transaction has in flight is refused with
/// `TransactionConflictException` (a log-out while the same session refreshes): a 503 the
/// client retries, not a 500, and the session is as it was.
#[tokio::test]
async fn a_write_refused_for_a_transaction_in_flight_is_503() {
    let env = TestEnv::impatient().await;
    let m = env.member().await;
    let before = env.scan().await;
    env.front.fail_next(
        "UpdateItem",
        Fault::Error(400, "TransactionConflictException"),
        3,
    );
    let body = json!({"refresh_token": m.signup["refresh_token"]});
    let response = shared::http::Function::Session
        .handle(&env.app, post_json("/api/auth/logout", &body))
        .await
        .unwrap();
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(env.scan().await.len(), before.len());
    env.assert_invariants().await;
}

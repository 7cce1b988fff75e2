//! What every function's main runs: the panic guard and the cold-start warm-up.

use crm_tests::{post_json, read, with_token, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::http::Function;

#[tokio::test]
async fn a_panic_answers_a_json_500_and_the_process_serves_the_next_request() {
    // Lives as long as the test process, as the App does in a Lambda execution environment.
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::new().await));
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "after@example.com"});
    let mut request = with_token(post_json("/api/customers/", &body), &m.token);
    request
        .headers_mut()
        .insert(shared::serve::PANIC_HEADER, "1".parse().unwrap());
    let response = shared::serve::guarded(&env.app, request, Function::CreateCustomer)
        .await
        .expect("a panic is an answer, not an error");
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer["error"]["code"], "internal_error");
    assert!(env.calls.take().is_empty(), "it panicked before any work");

    let request = with_token(post_json("/api/customers/", &body), &m.token);
    let response = shared::serve::guarded(&env.app, request, Function::CreateCustomer)
        .await
        .unwrap();
    assert_eq!(
        read(response).0,
        StatusCode::CREATED,
        "the same process serves on"
    );
}

#[tokio::test]
async fn the_warm_up_is_one_read_and_never_fails_init() {
    let env = TestEnv::new().await;
    shared::serve::warm_up(&env.app).await;
    assert_eq!(env.calls.take(), ["GetItem"]);
    assert_eq!(env.item_count().await, 0, "it writes nothing");

    let down = crm_tests::app_with_store_down().await;
    let started = std::time::Instant::now();
    shared::serve::warm_up(&down).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "bounded: {:?}",
        started.elapsed()
    );
}

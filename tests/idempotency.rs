//! `Idempotency-Key`: a retried POST has exactly one effect and gets the first answer.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use crm_tests::{key, post_json, read, s, sample_signup, with_token, Fault, TestEnv};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};

/// Status, JSON body, and whether the answer was a replay.
fn answer(response: Response<Body>) -> (StatusCode, Value, bool) {
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .is_some_and(|v| v == "true");
    let (status, body) = read(response);
    (status, body, replayed)
}

async fn create(env: &TestEnv, token: &str, key: &str, body: &Value) -> (StatusCode, Value, bool) {
    let mut request = with_token(post_json("/api/customers/", body), token);
    request
        .headers_mut()
        .insert("Idempotency-Key", key.parse().unwrap());
    answer(
        shared::http::Function::CreateCustomer
            .handle(&env.app, request)
            .await
            .unwrap(),
    )
}

async fn sign_up(env: &TestEnv, key: &str, body: &Value) -> (StatusCode, Value, bool) {
    let mut request = post_json("/api/users/", body);
    request
        .headers_mut()
        .insert("Idempotency-Key", key.parse().unwrap());
    answer(
        shared::http::Function::Signup
            .handle(&env.app, request)
            .await
            .unwrap(),
    )
}

async fn records(env: &TestEnv) -> usize {
    env.scan()
        .await
        .iter()
        .filter(|i| s(i, "entity") == "IDEMPOTENCY")
        .count()
}

#[tokio::test]
async fn a_repeat_gets_the_first_answer_at_one_call_and_writes_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "pat@example.com"});
    let (status, first, replayed) = create(&env, &m.token, "key-1", &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{first}");
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems"],
        "the record rides along"
    );
    let before = env.item_count().await;

    let (status, again, replayed) = create(&env, &m.token, "key-1", &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{again}");
    assert_eq!(again, first);
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems"],
        "answered from the cancellation"
    );
    env.assert_untouched(before).await;

    // Linking another user: the record is read with the user, in the same call.
    let other = env.member().await;
    let link = json!({"organization": m.org, "user_id": other.user, "email": "o@example.com"});
    let (status, linked, _) = create(&env, &m.token, "key-2", &link).await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let (status, again, replayed) = create(&env, &m.token, "key-2", &link).await;
    assert_eq!(
        (status, replayed, &again),
        (StatusCode::CREATED, true, &linked)
    );
    assert_eq!(env.calls.take(), ["BatchGetItem"]);
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_lost_answer_is_retried_by_the_client_and_replayed() {
    let env = TestEnv::impatient().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "lost@example.com"});
    // The write commits; every answer to it, the SDK's own retries included, is lost.
    env.front
        .fail_next("TransactWriteItems", Fault::LoseAnswer, 3);
    let (status, lost, _) = create(&env, &m.token, "retry-me", &body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{lost}");
    let (status, retried, replayed) = create(&env, &m.token, "retry-me", &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{retried}");
    let stored = env
        .get(&key::customer(retried["id"].as_str().unwrap()))
        .await;
    assert!(
        stored.is_some(),
        "the answer names the customer the first try made"
    );
    assert_eq!(records(&env).await, 1);
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_requests_with_one_key_have_one_effect() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "once@example.com"});
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let env = Arc::clone(&env);
            let token = m.token.clone();
            let body = body.clone();
            tokio::spawn(async move { create(&env, &token, "same-key", &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    println!("20 requests with one key: {:?}", env.front.stats());
    let first = answers
        .iter()
        .find(|(_, _, replayed)| !replayed)
        .expect("one first answer");
    assert_eq!(
        answers.iter().filter(|(_, _, replayed)| !replayed).count(),
        1
    );
    for (status, body, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["id"], first.1["id"]);
    }
    let customers = env
        .scan()
        .await
        .iter()
        .filter(|i| s(i, "entity") == "CUSTOMER" && s(i, "email") == "once@example.com")
        .count();
    assert_eq!(customers, 1);
    assert_eq!(records(&env).await, 1);
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_key_used_for_another_body_is_422_and_writes_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let first = json!({"organization": m.org, "email": "a@example.com"});
    assert_eq!(
        create(&env, &m.token, "k", &first).await.0,
        StatusCode::CREATED
    );
    let before = env.item_count().await;
    let other = json!({"organization": m.org, "email": "b@example.com"});
    let (status, answer, _) = create(&env, &m.token, "k", &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "idempotency_key_reused");
    // The same fields in another order are the same request.
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{"email":"a@example.com","organization":"{}"}}"#,
        m.org
    ))
    .unwrap();
    assert!(create(&env, &m.token, "k", &reordered).await.2, "replayed");
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn keys_are_per_caller_failures_are_not_kept_and_records_expire() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let b = env.member().await;
    let for_a = json!({"organization": a.org, "email": "x@example.com"});
    assert_eq!(
        create(&env, &a.token, "shared", &for_a).await.0,
        StatusCode::CREATED
    );
    let for_b = json!({"organization": b.org, "email": "x@example.com"});
    let (status, _, replayed) = create(&env, &b.token, "shared", &for_b).await;
    assert_eq!(
        (status, replayed),
        (StatusCode::CREATED, false),
        "another caller's key"
    );

    // A refusal is not kept: the same key runs again, with a corrected body.
    let taken = json!({"organization": a.org, "email": "x@example.com"});
    assert_eq!(
        create(&env, &a.token, "fix-me", &taken).await.0,
        StatusCode::CONFLICT
    );
    let fixed = json!({"organization": a.org, "email": "y@example.com"});
    let (status, _, replayed) = create(&env, &a.token, "fix-me", &fixed).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));

    // Expired (TTL removes records late): counts as absent, so the request runs again.
    for item in env
        .scan()
        .await
        .iter()
        .filter(|i| s(i, "entity") == "IDEMPOTENCY")
    {
        env.admin
            .update_item()
            .table_name(&env.table)
            .key("pk", item["pk"].clone())
            .key("sk", item["sk"].clone())
            .update_expression("SET expires_at = :past")
            .expression_attribute_values(":past", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
    }
    let (status, answer, replayed) = create(&env, &a.token, "shared", &for_a).await;
    assert_eq!(
        (status, replayed),
        (StatusCode::CONFLICT, false),
        "ran again: {answer}"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_malformed_key_is_a_400_naming_the_header() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "a@example.com"});
    for bad in ["", &"k".repeat(256), "a b"] {
        let mut request = with_token(post_json("/api/customers/", &body), &m.token);
        request
            .headers_mut()
            .insert("Idempotency-Key", bad.parse().unwrap());
        let (status, answer) = read(
            shared::http::Function::CreateCustomer
                .handle(&env.app, request)
                .await
                .unwrap(),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {answer}");
        assert!(
            answer["error"]["fields"]["Idempotency-Key"].is_string(),
            "{answer}"
        );
    }
    assert!(env.calls.take().is_empty());
}

/// API Gateway (payload 2.0) hands a header sent twice over as one value joined with a
/// comma: `Idempotency-Key: k1` and `Idempotency-Key: k2` arrive as `k1,k2`. Neither key is
/// picked, and nothing is written.
#[tokio::test]
async fn two_keys_joined_by_api_gateway_are_refused_as_aws_delivers_them() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut event = crm_tests::event_json("create-customer-idempotent.json");
    event["headers"]["authorization"] = json!(format!("Bearer {}", m.token));
    event["headers"]["idempotency-key"] = json!("k1,k2");
    let body = json!({"organization": m.org, "email": "joined.keys@example.com"});
    event["body"] = json!(body.to_string());
    let request = lambda_http::request::from_str(&event.to_string()).expect("an event");
    let before = env.item_count().await;
    let (status, answer) = read(
        shared::http::Function::CreateCustomer
            .handle(&env.app, request)
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let message = answer["error"]["fields"]["Idempotency-Key"]
        .as_str()
        .unwrap();
    assert!(message.contains("once"), "{message}");
    assert!(env.calls.take().is_empty());
    env.assert_untouched(before).await;
}

#[tokio::test]
async fn a_retried_sign_up_is_replayed_with_a_fresh_access_token_for_the_same_password_only() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let (status, first, _) = sign_up(&env, "signup-1", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    env.calls.take();
    let before = env.item_count().await;

    let (status, again, replayed) = sign_up(&env, "signup-1", &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{again}");
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems", "UpdateItem", "DeleteItem"],
        "the cancelled write, and the password check taken and given back as a log-in's"
    );
    for field in ["user", "organization", "profiles", "vendor", "customer"] {
        assert_eq!(again[field], first[field], "{field}");
    }
    let caller = env
        .app
        .tokens
        .verify(again["access_token"].as_str().unwrap())
        .expect("a working access token");
    assert_eq!(
        caller.user.to_string(),
        first["user"]["id"].as_str().unwrap()
    );
    assert!(
        again.get("refresh_token").is_none(),
        "refresh tokens are never kept"
    );

    // The key and the body without the password do not make a caller.
    let mut guessed = body.clone();
    guessed["password"] = json!("another password!");
    let (status, answer, _) = sign_up(&env, "signup-1", &guessed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer.get("access_token").is_none());
    // Nothing but the account's failure record: the guess counts as a failed log-in.
    let user = first["user"]["id"].as_str().unwrap();
    let failures = env.get(&key::account_login_failures(user)).await.unwrap();
    assert_eq!(s(&failures, "entity"), "LOGIN_FAILURES");
    env.assert_untouched(before + 1).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn answers_without_a_key_are_unchanged() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "a@example.com"});
    let response = shared::http::Function::CreateCustomer
        .handle(
            &env.app,
            with_token(post_json("/api/customers/", &body), &m.token),
        )
        .await
        .unwrap();
    assert!(response.headers().get("Idempotent-Replayed").is_none());
    assert!(response.headers().get(header::RETRY_AFTER).is_none());
    assert_eq!(read(response).0, StatusCode::CREATED);
    assert_eq!(records(&env).await, 0);
}

#[tokio::test]
async fn the_idempotent_sample_event_is_answered_twice_alike() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let send = || {
        let request = crm_tests::event_with(
            "create-customer-idempotent.json",
            Some(&m.token),
            &json!({"organization": m.org}),
        );
        let app = &env.app;
        async move {
            answer(
                shared::http::Function::CreateCustomer
                    .handle(app, request)
                    .await
                    .unwrap(),
            )
        }
    };
    let (status, first, replayed) = send().await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{first}");
    let (status, again, replayed) = send().await;
    assert_eq!(
        (status, replayed, again),
        (StatusCode::CREATED, true, first)
    );
}

/// One key, one request: the same key on a PATCH and then a DELETE of the same customer (or
/// the other way round) is a key reused, and the second never runs.
#[tokio::test]
async fn a_key_used_for_a_patch_is_refused_for_a_delete_and_back() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut ids = Vec::new();
    for email in ["k1@example.com", "k2@example.com"] {
        let body = json!({"organization": m.org, "email": email});
        ids.push(
            env.create_customer(&m.token, &body).await.1["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let key = [("Idempotency-Key", "shared-key")];
    let (status, _, _) = env
        .change_customer(&m.token, &ids[0], Some(&json!({})), &key)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer, _) = env.change_customer(&m.token, &ids[0], None, &key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "idempotency_key_reused");
    assert!(
        env.get(&key::customer(&ids[0])).await.is_some(),
        "not deleted"
    );

    let (status, _, _) = env.change_customer(&m.token, &ids[1], None, &key).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer, _) = env
        .change_customer(&m.token, &ids[1], Some(&json!({})), &key)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    env.assert_invariants().await;
}

/// A 204 has no body and no content type, replayed or not (RFC 9110 §15.3.5).
#[tokio::test]
async fn a_replayed_delete_is_a_bare_204() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "bare@example.com"});
    let id = env.create_customer(&m.token, &body).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = [("Idempotency-Key", "delete-once")];
    for replayed in [false, true] {
        let (status, _, headers) = env.change_customer(&m.token, &id, None, &key).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(
            headers.get(header::CONTENT_TYPE).is_none(),
            "replayed: {replayed}"
        );
        assert_eq!(headers.contains_key("Idempotent-Replayed"), replayed);
    }
    let request = with_token(
        crm_tests::request(
            lambda_http::http::Method::DELETE,
            &format!("/api/customers/{id}"),
            None,
            lambda_http::Body::Empty,
        ),
        &m.token,
    );
    let request = lambda_http::RequestExt::with_path_parameters(
        crm_tests::with_header(request, "Idempotency-Key", "delete-once"),
        std::collections::HashMap::from([("id".to_owned(), id.clone())]),
    );
    let response = shared::http::Function::ChangeCustomer
        .handle(&env.app, request)
        .await
        .unwrap();
    assert!(
        matches!(response.body(), Body::Empty),
        "no body, not even null"
    );
    env.assert_invariants().await;
}

/// Two `Idempotency-Key` headers name no one request: a 400, as the comma-joined form is,
/// and nothing is written.
#[tokio::test]
async fn two_keys_are_a_400_naming_the_header() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let body = json!({"organization": m.org, "email": "twice@example.com"});
    let mut request = with_token(post_json("/api/customers/", &body), &m.token);
    for key in ["k-one", "k-two"] {
        request
            .headers_mut()
            .append("Idempotency-Key", key.parse().unwrap());
    }
    let (status, answer, _) = answer(
        shared::http::Function::CreateCustomer
            .handle(&env.app, request)
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["Idempotency-Key"].is_string());
    assert!(env.calls.take().is_empty());
    env.assert_untouched(before).await;
}

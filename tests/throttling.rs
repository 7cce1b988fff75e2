//! Log-in throttling holds per account and under concurrency, and a replayed sign-up's
//! password check is a log-in attempt like any other. Password checks are counted per hash
//! through a test hook (`shared::domain::checks`), so this binary never checks the dummy
//! hash but in the one test that counts it.

use std::sync::Arc;

use crm_tests::{key, post_json, read, s, sample_signup, with_header, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use shared::domain::{checks, DUMMY_HASH};
use shared::http::Function;

const RIGHT: &str = "correct horse battery";

async fn log_in(env: &TestEnv, name: (&str, &Value), password: &str) -> StatusCode {
    let body = json!({name.0: name.1, "password": password});
    env.send(Function::Login, post_json("/api/auth/login", &body))
        .await
        .0
}

/// The account's stored hash: what the checks are counted under.
async fn hash_of(env: &TestEnv, signup: &Value) -> String {
    let user = env
        .get(&key::user(signup["user"]["id"].as_str().unwrap()))
        .await
        .unwrap();
    s(&user, "password_hash").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_wrong_attempts_check_at_most_five_passwords() {
    let env = Arc::new(TestEnv::new().await);
    let body = sample_signup();
    let signup = env.signed_up_user_with(&body).await;
    let hash = hash_of(&env, &signup).await;
    let username = body["username"].clone();
    let attempts = (0..20).map(|_| {
        let (env, username) = (env.clone(), username.clone());
        tokio::spawn(async move { log_in(&env, ("username", &username), "wrong password!").await })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let checked = checks::of(&hash);
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    assert_eq!(refused, 20 - checked, "the rest are 429: {statuses:?}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn the_limit_is_the_accounts_whichever_name_is_used() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    env.signed_up_user_with(&body).await;
    for _ in 0..5 {
        let status = log_in(&env, ("username", &body["username"]), "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let by_email = log_in(&env, ("email", &body["email"]), RIGHT).await;
    assert_eq!(
        by_email,
        StatusCode::TOO_MANY_REQUESTS,
        "not ten guesses, five"
    );
    let by_name = log_in(&env, ("username", &body["username"]), RIGHT).await;
    assert_eq!(by_name, StatusCode::TOO_MANY_REQUESTS);
    env.assert_invariants().await;
}

async fn sign_up(env: &TestEnv, key: &str, body: &Value) -> (StatusCode, Value) {
    let request = with_header(post_json("/api/users", body), "Idempotency-Key", key);
    let response = Function::Signup.handle(&env.app, request).await.unwrap();
    read(response)
}

#[tokio::test]
async fn a_replayed_sign_up_checks_its_password_as_a_throttled_log_in() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let (status, signup) = sign_up(&env, "k-replay", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let hash = hash_of(&env, &signup).await;
    for _ in 0..5 {
        let status = log_in(&env, ("username", &body["username"]), "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let checked = checks::of(&hash);
    for password in ["another password!", RIGHT] {
        let mut retry = body.clone();
        retry["password"] = json!(password);
        let (status, answer) = sign_up(&env, "k-replay", &retry).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{password}: {answer}"
        );
        assert!(answer.get("access_token").is_none());
    }
    assert_eq!(
        checks::of(&hash),
        checked,
        "no password checked while throttled"
    );
    env.assert_invariants().await;
}

/// A replay whose body differs is answered after as much hashing as one whose password is
/// wrong: the dummy hash is checked, so timing does not tell the two apart.
#[tokio::test]
async fn a_replay_with_another_body_checks_a_dummy_hash() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    assert_eq!(sign_up(&env, "k-other", &body).await.0, StatusCode::CREATED);
    let mut other = body.clone();
    other["first_name"] = json!("Someone");
    let dummy = checks::of(DUMMY_HASH);
    let (status, answer) = sign_up(&env, "k-other", &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(checks::of(DUMMY_HASH), dummy + 1);
    env.assert_invariants().await;
}

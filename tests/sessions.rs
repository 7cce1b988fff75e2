//! Refresh tokens (rotation, reuse, log-out) and log-in throttling per name.

use aws_sdk_dynamodb::types::AttributeValue;
use crm_tests::{key, post_json, read, s, sample_signup, Member, TestEnv};
use lambda_http::http::{header, StatusCode};
use serde_json::{json, Value};
use shared::auth::RefreshToken;
use shared::domain::{OrgId, Role};
use shared::store::keys::Key;
use shared::store::REFRESH_GRACE_SECONDS;
use std::sync::Arc;
use std::time::Duration;

async fn send(env: &TestEnv, path: &str, body: &Value) -> (StatusCode, Value, Option<String>) {
    let response = shared::http::Function::Fallback
        .handle(&env.app, post_json(path, body))
        .await
        .unwrap();
    let headers = response.headers().clone();
    let status = response.status();
    let answer = if status == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        read(response).1
    };
    let cache = headers
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, answer, cache)
}

async fn refresh(env: &TestEnv, token: &str) -> (StatusCode, Value) {
    let (status, answer, cache) =
        send(env, "/api/auth/refresh/", &json!({"refresh_token": token})).await;
    if status == StatusCode::OK {
        assert_eq!(cache.as_deref(), Some("no-store"));
    }
    (status, answer)
}

fn refresh_token_of(answer: &Value) -> String {
    answer["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

async fn member(env: &TestEnv) -> (Member, String) {
    let m = env.member().await;
    let token = refresh_token_of(&m.signup);
    (m, token)
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_once_for_a_new_pair() {
    let env = TestEnv::new().await;
    let (m, first) = member(&env).await;
    let (status, answer) = refresh(&env, &first).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut calls = env.calls.take();
    calls.sort();
    assert_eq!(
        calls,
        ["GetItem", "TransactWriteItems"],
        "sent together: one round trip"
    );
    let second = refresh_token_of(&answer);
    assert_ne!(second, first);
    let caller = env
        .app
        .tokens
        .verify(answer["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        caller.role_in(OrgId::parse(&m.org).unwrap()),
        Some(Role::Owner)
    );
    // The second is good once too.
    let (status, answer) = refresh(&env, &second).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn reusing_a_rotated_token_after_the_grace_revokes_the_whole_session() {
    let mut env = TestEnv::new().await;
    let clock = env.freeze_clock();
    let (_, first) = member(&env).await;
    let (_, answer) = refresh(&env, &first).await;
    let second = refresh_token_of(&answer);

    clock.advance(Duration::from_secs(REFRESH_GRACE_SECONDS + 1));
    let (status, answer) = refresh(&env, &first).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let (status, _) = refresh(&env, &second).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the thief's copy and the owner's token die together"
    );
    // Another session of the same user is untouched.
    let (_, other) = member(&env).await;
    assert_eq!(refresh(&env, &other).await.0, StatusCode::OK);
    env.assert_invariants().await;
}

/// Two tabs, or a client retrying a refresh whose answer it lost: within the grace, the
/// token just rotated away renews to the same successor, and nobody is logged out. Exact,
/// by the test's clock: at the grace's last second it renews, one second later it is reuse.
#[tokio::test]
async fn a_token_just_rotated_away_renews_to_the_same_pair_until_the_grace_ends() {
    let mut env = TestEnv::new().await;
    let clock = env.freeze_clock();
    let (_, first) = member(&env).await;
    let (status, answer) = refresh(&env, &first).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let second = refresh_token_of(&answer);
    env.calls.take();

    clock.advance(Duration::from_secs(REFRESH_GRACE_SECONDS));
    let (status, again) = refresh(&env, &first).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(refresh_token_of(&again), second, "the same successor");
    let mut calls = env.calls.take();
    calls.sort();
    assert_eq!(
        calls,
        ["GetItem", "TransactWriteItems"],
        "the cancellation carries the session: no extra call"
    );

    clock.advance(Duration::from_secs(1));
    let (status, _) = refresh(&env, &first).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "reuse, after the grace");
    let (status, _) = refresh(&env, &second).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and the session is revoked"
    );
    env.assert_invariants().await;
}

/// Five tabs refreshing one token at once, on the store that applies DynamoDB's conflict
/// rule: every one gets the same new pair, and that pair goes on working.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_of_one_token_all_get_the_same_pair() {
    let window = Some(Duration::from_millis(10));
    let env = Arc::new(TestEnv::with_conflict_window(window).await);
    let (_, first) = member(&env).await;
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (env, first) = (Arc::clone(&env), first.clone());
            tokio::spawn(async move { refresh(&env, &first).await })
        })
        .collect();
    let mut pairs = Vec::new();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
        pairs.push(refresh_token_of(&answer));
    }
    assert!(pairs.iter().all(|p| *p == pairs[0]), "{pairs:?}");
    let (status, answer) = refresh(&env, &pairs[0]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the winner's token still works: {answer}"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_refresh_carries_the_roles_the_user_has_now() {
    let env = TestEnv::new().await;
    let (m, token) = member(&env).await;
    let joined = OrgId::generate();
    // As a membership change rewrites the user's login items.
    let roles = json!([
        {"organization": m.org, "role": "owner"},
        {"organization": joined.to_string(), "role": "employee"},
    ]);
    let value = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(&roles).unwrap();
    env.admin
        .update_item()
        .table_name(&env.table)
        .set_key(Some(key::user(&m.user).to_item()))
        .update_expression("SET memberships = :m")
        .expression_attribute_values(":m", value)
        .send()
        .await
        .unwrap();
    let (status, answer) = refresh(&env, &token).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let caller = env
        .app
        .tokens
        .verify(answer["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(caller.role_in(joined), Some(Role::Employee));
}

#[tokio::test]
async fn log_out_ends_the_session_for_an_issued_token_only() {
    let env = TestEnv::new().await;
    let (_, token) = member(&env).await;
    let (status, _, _) = send(&env, "/api/auth/logout", &json!({"refresh_token": token})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(env.calls.take(), ["UpdateItem"]);
    assert_eq!(refresh(&env, &token).await.0, StatusCode::UNAUTHORIZED);
    let again = send(&env, "/api/auth/logout/", &json!({"refresh_token": token})).await;
    assert_eq!(
        again.0,
        StatusCode::NO_CONTENT,
        "the same token again: done already"
    );
    // An unknown session, a malformed token: 401, and nothing is written.
    let before = env.scan().await;
    let stranger = RefreshToken::start(shared::domain::UserId::generate()).expose();
    for token in [stranger.as_str(), "garbage"] {
        let (status, _, _) =
            send(&env, "/api/auth/logout/", &json!({"refresh_token": token})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
    }
    assert_eq!(env.scan().await.len(), before.len());
    env.assert_invariants().await;
}

/// Knowing a session's id (it is in the token, in plain text) is not enough to end it: a
/// token with the right user and session but a secret the session never issued is refused
/// on both routes and changes nothing; the real token goes on working.
#[tokio::test]
async fn a_wrong_secret_is_refused_and_ends_nothing() {
    let env = TestEnv::new().await;
    let (_, token) = member(&env).await;
    let real = RefreshToken::parse(&token).unwrap();
    let forged = format!("rt1.{}.{}.{}", real.user, real.session, "A".repeat(43));
    let session = Key::session(real.session);
    let stored = env.get(&session).await.unwrap();
    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        let (status, _, _) = send(&env, path, &json!({"refresh_token": forged})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            env.get(&session).await.unwrap(),
            stored,
            "{path} changed the session"
        );
    }
    let (status, answer) = refresh(&env, &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the real token still works: {answer}"
    );
    // A token the session did issue, rotated away since, is reuse: the session ends.
    let (status, _, _) = send(&env, "/api/auth/logout", &json!({"refresh_token": token})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(&env, &refresh_token_of(&answer)).await.0,
        StatusCode::UNAUTHORIZED
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn expired_forged_and_foreign_tokens_are_refused() {
    let env = TestEnv::new().await;
    let (_, token) = member(&env).await;
    let (_, other) = member(&env).await;
    let parsed = RefreshToken::parse(&token).unwrap();
    let stranger = RefreshToken::parse(&other).unwrap();
    // Another user's session id under this user's name.
    let mixed = token.replace(&parsed.session.to_string(), &stranger.session.to_string());
    for bad in [
        "garbage".to_owned(),
        RefreshToken::start(parsed.user).expose(),
        mixed,
    ] {
        assert_eq!(
            refresh(&env, &bad).await.0,
            StatusCode::UNAUTHORIZED,
            "{bad}"
        );
    }
    assert_eq!(
        refresh(&env, &other).await.0,
        StatusCode::OK,
        "not revoked by those"
    );
    env.admin
        .update_item()
        .table_name(&env.table)
        .set_key(Some(Key::session(parsed.session).to_item()))
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refresh(&env, &token).await.0,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    let (status, answer, _) = send(&env, "/api/auth/refresh", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["refresh_token"].is_string());
    env.assert_invariants().await;
}

// Log-in throttling.

async fn log_in(
    env: &TestEnv,
    username: &Value,
    password: &str,
) -> (StatusCode, Value, Option<u64>) {
    let body = json!({"username": username, "password": password});
    let response = shared::http::Function::Login
        .handle(&env.app, post_json("/api/auth/login/", &body))
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, answer) = read(response);
    (status, answer, retry_after)
}

#[tokio::test]
async fn five_failures_then_429_even_with_the_right_password_and_unknown_names_alike() {
    let mut env = TestEnv::new().await;
    let clock = env.freeze_clock();
    let body = sample_signup();
    env.signed_up_user_with(&body).await;
    let known = body["username"].clone();
    let unknown = json!("nobody_at_all_here");
    let mut answers = Vec::new();
    for name in [&known, &unknown] {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(log_in(&env, name, "wrong password!").await.0);
        }
        assert_eq!(statuses, [StatusCode::UNAUTHORIZED; 5]);
        env.calls.take();
        let (status, answer, retry_after) = log_in(&env, name, "correct horse battery").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
        // 60 s from the fifth failure, by the test's clock.
        assert_eq!(retry_after, Some(60));
        assert_eq!(
            env.calls.take(),
            ["GetItem", "UpdateItem"],
            "refused when the attempt is taken: no hash checked"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(log_in(&env, name, "wrong password!").await.2, Some(59));
        answers.push(answer);
    }
    assert_eq!(
        answers[0], answers[1],
        "a 429 reveals nothing about the account"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_success_forgets_the_failures_and_waits_end() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let user = env.signed_up_user_with(&body).await;
    let name = body["username"].clone();
    for _ in 0..4 {
        log_in(&env, &name, "wrong password!").await;
    }
    env.calls.take();
    assert_eq!(
        log_in(&env, &name, "correct horse battery").await.0,
        StatusCode::OK
    );
    let mut calls = env.calls.take();
    calls.sort();
    assert_eq!(calls, ["DeleteItem", "GetItem", "PutItem", "UpdateItem"]);
    let failures_key = key::account_login_failures(user["user"]["id"].as_str().unwrap());
    assert!(env.get(&failures_key).await.is_none(), "forgotten");

    // Five fresh failures are allowed again; then the wait; then, once it has passed, a try.
    for _ in 0..5 {
        assert_eq!(
            log_in(&env, &name, "wrong password!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        log_in(&env, &name, "wrong password!").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let failures = env.get(&failures_key).await.unwrap();
    assert_eq!(
        failures["count"].as_n().unwrap(),
        "5",
        "refusals are not counted"
    );
    let open: u64 = failures["open_at"].as_n().unwrap().parse().unwrap();
    env.admin
        .update_item()
        .table_name(&env.table)
        .set_key(Some(failures_key.to_item()))
        .update_expression("SET open_at = :t")
        .expression_attribute_values(":t", AttributeValue::N((open - 61).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        log_in(&env, &name, "correct horse battery").await.0,
        StatusCode::OK
    );
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_are_all_counted() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let name = json!("someone_unknown");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let env = std::sync::Arc::clone(&env);
            let name = name.clone();
            tokio::spawn(async move { log_in(&env, &name, "wrong password!").await.0 })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let failures = env
        .get(&key::login_failures("someone_unknown"))
        .await
        .unwrap();
    assert_eq!(s(&failures, "entity"), "LOGIN_FAILURES");
    assert_eq!(failures["count"].as_n().unwrap(), "4");
    env.assert_invariants().await;
}

#[tokio::test]
async fn the_session_events_drive_the_handler() {
    let env = TestEnv::new().await;
    let (_, token) = member(&env).await;
    let handle = |name: &'static str, token: String| {
        let request = crm_tests::event_with(name, None, &json!({"refresh_token": token}));
        let app = &env.app;
        async move {
            shared::http::Function::Session
                .handle(app, request)
                .await
                .unwrap()
        }
    };
    let renewed = read(handle("refresh.json", token).await).1;
    let next = refresh_token_of(&renewed);
    let logged_out = handle("logout.json", next.clone()).await;
    assert_eq!(logged_out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        read(handle("refresh.json", next).await).0,
        StatusCode::UNAUTHORIZED
    );
}

async fn change_password(
    env: &TestEnv,
    token: &str,
    current: &str,
    new: &str,
) -> (StatusCode, Value) {
    let body = json!({"current_password": current, "new_password": new});
    let request = crm_tests::with_token(post_json("/api/users/me/password/", &body), token);
    env.send(shared::http::Function::Login, request).await
}

/// A new password ends every earlier session (at its next refresh) and answers a new one.
#[tokio::test]
async fn a_password_change_ends_every_earlier_session() {
    let env = TestEnv::new().await;
    let (m, signed_up) = member(&env).await;
    let name = m.signup["user"]["username"].clone();
    let (_, logged_in, _) = log_in(&env, &name, "correct horse battery").await;
    let (status, changed) =
        change_password(&env, &m.token, "correct horse battery", "a new passphrase").await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(changed["access_token"].is_string() && changed["refresh_token"].is_string());
    for earlier in [signed_up, refresh_token_of(&logged_in)] {
        assert_eq!(refresh(&env, &earlier).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        refresh(&env, &refresh_token_of(&changed)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        log_in(&env, &name, "correct horse battery").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&env, &name, "a new passphrase").await.0,
        StatusCode::OK
    );
    env.assert_invariants().await;
}

/// A wrong current password is a failed log-in of the account: counted, then throttled.
#[tokio::test]
async fn a_wrong_current_password_counts_as_a_failed_log_in() {
    let env = TestEnv::new().await;
    let (m, _) = member(&env).await;
    for _ in 0..5 {
        let (status, answer) =
            change_password(&env, &m.token, "not it at all", "a new passphrase").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    }
    let (status, _) =
        change_password(&env, &m.token, "correct horse battery", "a new passphrase").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let name = m.signup["user"]["username"].clone();
    assert_eq!(
        log_in(&env, &name, "correct horse battery").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    env.assert_invariants().await;
}

/// The new password follows the sign-up rules; a refused one writes nothing and checks no
/// password.
#[tokio::test]
async fn a_new_password_follows_the_sign_up_rules() {
    let env = TestEnv::new().await;
    let (m, _) = member(&env).await;
    let username = m.signup["user"]["username"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let before = env.item_count().await;
    for new in ["short", "1234567890", username.as_str()] {
        let (status, answer) = change_password(&env, &m.token, "correct horse battery", new).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{new}: {answer}");
        assert!(
            answer["error"]["fields"]["new_password"].is_string(),
            "{answer}"
        );
    }
    env.assert_untouched(before).await;
}

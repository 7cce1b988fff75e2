//! Password reset: asked by email (one answer for every email), mailed through the outbox
//! (the table's real stream, the real SES client, the local mailbox), used once.

use std::time::Duration;

use crm_tests::mailbox::Received;
use crm_tests::{post_json, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use shared::http::Function;
use shared::store::keys::Key;

const NEW_PASSWORD: &str = "a new passphrase, longer";

async fn ask(env: &TestEnv, email: &str) -> (StatusCode, Value) {
    let ask = post_json("/api/auth/password-reset/", &json!({ "email": email }));
    env.send(Function::Login, ask).await
}

async fn confirm(env: &TestEnv, token: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"token": token, "new_password": password});
    let confirm = post_json("/api/auth/password-reset/confirm/", &body);
    env.send(Function::Login, confirm).await
}

async fn log_in(env: &TestEnv, username: &str, password: &str) -> StatusCode {
    env.login(&json!({"username": username, "password": password}))
        .await
        .0
}

fn link_token(mail: &Received) -> String {
    let prefix = "http://localhost:3000/reset-password#token=";
    mail.text
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("a reset link in {:?}", mail.text))
        .to_owned()
}

#[tokio::test]
async fn a_mailed_link_sets_the_password_once_ends_every_session_and_clears_the_throttle() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let (username, email) = (
        jane["user"]["username"].as_str().unwrap(),
        jane["user"]["email"].as_str().unwrap(),
    );
    for _ in 0..3 {
        assert_eq!(
            log_in(&env, username, "wrong password!").await,
            StatusCode::UNAUTHORIZED
        );
    }
    let user = shared::domain::UserId::parse(jane["user"]["id"].as_str().unwrap()).unwrap();
    assert!(env.get(&Key::account_login_failures(user)).await.is_some());
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;

    env.calls.take();
    let (status, answer) = ask(&env, &email.to_uppercase()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let sent = env.deliver_mail(&mut reader).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, email);
    assert!(sent[0].text.contains(username), "{}", sent[0].text);
    let token = link_token(&sent[0]);
    let stored = format!("{:?}", env.scan().await);
    assert!(!stored.contains(&token), "only the token's digest is kept");

    env.calls.take();
    let (status, answer) = confirm(&env, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem", "TransactWriteItems", "DeleteItem"],
        "read, write, clear the throttle"
    );
    assert!(env.get(&Key::account_login_failures(user)).await.is_none());
    assert!(
        env.get(&Key::password_reset(user)).await.is_none(),
        "used up"
    );
    // Every session started before ends; the new password logs in, the old one does not.
    let refresh = post_json(
        "/api/auth/refresh/",
        &json!({"refresh_token": jane["refresh_token"]}),
    );
    assert_eq!(
        env.send(Function::Session, refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, logged_in) = env
        .login(&json!({"username": username, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::OK, "{logged_in}");
    assert_eq!(
        logged_in["user"]["email_verified"], true,
        "the link reached the address: it is verified"
    );
    assert_eq!(
        log_in(&env, username, "correct horse battery").await,
        StatusCode::UNAUTHORIZED
    );

    let (status, again) = confirm(&env, &token, "yet another passphrase").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert!(again["error"]["fields"]["token"].is_string(), "{again}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn an_unknown_email_is_answered_as_a_known_one_after_the_same_calls_and_gets_no_link() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    env.calls.take();
    let known = ask(&env, jane["user"]["email"].as_str().unwrap()).await;
    let known_calls = env.calls.take();
    let unknown = ask(&env, "nobody.here@example.com").await;
    assert_eq!(unknown, known, "the same status and body");
    assert_eq!(env.calls.take(), known_calls, "the same calls");
    let mut sent = env.deliver_mail(&mut reader).await;
    sent.sort_by_key(|mail| mail.to != "nobody.here@example.com");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].to, "nobody.here@example.com");
    assert_eq!(sent[0].subject, sent[1].subject, "alike to an onlooker");
    assert!(sent[0].text.contains("no account"), "{}", sent[0].text);
    assert!(
        !sent[0].text.contains("#token="),
        "no link: {}",
        sent[0].text
    );
    assert!(sent[1].text.contains("#token="), "the owner's link");
    env.assert_invariants().await;
}

#[tokio::test]
async fn only_the_newest_link_works_and_a_fourth_request_in_an_hour_sends_nothing() {
    let mut env = TestEnv::new().await;
    let clock = env.freeze_clock();
    let jane = env.signed_up_user().await;
    let email = jane["user"]["email"].as_str().unwrap();
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        assert_eq!(ask(&env, email).await.0, StatusCode::ACCEPTED);
        let sent = env.deliver_mail(&mut reader).await;
        assert_eq!(sent.len(), 1);
        tokens.push(link_token(&sent[0]));
    }
    env.calls.take();
    let items = env.item_count().await;
    assert_eq!(ask(&env, email).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "counted out: nothing written"
    );
    env.assert_untouched(items).await;
    assert!(
        env.deliver_mail(&mut reader).await.is_empty(),
        "the fourth is not sent"
    );

    for old in &tokens[..2] {
        let (status, answer) = confirm(&env, old, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    // An hour on, the email may ask again; the newest link of before has expired by then.
    clock.advance(Duration::from_secs(3600));
    let (status, answer) = confirm(&env, &tokens[2], NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired: {answer}");
    assert_eq!(ask(&env, email).await.0, StatusCode::ACCEPTED);
    let sent = env.deliver_mail(&mut reader).await;
    assert_eq!(sent.len(), 1);
    let (status, answer) = confirm(&env, &link_token(&sent[0]), NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let items = env.item_count().await;
    let (status, answer) = ask(&env, "not an email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["email"].is_string(), "{answer}");
    let (status, answer) = confirm(&env, "pr1.not.a.token", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["token"].is_string(), "{answer}");
    let (status, answer) = confirm(&env, "pr1.not.a.token", "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["fields"]["new_password"].is_string(),
        "{answer}"
    );
    env.assert_untouched(items).await;

    // A live token with a password that names the account: refused, and the token still works.
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    assert_eq!(
        ask(&env, jane["user"]["email"].as_str().unwrap()).await.0,
        StatusCode::ACCEPTED
    );
    let token = link_token(&env.deliver_mail(&mut reader).await[0]);
    let named = jane["user"]["username"].as_str().unwrap();
    let (status, answer) = confirm(&env, &token, named).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["fields"]["new_password"].is_string(),
        "{answer}"
    );
    assert_eq!(
        confirm(&env, &token, NEW_PASSWORD).await.0,
        StatusCode::NO_CONTENT
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn two_uses_of_one_token_at_once_change_the_password_once() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    ask(&env, jane["user"]["email"].as_str().unwrap()).await;
    let token = link_token(&env.deliver_mail(&mut reader).await[0]);
    let (a, b) = tokio::join!(
        confirm(&env, &token, "first new passphrase"),
        confirm(&env, &token, "second new passphrase")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST],
        "{a:?} {b:?}"
    );
    let username = jane["user"]["username"].as_str().unwrap();
    let winner = if a.0 == StatusCode::NO_CONTENT {
        "first new passphrase"
    } else {
        "second new passphrase"
    };
    assert_eq!(log_in(&env, username, winner).await, StatusCode::OK);
    env.assert_invariants().await;
}

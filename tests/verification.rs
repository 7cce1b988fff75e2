//! Verified emails: sign-up mails a link through the outbox (the table's real stream, the
//! real SES client, the local mailbox); the link verifies the caller's email once.

use crm_tests::mailbox::Received;
use crm_tests::{post_json, with_token, TestEnv};
use lambda_http::http::StatusCode;
use lambda_http::Body;
use serde_json::{json, Value};
use shared::http::Function;

async fn verify(env: &TestEnv, access: &str, token: &str) -> (StatusCode, Value) {
    let verify = post_json("/api/users/me/email/verify/", &json!({ "token": token }));
    env.send(Function::Login, with_token(verify, access)).await
}

async fn resend(env: &TestEnv, access: &str) -> (StatusCode, Value) {
    let resend = crm_tests::request(
        lambda_http::http::Method::POST,
        "/api/users/me/email/verify/resend/",
        None,
        Body::Empty,
    );
    env.send(Function::Login, with_token(resend, access)).await
}

fn link_token(mail: &Received) -> String {
    let prefix = "http://localhost:3000/verify-email#token=";
    mail.text
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("a verification link in {:?}", mail.text))
        .to_owned()
}

fn access(signup: &Value) -> &str {
    signup["access_token"].as_str().unwrap()
}

#[tokio::test]
async fn sign_up_mails_a_link_that_verifies_the_email_once() {
    let env = TestEnv::new().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let jane = env.signed_up_user().await;
    assert_eq!(jane["user"]["email_verified"], false, "{jane}");
    let sent = env.deliver_mail(&mut reader).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, jane["user"]["email"].as_str().unwrap());
    let token = link_token(&sent[0]);
    let stored = format!("{:?}", env.scan().await);
    assert!(!stored.contains(&token), "only the token's digest is kept");

    env.calls.take();
    let (status, answer) = verify(&env, access(&jane), &token).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let (_, me) = env.me(access(&jane)).await;
    assert_eq!(me["user"]["email_verified"], true, "{me}");
    let login = json!({"username": jane["user"]["username"], "password": "correct horse battery"});
    assert_eq!(env.login(&login).await.1["user"]["email_verified"], true);

    let (status, again) = verify(&env, access(&jane), &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert!(again["error"]["fields"]["token"].is_string(), "{again}");
    let (status, verified) = resend(&env, access(&jane)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{verified}");
    assert!(
        verified["error"]["fields"]["email"].is_string(),
        "{verified}"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_link_is_its_users_alone_and_only_the_newest_works() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let sam = env.signed_up_user().await;
    let email = |who: &Value| who["user"]["email"].as_str().unwrap().to_owned();
    let first = env.outbox_token(&email(&jane), "email_verification").await;
    let items = env.item_count().await;
    let (status, answer) = verify(&env, access(&sam), &first).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "another user's link: {answer}"
    );
    let (status, answer) = verify(&env, access(&jane), "ev1.not.a.token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["token"].is_string(), "{answer}");
    env.assert_untouched(items).await;

    let (status, answer) = resend(&env, access(&jane)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let newest = env.outbox_token(&email(&jane), "email_verification").await;
    assert_ne!(newest, first);
    assert_eq!(
        verify(&env, access(&jane), &first).await.0,
        StatusCode::BAD_REQUEST,
        "replaced"
    );
    assert_eq!(
        verify(&env, access(&jane), &newest).await.0,
        StatusCode::NO_CONTENT
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_fourth_link_asked_for_in_an_hour_is_answered_alike_and_sends_nothing() {
    let env = TestEnv::new().await;
    let jane = env.signed_up_user().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    for _ in 0..3 {
        assert_eq!(resend(&env, access(&jane)).await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(env.deliver_mail(&mut reader).await.len(), 3);
    env.calls.take();
    let items = env.item_count().await;
    let (status, answer) = resend(&env, access(&jane)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "counted out: nothing written"
    );
    env.assert_untouched(items).await;
    assert!(env.deliver_mail(&mut reader).await.is_empty());
    env.assert_invariants().await;
}

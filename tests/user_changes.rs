//! PATCH /api/users/me: names at once (the member list follows through the table's stream),
//! and an email that moves only when the link mailed to the new address is used.

use crm_tests::{post_json, request, with_token, Member, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::http::Function;

const PASSWORD: &str = "correct horse battery";

async fn change(env: &TestEnv, token: &str, body: &Value) -> (StatusCode, Value) {
    let patch = request(
        Method::PATCH,
        "/api/users/me/",
        Some("application/json"),
        Body::Text(body.to_string()),
    );
    env.send(Function::Login, with_token(patch, token)).await
}

async fn verify(env: &TestEnv, token: &str, link: &str) -> (StatusCode, Value) {
    let verify = post_json("/api/users/me/email/verify/", &json!({ "token": link }));
    env.send(Function::Login, with_token(verify, token)).await
}

/// Log-in by email.
async fn log_in(env: &TestEnv, email: &str) -> StatusCode {
    env.login(&json!({"email": email, "password": PASSWORD}))
        .await
        .0
}

fn fresh_email() -> String {
    format!("n{}@example.com", uuid::Uuid::now_v7().simple())
}

fn email_of(m: &Member) -> &str {
    m.signup["user"]["email"].as_str().unwrap()
}

#[tokio::test]
async fn names_change_at_once_and_the_member_list_follows_the_stream() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;

    let (status, changed) = change(&env, &m.token, &json!({"first_name": " Janet "})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(changed["user"]["first_name"], "Janet");
    assert_eq!(changed["user"]["last_name"], m.signup["user"]["last_name"]);
    assert_eq!(changed["pending_email"], Value::Null);
    assert_eq!(env.me(&m.token).await.1["user"]["first_name"], "Janet");
    let username = m.signup["user"]["username"].as_str().unwrap();
    let logged_in = env
        .login(&json!({"username": username, "password": PASSWORD}))
        .await
        .1;
    assert_eq!(logged_in["user"]["first_name"], "Janet");

    // The same names again: nothing to write.
    env.calls.take();
    let (status, _) = change(&env, &m.token, &json!({"first_name": "Janet"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env.calls.take(), ["BatchGetItem"]);

    let sent = env.deliver_mail(&mut reader).await;
    assert!(sent.is_empty(), "{sent:?}");
    let path = format!("/api/organizations/{}/members/", m.org);
    let list = with_token(request(Method::GET, &path, None, Body::Empty), &m.token);
    let (_, page) = env.send(Function::Teams, list).await;
    assert_eq!(page["members"][0]["first_name"], "Janet", "{page}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn bad_fields_are_named_and_nothing_is_written() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.scan().await;
    for (body, field) in [
        (json!({"first_name": 5}), "first_name"),
        (json!({"last_name": "x".repeat(151)}), "last_name"),
        (json!({"email": "not an address"}), "email"),
        (json!({"username": "other"}), "username"),
    ] {
        let (status, answer) = change(&env, &m.token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    let other = env.member().await;
    env.calls.take();
    let before_taken = env.scan().await;
    let (status, taken) = change(&env, &m.token, &json!({"email": email_of(&other)})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{taken}");
    assert!(taken["error"]["fields"]["email"].is_string(), "{taken}");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "refused before any write"
    );
    assert_eq!(env.scan().await, before_taken);
    assert!(before.len() < before_taken.len(), "the second member only");
    env.assert_invariants().await;
}

/// The whole email change: asked for (a link to the new address, nothing moved), used (the
/// account moves, verified, the old address is told, a reset link sent to it dies).
#[tokio::test]
async fn an_email_moves_when_the_new_addresss_link_is_used() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let (old, new) = (email_of(&m).to_owned(), fresh_email());
    let (status, asked) = change(&env, &m.token, &json!({"email": new.to_uppercase()})).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(asked["user"]["email"], old.as_str(), "not moved yet");
    assert_eq!(asked["pending_email"], new.to_uppercase());
    assert_eq!(log_in(&env, &old).await, StatusCode::OK);
    assert_eq!(log_in(&env, &new).await, StatusCode::UNAUTHORIZED);
    let link = env.outbox_token(&new, "email_verification").await;
    let reset_for_old = env.password_reset_token(&old).await;
    // An organization invites the new address meanwhile.
    let host = env.member().await;
    let path = format!("/api/organizations/{}/invitations/", host.org);
    let invite = with_token(post_json(&path, &json!({ "email": new })), &host.token);
    let (status, invited) = env.send(Function::Teams, invite).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(env.me(&m.token).await.1["invitations"], json!([]));

    env.calls.take();
    let (status, moved) = verify(&env, &m.token, &link).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{moved}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(log_in(&env, &new).await, StatusCode::OK);
    assert_eq!(log_in(&env, &old).await, StatusCode::UNAUTHORIZED);
    let me = env.me(&m.token).await.1;
    assert_eq!(
        me["user"]["email"].as_str(),
        Some(new.to_uppercase().as_str())
    );
    assert_eq!(me["user"]["email_verified"], true);
    // The access token still names the old address; the list is the new one's.
    assert_eq!(me["invitations"][0]["id"], invited["id"], "{me}");
    let told = env.outbox_text(&old, "email_changed").await;
    assert!(told.contains(&new.to_uppercase()), "{told}");
    let reset = json!({"token": reset_for_old, "new_password": "another good passphrase"});
    let confirm = post_json("/api/auth/password-reset/confirm/", &reset);
    let (status, refused) = env.send(Function::Login, confirm).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, again) = verify(&env, &m.token, &link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used: {again}");
    env.assert_invariants().await;
}

/// Two accounts ask for the same free address; both links are used at once: one account
/// gets it, the other a 409 naming `email`, and nothing of its change is written.
#[tokio::test]
async fn two_accounts_racing_for_one_new_address_leave_one_owner() {
    let env = TestEnv::new().await;
    let (a, b) = (env.member().await, env.member().await);
    let wanted = fresh_email();
    let mut links = Vec::new();
    for m in [&a, &b] {
        let (status, asked) = change(&env, &m.token, &json!({"email": wanted})).await;
        assert_eq!(status, StatusCode::OK, "{asked}");
        links.push(env.outbox_token(&wanted, "email_verification").await);
    }
    let (first, second) = tokio::join!(
        verify(&env, &a.token, &links[0]),
        verify(&env, &b.token, &links[1])
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::NO_CONTENT, StatusCode::CONFLICT],
        "{first:?} {second:?}"
    );
    let loser = if first.0 == StatusCode::CONFLICT {
        &first.1
    } else {
        &second.1
    };
    assert!(loser["error"]["fields"]["email"].is_string(), "{loser}");
    let (winner, lost) = if first.0 == StatusCode::NO_CONTENT {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(
        env.me(&winner.token).await.1["user"]["email"],
        wanted.as_str()
    );
    assert_eq!(env.me(&lost.token).await.1["user"]["email"], email_of(lost));
    assert_eq!(log_in(&env, email_of(lost)).await, StatusCode::OK);
    env.assert_invariants().await;
}

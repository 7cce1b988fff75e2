//! Log-in, access tokens, and who may create customers where.

use std::time::{SystemTime, UNIX_EPOCH};

use crm_tests::{event_with, post_json, read, test_signing_key, TestEnv};
use lambda_http::http::{header, StatusCode};
use serde_json::{json, Value};
use shared::auth::SigningKey;
use shared::domain::{OrgId, Role, UserId};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token as an attacker or a misconfigured peer might make one.
/// Signed with `key`, its header naming the test key (the one every function knows).
fn forged(user: &str, key: &SigningKey, exp: u64, aud: &str) -> String {
    let claims = json!({"sub": user, "iat": now(), "exp": exp, "iss": "crm-api", "aud": aud});
    key.sign_naming(&claims, test_signing_key().public().id())
}

fn password_of(signup: &Value) -> &'static str {
    assert!(signup["user"].is_object());
    "correct horse battery"
}

#[tokio::test]
async fn log_in_by_username_or_email_in_any_case_with_one_read_and_a_session_write() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let username = m.signup["user"]["username"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let email = m.signup["user"]["email"].as_str().unwrap().to_uppercase();
    for body in [
        json!({"username": username, "password": password_of(&m.signup)}),
        json!({"email": email, "password": password_of(&m.signup)}),
    ] {
        let (status, answer) = env.login(&body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            env.calls.take(),
            ["GetItem", "UpdateItem", "PutItem", "DeleteItem"],
            "the claim, the attempt taken, the new session and the attempt given back"
        );
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["expires_in"], 900);
        assert!(answer["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("rt1."));
        assert_eq!(answer["refresh_expires_in"], 30 * 24 * 3600);
        assert_eq!(answer["user"]["id"], m.user.as_str());
        assert!(!answer.to_string().contains("argon2"), "{answer}");
        let token = answer["access_token"].as_str().unwrap();
        let caller = env.app.tokens.verify(token).unwrap();
        assert_eq!(caller.user, UserId::parse(&m.user).unwrap());
        assert_eq!(
            caller.role_in(OrgId::parse(&m.org).unwrap()),
            Some(Role::Owner),
            "the token carries the user's organizations, read in the same GetItem"
        );
    }
}

#[tokio::test]
async fn answers_that_carry_tokens_are_never_cached() {
    let env = TestEnv::new().await;
    let body = crm_tests::sample_signup();
    let signup = shared::http::Function::Signup
        .handle(&env.app, post_json("/api/users/", &body))
        .await
        .unwrap();
    assert_eq!(
        signup.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let login = json!({"username": body["username"], "password": body["password"]});
    let login = shared::http::Function::Login
        .handle(&env.app, post_json("/api/auth/login/", &login))
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(
        login.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let username = m.signup["user"]["username"].as_str().unwrap();
    let (wrong_status, wrong) = env
        .login(&json!({"username": username, "password": "not the password"}))
        .await;
    let (unknown_status, unknown) = env
        .login(&json!({"username": "nobody_here", "password": "whatever it is"}))
        .await;
    let (unknown_email_status, _) = env
        .login(&json!({"email": "nobody@example.com", "password": "whatever it is"}))
        .await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown, "indistinguishable answers");
    assert_eq!(
        env.calls.take(),
        ["GetItem", "UpdateItem"].repeat(3),
        "the claim read, and each attempt counted as it is taken"
    );
}

#[tokio::test]
async fn log_in_refuses_malformed_requests_with_400() {
    let env = TestEnv::new().await;
    for (body, field) in [
        (json!({"password": "x"}), "username"),
        (json!({"username": "jane"}), "password"),
        (json!({"username": 7, "password": "x"}), "username"),
        (json!({"email": "not-an-email", "password": "x"}), "email"),
    ] {
        let (status, answer) = env.login(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    assert!(env.calls.take().is_empty());
}

#[tokio::test]
async fn sign_up_answers_with_a_working_token() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    assert_eq!(m.signup["token_type"], "Bearer");
    let body = json!({"organization": m.org, "email": "first@example.com"});
    assert_eq!(
        env.create_customer(&m.token, &body).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn bad_tokens_are_401_and_write_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let body = json!({"organization": m.org, "email": "x@example.com"});
    let mut tampered = m.token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases = [
        (
            "expired",
            forged(&m.user, &test_signing_key(), now() - 3600, "crm-api"),
        ),
        ("tampered", tampered),
        (
            "signed with another key, naming ours",
            forged(&m.user, &SigningKey::throwaway(), now() + 600, "crm-api"),
        ),
        (
            "another audience",
            forged(&m.user, &test_signing_key(), now() + 600, "billing-api"),
        ),
        ("not a JWT", "hello".to_owned()),
    ];
    for (case, token) in cases {
        let (status, answer) = env.create_customer(&token, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {answer}");
    }
    // No Authorization header, and a scheme other than Bearer.
    for request in [post_json("/api/customers/", &body), {
        let mut r = post_json("/api/customers/", &body);
        r.headers_mut()
            .insert(header::AUTHORIZATION, "Basic amFuZTpwdw==".parse().unwrap());
        r
    }] {
        let response = shared::http::Function::CreateCustomer
            .handle(&env.app, request)
            .await
            .unwrap();
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_some());
        assert_eq!(read(response).0, StatusCode::UNAUTHORIZED);
    }
    assert!(
        env.calls.take().is_empty(),
        "refused before any DynamoDB call"
    );
    env.assert_untouched(before).await;
}

#[tokio::test]
async fn a_validly_signed_token_without_roles_belongs_nowhere() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    // Signed with the real key but carrying no organizations: a token minted before roles
    // were carried, or for a user who has none.
    let token = forged(&m.user, &test_signing_key(), now() + 600, "crm-api");
    let before = env.item_count().await;
    let body = json!({"organization": m.org, "email": "x@example.com"});
    let (status, answer) = env.create_customer(&token, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, _) = env
        .get_customers(&token, &format!("/api/customers/?organization={}", m.org))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(env.calls.take().is_empty(), "refused from the token alone");
    env.assert_untouched(before).await;
}

#[tokio::test]
async fn a_member_of_one_organization_cannot_create_customers_in_another() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let b = env.member().await;
    let before = env.item_count().await;
    for body in [
        json!({"organization": b.org, "email": "x@example.com"}),
        json!({"organization": b.org, "user_id": a.user, "email": "x@example.com"}),
        // Even the existing record is not handed out to a non-member.
        json!({"organization": b.org, "user_id": b.user, "email": "x@example.com"}),
    ] {
        let (status, answer) = env.create_customer(&a.token, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
        assert!(
            env.calls.take().is_empty(),
            "no DynamoDB call for a stranger"
        );
    }
    env.assert_untouched(before).await;
}

#[tokio::test]
async fn the_login_events_log_in_through_lambda_http() {
    let env = TestEnv::new().await;
    let signup = shared::http::Function::Signup
        .handle(&env.app, crm_tests::event("signup.json"))
        .await
        .unwrap();
    assert_eq!(read(signup).0, StatusCode::CREATED);
    for name in [
        "login-username.json",
        "login-email.json",
        "fallback-login-slashed.json",
    ] {
        let request = event_with(name, None, &json!({}));
        let (status, answer) = read(
            shared::http::Function::Fallback
                .handle(&env.app, request)
                .await
                .unwrap(),
        );
        assert_eq!(status, StatusCode::OK, "{name}: {answer}");
        assert_eq!(answer["user"]["username"], "janedoe");
    }
}

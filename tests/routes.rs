//! The `fallback` function serves the route table: every route answers with and without its
//! trailing slash, and anything else is a JSON 404.

use std::collections::HashMap;

use crm_tests::{post_json, read, request, with_token, Member, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{json, Value};
use shared::http::{Function, Operation, Route, ROUTES};

/// A request that `operation` answers with a success, at `path`.
async fn request_for(env: &TestEnv, m: &Member, operation: Operation, path: &str) -> Request {
    let login =
        json!({"username": m.signup["user"]["username"], "password": "correct horse battery"});
    let body = match operation {
        Operation::SignUp => crm_tests::sample_signup(),
        Operation::LogIn => login,
        // A session of its own each time: a refresh token works once.
        Operation::Refresh | Operation::LogOut => {
            json!({"refresh_token": env.login(&login).await.1["refresh_token"]})
        }
        Operation::CreateCustomer => {
            json!({"organization": m.org, "email": format!("{}@example.com", path.len())})
        }
        Operation::UpdateCustomer => json!({"name": "Patched"}),
        Operation::ImportCustomers => json!({
            "organization": m.org,
            "customers": [{"email": format!("batch{}@example.com", path.len())}]
        }),
        Operation::UpdateMember => json!({"role": "admin"}),
        Operation::RenameOrganization => json!({"name": format!("Renamed {}", path.len())}),
        Operation::CreateInvitation => {
            json!({"email": format!("{}@invited.example.com", path.len())})
        }
        // From an organization of its own each time: accepted once.
        Operation::AcceptInvitation => {
            let inviter = env.member().await;
            let invited = invite(env, &inviter, m.signup["user"]["email"].as_str().unwrap()).await;
            json!({"token": invited["token"]})
        }
        Operation::RequestPasswordReset => json!({"email": m.signup["user"]["email"]}),
        // A user of its own each time (an email may ask 3 times an hour).
        Operation::ResetPassword => {
            let user = env.signed_up_user().await;
            let email = user["user"]["email"].as_str().unwrap();
            json!({
                "token": env.password_reset_token(email).await,
                "new_password": "a new passphrase, longer",
            })
        }
        // A user of its own each time, with their sign-up's link (each works once).
        Operation::VerifyEmail => {
            let user = env.signed_up_user().await;
            let email = user["user"]["email"].as_str().unwrap();
            let link = env.outbox_token(email, "email_verification").await;
            let request = post_json(path, &json!({ "token": link }));
            return with_token(request, user["access_token"].as_str().unwrap());
        }
        Operation::UpdateMe => json!({"first_name": format!("Renamed{}", path.len())}),
        // A user of its own each time: `m`'s email is verified already.
        Operation::ResendVerification => {
            let user = env.signed_up_user().await;
            let request = request(route_method(operation), path, None, Body::Empty);
            return with_token(request, user["access_token"].as_str().unwrap());
        }
        // The same password again: each form changes it, and the next still logs in.
        Operation::ChangePassword => {
            json!({"current_password": "correct horse battery", "new_password": "correct horse battery"})
        }
        _ => Value::Null,
    };
    let mut query = HashMap::new();
    if operation == Operation::ListCustomers {
        query.insert("organization".to_owned(), m.org.clone());
    }
    let content = (!body.is_null()).then_some("application/json");
    let sent = match body {
        Value::Null => Body::Empty,
        body => Body::Text(body.to_string()),
    };
    let req = request(route_method(operation), path, content, sent);
    with_token(req.with_query_string_parameters(query), &m.token)
}

fn route_method(operation: Operation) -> Method {
    ROUTES
        .iter()
        .find(|r| r.operation == operation)
        .unwrap()
        .method
        .clone()
}

/// An invitation into `inviter`'s organization, made by them; its answer.
async fn invite(env: &TestEnv, inviter: &Member, email: &str) -> Value {
    let path = format!("/api/organizations/{}/invitations", inviter.org);
    let made = with_token(post_json(&path, &json!({ "email": email })), &inviter.token);
    let (status, invited) = env.send(Function::Teams, made).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    invited
}

/// A customer of `m`'s to read, change or delete (a new one for each delete), or for the
/// revocation route, an invitation of `m`'s organization.
async fn customer_for(env: &TestEnv, m: &Member, route: &Route, deleted: &mut usize) -> String {
    if route.operation == Operation::RevokeInvitation {
        *deleted += 1;
        let invited = invite(env, m, &format!("revoked{deleted}@example.com")).await;
        return invited["id"].as_str().unwrap().to_owned();
    }
    if route.operation != Operation::DeleteCustomer {
        return m.signup["customer"]["id"].as_str().unwrap().to_owned();
    }
    *deleted += 1;
    let body = json!({"organization": m.org, "email": format!("gone{deleted}@example.com")});
    env.create_customer(&m.token, &body).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A member of `m`'s organization to change or remove (a new one each time), for the routes
/// that take one.
async fn member_for(env: &TestEnv, m: &Member, route: &Route) -> String {
    if !route.path.contains("{user_id}") {
        return String::new();
    }
    let joining = env.member().await;
    env.join(&joining.user, &m.org, shared::domain::Role::Employee)
        .await;
    joining.user
}

#[tokio::test]
async fn every_route_answers_with_and_without_its_trailing_slash() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut deleted = 0;
    for route in &ROUTES {
        for form in [route.path.to_owned(), format!("{}/", route.path)] {
            let id = customer_for(&env, &m, route, &mut deleted).await;
            let member = member_for(&env, &m, route).await;
            let path = form
                .replace("{id}", &id)
                .replace("{org}", &m.org)
                .replace("{user_id}", &member);
            let sent = request_for(&env, &m, route.operation, &path).await;
            let (status, answer) = env.send(Function::Fallback, sent).await;
            assert!(
                status.is_success(),
                "{} {path}: {status} {answer}",
                route.method
            );
        }
    }
}

#[tokio::test]
async fn anything_else_is_a_json_404() {
    let env = TestEnv::new().await;
    for path in [
        "/",
        "/api",
        "/api/users/x",
        "/api/customers/a/b",
        "/api/customers//",
    ] {
        let req = request(Method::GET, path, None, Body::Empty);
        let (status, answer) = read(
            shared::http::Function::Fallback
                .handle(&env.app, req)
                .await
                .unwrap(),
        );
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found");
    }
    assert!(env.calls.take().is_empty());
}

#[tokio::test]
async fn a_method_a_path_does_not_take_is_a_405_naming_those_it_does() {
    let env = TestEnv::new().await;
    for (method, path, allow) in [
        (Method::PUT, "/api/customers/x/", "GET, PATCH, DELETE"),
        (Method::DELETE, "/api/customers", "POST, GET"),
        (Method::GET, "/api/users/", "POST"),
        (Method::OPTIONS, "/api/auth/logout", "POST"),
    ] {
        let response = Function::Fallback
            .handle(&env.app, request(method.clone(), path, None, Body::Empty))
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_eq!(read(response).0, StatusCode::METHOD_NOT_ALLOWED);
    }
    assert!(env.calls.take().is_empty());
}

#[test]
fn every_error_code_the_api_gives_is_in_the_openapi_enum() {
    use shared::http::ApiError;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let spec: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let codes = &spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
        ["code"]["enum"];
    let errors = [
        ApiError::field("x", "y"),
        ApiError::Unauthorized("x"),
        ApiError::Forbidden("x"),
        ApiError::Unverified,
        ApiError::LastOwner,
        ApiError::NotFound("x"),
        ApiError::MethodNotAllowed {
            allow: "GET".into(),
        },
        ApiError::PreconditionFailed,
        ApiError::taken(&[("x", true)], "y"),
        ApiError::Contended,
        ApiError::IdempotencyKeyReused,
        ApiError::IdempotencyInProgress,
        ApiError::PayloadTooLarge { limit: 1 },
        ApiError::UnsupportedMediaType,
        ApiError::TooManyRequests {
            what: "x",
            retry_after: 1,
        },
        ApiError::Unavailable("down".into()),
        ApiError::internal("a bug"),
    ];
    for error in errors {
        let (_, body) = read(error.into_response());
        let code = &body["error"]["code"];
        assert!(
            codes.as_array().unwrap().contains(code),
            "{code} is missing from openapi.yaml's Error code enum"
        );
    }
}

/// CORS, as the functions answer it (API Gateway configures none, so the same holds on AWS;
/// scripts/preflight.sh checks the running stack, tests/template_routes.py the template).
#[tokio::test]
async fn browsers_from_allowed_origins_get_cors_headers_and_others_none() {
    use lambda_http::http::header;
    let env = TestEnv::new().await;
    let origins = shared::config::Origins::parse("http://localhost:*").unwrap();
    let app =
        shared::app::App::new(env.app.store.clone(), crm_tests::test_tokens()).allowing(origins);
    let send = |origin: &str, method: Method, path: &str| {
        let mut sent = request(method, path, None, Body::Empty);
        let headers = sent.headers_mut();
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            "POST".parse().unwrap(),
        );
        Function::Fallback.handle(&app, sent)
    };
    let preflight = send("http://localhost:5173", Method::OPTIONS, "/api/customers/")
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let h = preflight.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:5173"
    );
    assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "POST, GET");
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "Authorization, Content-Type, Idempotency-Key, If-Match"
    );
    assert_eq!(h[header::VARY], "Origin");
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());

    let refused = send("https://evil.example", Method::OPTIONS, "/api/customers/")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    let cors: Vec<_> = refused
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");

    // An answer, an error included, is readable by the allowed origin's page.
    let answer = send("http://127.0.0.1:3000", Method::GET, "/api/users/me/")
        .await
        .unwrap();
    assert!(answer
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    let answer = send("http://localhost:3000", Method::GET, "/api/users/me/")
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let h = answer.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    assert_eq!(
        h[header::ACCESS_CONTROL_EXPOSE_HEADERS],
        "ETag, Idempotent-Replayed, Retry-After, Location"
    );

    // Without ALLOWED_ORIGINS, no origin is allowed.
    let bare = Function::Fallback
        .handle(&env.app, {
            let mut sent = request(Method::GET, "/api/users/me/", None, Body::Empty);
            sent.headers_mut()
                .insert(header::ORIGIN, "http://localhost:3000".parse().unwrap());
            sent
        })
        .await
        .unwrap();
    assert!(bare
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    assert!(bare.headers().get(header::VARY).is_none());
}

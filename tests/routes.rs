//! The `fallback` function's route table: every operation of openapi.yaml answers with and
//! without its trailing slash, and anything else is a JSON 404.

use crm_tests::{read, request, with_token, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};

fn operations() -> Vec<(Method, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let spec: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if let Ok(method) = method.to_uppercase().parse::<Method>() {
                found.push((method, path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_operation_answers_with_and_without_its_trailing_slash() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let customer = m.signup["customer"]["id"].as_str().unwrap().to_owned();
    let operations = operations();
    assert!(operations.len() >= 5, "{operations:?}");
    let mut fresh = 0;
    for (method, path) in operations {
        for form in [
            path.trim_end_matches('/').to_owned(),
            format!("{}/", path.trim_end_matches('/')),
        ] {
            // A DELETE takes a customer of its own each time.
            let id = if method == Method::DELETE {
                fresh += 1;
                let body =
                    json!({"organization": m.org, "email": format!("gone{fresh}@example.com")});
                env.create_customer(&m.token, &body).await.1["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                customer.clone()
            };
            let form = form.replace("{id}", &id);
            let bare = form.trim_end_matches('/').to_owned();
            let body = match method {
                Method::PATCH => json!({"name": "Patched"}),
                // A session of its own for each form: a refresh token works once.
                Method::POST
                    if form.starts_with("/api/auth/refresh")
                        || form.starts_with("/api/auth/logout") =>
                {
                    let login = json!({"username": m.signup["user"]["username"], "password": "correct horse battery"});
                    let (_, session) = env.login(&login).await;
                    json!({"refresh_token": session["refresh_token"]})
                }
                Method::POST if form.starts_with("/api/customers") => {
                    json!({"organization": m.org, "email": format!("{}@example.com", form.len())})
                }
                Method::POST if form.starts_with("/api/auth/login") => {
                    json!({"username": m.signup["user"]["username"], "password": "correct horse battery"})
                }
                Method::POST => crm_tests::sample_signup(),
                _ => Value::Null,
            };
            let query = if method == Method::GET && bare == "/api/customers" {
                format!("?organization={}", m.org)
            } else {
                String::new()
            };
            let mut req = request(
                method.clone(),
                &format!("https://api.example.com{form}{query}"),
                Some("application/json"),
                if body.is_null() {
                    Body::Empty
                } else {
                    Body::Text(body.to_string())
                },
            );
            if !query.is_empty() {
                req = lambda_http::RequestExt::with_query_string_parameters(
                    req,
                    std::collections::HashMap::from([("organization".to_owned(), m.org.clone())]),
                );
            }
            let response = shared::http::Function::Fallback
                .handle(&env.app, with_token(req, &m.token))
                .await
                .unwrap();
            assert_ne!(response.status(), StatusCode::NOT_FOUND, "{method} {form}");
            if response.status() == StatusCode::NO_CONTENT {
                continue;
            }
            let (status, answer) = read(response);
            assert!(status.is_success(), "{method} {form}: {status} {answer}");
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
        ApiError::TooManyRequests { retry_after: 1 },
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

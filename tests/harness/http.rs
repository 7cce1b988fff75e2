//! The API over real HTTP on loopback, for clients that are programs of their own (the `crm`
//! tool): each request handed to the fallback function's handlers (every route) as API
//! Gateway would hand it over, with its query string decoded.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request as HttpRequest, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use lambda_http::{Body, RequestExt};
use shared::http::Function;

use crate::TestEnv;

/// Serves `env`'s app on a free loopback port until the runtime ends; its base URL.
pub async fn serve(env: Arc<TestEnv>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("a bound address");
    let router = Router::new().fallback(answer).with_state(env);
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serving") });
    format!("http://{address}")
}

async fn answer(State(env): State<Arc<TestEnv>>, request: HttpRequest) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, 10 * 1024 * 1024).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let body = match String::from_utf8(bytes.to_vec()) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(bytes) => Body::Binary(bytes.into_bytes()),
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let mut request = lambda_http::http::Request::from_parts(parts, body);
    request = request.with_query_string_parameters(query);
    let response = Function::Fallback
        .handle(env.app_of(Function::Fallback), request)
        .await
        .expect("handlers answer every request");
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

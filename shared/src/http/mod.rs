//! API Gateway HTTP API requests in, JSON responses out. [`routes`] is the table of every
//! route and the one dispatcher; one module per resource holds its operations; errors,
//! store errors included, become responses in [`error`] alone.

mod auth;
mod body;
pub mod cors;
mod cursor;
mod customer_changes;
mod customers;
mod error;
pub mod handlers;
mod idempotency;
mod imports;
mod invitations;
mod login;
mod members;
mod organizations;
mod password_reset;
mod passwords;
pub mod routes;
mod session;
mod signup;
mod user_changes;
mod users;
mod verification;

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::Form;

pub use auth::Gate;
pub use body::MAX_BODY_BYTES;
pub use error::{ApiError, ErrorCode, FieldErrors};
pub use handlers::Handlers;
pub use routes::{route_of, Function, Operation, Route, ROUTES};

/// A query string's parameters (the first value of each), read like a body's fields.
pub(crate) fn query_form(request: &lambda_http::Request) -> Form {
    use lambda_http::RequestExt;
    let query = request.query_string_parameters();
    let object = query
        .iter()
        .filter_map(|(name, _)| {
            let first = query.first(name)?;
            Some((name.to_owned(), serde_json::Value::String(first.to_owned())))
        })
        .collect();
    Form::parameters(object)
}

pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let json = serde_json::to_string(body).expect("response bodies serialize");
    let mut response = Response::new(Body::Text(json));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A response carrying a token must not be kept by any cache (RFC 6749 §5.1).
pub(crate) fn no_store(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 201 names where what it created is read (RFC 9110 §15.3.2); other answers are left
/// as they are.
pub(crate) fn located(mut response: Response<Body>, path: &str) -> Response<Body> {
    if response.status() == StatusCode::CREATED {
        if let Ok(path) = HeaderValue::from_str(path) {
            response.headers_mut().insert(header::LOCATION, path);
        }
    }
    response
}

/// Every request's last step: a result becomes a response either way.
pub(crate) fn respond(
    result: Result<Response<Body>, ApiError>,
) -> Result<Response<Body>, lambda_http::Error> {
    Ok(result.unwrap_or_else(ApiError::into_response))
}

//! The `Idempotency-Key` header in, and replayed first answers out.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use crate::domain::{Idempotency, IdempotencyKey, IdempotencyScope};
use crate::store::StoredAnswer;

use super::ApiError;

const HEADER: &str = "Idempotency-Key";

/// The request's idempotency, when it carries a key; a malformed key is a 400 naming the
/// header. `body` is the request's JSON object, fingerprinted.
pub fn of(
    request: &Request,
    scope: IdempotencyScope,
    body: &Map<String, Value>,
) -> Result<Option<Idempotency>, ApiError> {
    let mut sent = request.headers().get_all(HEADER).iter();
    let Some(raw) = sent.next() else {
        return Ok(None);
    };
    // Two keys cannot both name the request; neither is picked silently. API Gateway joins
    // them into one value with a comma, which the key refuses.
    if sent.next().is_some() {
        return Err(ApiError::field(HEADER, "must be sent once"));
    }
    let key = raw
        .to_str()
        .map_err(|_| "must be visible ASCII")
        .and_then(IdempotencyKey::parse)
        .map_err(|e| ApiError::field(HEADER, e))?;
    Ok(Some(Idempotency::new(scope, &key, body)))
}

/// The first answer again, marked as such. A first answer without a body (a 204) comes
/// back without one, and without a content type (RFC 9110 §15.3.5).
pub fn replay(answer: &StoredAnswer) -> Response<Body> {
    if answer.body.is_empty() {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
        response
            .headers_mut()
            .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
        return response;
    }
    let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    replay_json(answer.status, &body)
}

pub fn replay_json(status: u16, body: &Value) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = super::json_response(status, body);
    response
        .headers_mut()
        .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    response
}

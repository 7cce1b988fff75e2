//! CORS for browser clients, answered by the functions themselves, so that `make run` and API
//! Gateway answer alike: the template configures no `CorsConfiguration`, API Gateway hands a
//! preflight (`OPTIONS`, a method no route takes) to the `$default` route, and `fallback`
//! answers it here, as `cargo lambda watch --disable-cors` hands it over locally.
//!
//! Only origins in `ALLOWED_ORIGINS` get CORS headers; any other gets none at all. Never `*`,
//! and never `Access-Control-Allow-Credentials`: the API reads bearer tokens, not cookies.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::config::Origins;

/// The request headers the API reads, as a preflight may ask for them.
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-Match";
/// The response headers a page may read.
const EXPOSE_HEADERS: &str = "ETag, Idempotent-Replayed, Retry-After, Location";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// The request's `Origin`, when `origins` allows it.
pub fn allowed_origin(origins: &Origins, request: &Request) -> Option<HeaderValue> {
    let origin = request.headers().get(header::ORIGIN)?;
    origins
        .allows(origin.to_str().ok()?)
        .then(|| origin.clone())
}

/// The answer to a preflight from an allowed origin, for a path taking `methods`.
pub fn preflight(
    request: &Request,
    origin: &HeaderValue,
    methods: &[&str],
) -> Option<Response<Body>> {
    if request.method() != Method::OPTIONS
        || !request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        || methods.is_empty()
    {
        return None;
    }
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    if let Ok(methods) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    Some(response)
}

/// Any other answer: readable by an allowed origin's page, with the headers it may read.
/// `Vary: Origin` goes on every answer when any origin is allowed, so a cache never serves
/// one origin's answer to another.
pub fn expose(
    mut response: Response<Body>,
    origins: &Origins,
    origin: Option<HeaderValue>,
) -> Response<Body> {
    let headers = response.headers_mut();
    if !origins.is_empty() {
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}

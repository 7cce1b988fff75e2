//! Every route of the API in one table, each path with or without its trailing slash.
//!
//! API Gateway HTTP APIs refuse route paths that end in `/`, so `template.yaml` gives each
//! function its slash-free routes and sends everything else (`$default`) to the `fallback`
//! function, which answers here: the seed's slashed paths (`/api/users/`) reach the same
//! handlers, and anything else gets a JSON 404.

use std::collections::HashMap;

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::app::App;

use super::{customer_changes, customers, login, respond, session, signup, users, ApiError};

pub async fn dispatch(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let path = request.uri().path().to_owned();
    let trimmed = path.strip_suffix('/').unwrap_or(&path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segments.as_slice() {
        ["api", "users"] => signup::handle(app, request).await,
        ["api", "auth", "login"] => login::handle(app, request).await,
        ["api", "auth", "refresh" | "logout"] => session::handle(app, request).await,
        ["api", "customers"] if request.method() == Method::POST => {
            customers::handle_create(app, request).await
        }
        ["api", "customers"] => customers::handle_read(app, request).await,
        ["api", "users", "me"] => users::handle_me(app, request).await,
        ["api", "customers", id] if !id.is_empty() => {
            let id = HashMap::from([("id".to_owned(), (*id).to_owned())]);
            let request = request.with_path_parameters(id);
            if matches!(*request.method(), Method::PATCH | Method::DELETE) {
                customer_changes::handle(app, request).await
            } else {
                customers::handle_read(app, request).await
            }
        }
        _ => respond(Err(ApiError::NotFound("No such route."))),
    }
}

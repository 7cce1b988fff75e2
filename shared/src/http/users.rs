//! GET /api/users/me: the caller, their profiles, their organizations, and every customer
//! record that names them, across all organizations. One strongly consistent `Query` of the
//! caller's own partition: what linking and unlinking wrote there is seen at once.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::App;

use super::auth::caller;
use super::{json_response, ApiError};

pub(super) async fn me(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(app, &request)?;
    let me = app
        .store
        .me(caller.user)
        .await?
        .ok_or(ApiError::Unauthorized(
            "The access token's user no longer exists.",
        ))?;
    Ok(json_response(StatusCode::OK, &me))
}

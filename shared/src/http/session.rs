//! Tokens out: the pair sign-up and log-in answer with, and the two session routes.
//!
//! - `POST /api/auth/refresh` `{"refresh_token"}`: a new access token (with the caller's
//!   current roles) and a new refresh token; the presented one is dead from then on, and
//!   presenting it again revokes the whole session.
//! - `POST /api/auth/logout` `{"refresh_token"}`: revokes the session, 204, when the token is
//!   one the session issued; 401 for anything else, which changes nothing.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::auth::{AccessToken, NoSigningKey, RefreshToken};
use crate::domain::{Email, OrgRole, UserId};
use crate::store::Rotation;

use super::body::json_object;
use super::{json_response, no_store, ApiError};
use crate::domain::Form;

const REFUSED: &str = "The refresh token is invalid, expired or revoked; log in again.";

/// Both tokens, as every answer that starts or renews a session carries them.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    #[serde(flatten)]
    pub access: AccessToken,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

/// A new session's first refresh token and when it expires (Unix seconds).
pub(crate) fn new_session(app: &App, user: UserId) -> (RefreshToken, u64) {
    (
        RefreshToken::start(user),
        app.store.now().unix() + app.tokens.refresh_lifetime().as_secs(),
    )
}

pub(crate) fn pair(
    app: &App,
    (user, email): (UserId, &Email),
    roles: &[OrgRole],
    refresh: &RefreshToken,
) -> Result<TokenPair, NoSigningKey> {
    Ok(TokenPair {
        access: app.tokens.issue(user, Some(email), roles)?,
        refresh_token: refresh.expose(),
        refresh_expires_in: app.tokens.refresh_lifetime().as_secs(),
    })
}

fn presented(request: &Request) -> Result<Result<RefreshToken, ()>, ApiError> {
    let mut form = Form::new(json_object(request)?);
    let raw = form.raw("refresh_token");
    match raw {
        Some(raw) if !form.has_errors() => Ok(RefreshToken::parse(&raw).map_err(|_| ())),
        _ => Err(ApiError::Validation(form.into_errors())),
    }
}

pub(super) async fn refresh(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let token = presented(&request)?.map_err(|()| ApiError::Unauthorized(REFUSED))?;
    let next = app.tokens.successor(&token)?;
    let now = app.store.now();
    let expires_at = now.unix() + app.tokens.refresh_lifetime().as_secs();
    match app
        .store
        .rotate_session(&token, &next, expires_at, now)
        .await?
    {
        Rotation::Rotated { roles, email } => {
            tracing::info!(user_id = %token.user, session = %token.log_tag(), "session refreshed");
            Ok(no_store(json_response(
                StatusCode::OK,
                &pair(app, (token.user, &email), &roles, &next)?,
            )))
        }
        Rotation::Reused => {
            tracing::warn!(user_id = %token.user, session = %token.log_tag(), "refresh token reused; session revoked");
            Err(ApiError::Unauthorized(REFUSED))
        }
        Rotation::Refused => Err(ApiError::Unauthorized(REFUSED)),
    }
}

/// 204 when the token is one its session issued (the session is revoked, or already was);
/// 401, changing nothing, for anything else.
pub(super) async fn log_out(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let token = presented(&request)?.map_err(|()| ApiError::Unauthorized(REFUSED))?;
    if !app.store.log_out(&token, app.store.now().unix()).await? {
        return Err(ApiError::Unauthorized(REFUSED));
    }
    tracing::info!(user_id = %token.user, session = %token.log_tag(), "logged out");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

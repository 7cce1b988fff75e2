//! Password reset, for someone who cannot log in.
//!
//! `POST /api/auth/password-reset` with `{"email"}` always answers 202 with the same body,
//! after the same calls, whether or not an account has the email (and whether or not the
//! email asked too often): only the owner of the address learns, from the mail, that it is
//! an account's. The mail goes through the outbox (`store::password_resets`).
//!
//! `POST /api/auth/password-reset/confirm` with `{"token", "new_password"}`: 204, the
//! password changed, every session of the user ended at its next refresh (access tokens
//! live out their 15 minutes, as after a password change), the account's log-in throttle
//! cleared. An unknown, used, replaced or expired token is one 400 naming `token`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::{LinkKind, LinkToken};
use crate::domain::{Email, Form, Password, PasswordHash};
use crate::store::{Attempter, ResetRequested, TokenRefused};

use super::body::json_object;
use super::passwords::new_password;
use super::{json_response, ApiError};

const ASKED: &str =
    "If an account has this email, a link to choose a new password is on its way to it.";
/// A mailed link's token that does not work, whatever the reason (also email verification's).
pub(super) const TOKEN_REFUSED: &str = "is unknown, used or expired: ask for a new link";

pub(super) async fn request(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let mut form = Form::new(json_object(&request)?);
    form.only(&["email"]);
    let email = form.required("email", Email::parse);
    let email = form.finish(email)?;
    let asked = app
        .store
        .request_password_reset(&email, &app.app_url, LinkToken::password_reset)
        .await?;
    // The outcome is logged by user id only: never the address, never the token.
    match asked {
        ResetRequested::Mailed(user) => tracing::info!(user_id = %user, "password reset mailed"),
        ResetRequested::NoAccount => tracing::info!("password reset asked for no account"),
        ResetRequested::TooOften => tracing::info!("password reset asked too often; not sent"),
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "message": ASKED }),
    ))
}

pub(super) async fn confirm(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let (token, new) = parse(json_object(&request)?)?;
    let refused = || ApiError::field("token", TOKEN_REFUSED);
    let Some((account, reset)) = app.store.password_reset(&token).await? else {
        return Err(refused());
    };
    let personal = [account.user.username.as_str(), account.user.email.as_str()];
    let new = Password::parse(&new, &personal).map_err(|e| ApiError::field("new_password", e))?;
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&new))
        .await
        .map_err(ApiError::internal)?;
    let changed_at = app.store.now().unix_ms;
    app.store
        .reset_password(&account, &reset, &hash, changed_at)
        .await?;
    app.store
        .forget_login_failures(&Attempter::Account(account.user.id))
        .await?;
    tracing::info!(user_id = %account.user.id, "password reset");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

impl From<TokenRefused> for ApiError {
    fn from(_: TokenRefused) -> Self {
        ApiError::field("token", TOKEN_REFUSED)
    }
}

/// A token of the reset shape and a new password that passes the sign-up rules (but for
/// naming the account, checked once it is read).
fn parse(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<(LinkToken, String), ApiError> {
    let mut form = Form::new(object);
    form.only(&["token", "new_password"]);
    let token = form.required("token", |raw| {
        LinkToken::parse(LinkKind::PasswordReset, raw).map_err(|_| TOKEN_REFUSED)
    });
    let new = new_password(&mut form);
    Ok(form.finish(token.zip(new))?)
}

//! Verified emails (the caller's own).
//!
//! `POST /api/users/me/email/verify` with `{"token"}` (the mailed link's): 204, the email
//! verified. A token that is not the caller's newest unexpired link for their current
//! address is one 400 naming `token`, as a reset's.
//!
//! `POST /api/users/me/email/verify/resend`: 202, a new link mailed (the older one stops
//! working), at most 3 times an hour (more are answered alike and send nothing); 409 naming
//! `email` when it is verified already.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::{Caller, LinkKind, LinkToken};
use crate::domain::Form;
use crate::store::{Resent, VerifiedAlready};

use super::body::json_object;
use super::password_reset::TOKEN_REFUSED;
use super::{json_response, ApiError, FieldErrors};

pub(super) async fn verify(
    app: &App,
    request: Request,
    caller: Caller,
) -> Result<Response<Body>, ApiError> {
    let mut form = Form::new(json_object(&request)?);
    form.only(&["token"]);
    let token = form.required("token", |raw| {
        LinkToken::parse(LinkKind::EmailVerification, raw)
            .ok()
            .filter(|token| token.user == caller.user)
            .ok_or(TOKEN_REFUSED)
    });
    let token = form.finish(token)?;
    app.store.verify_email(&token).await?;
    tracing::info!(user_id = %caller.user, "email verified");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

pub(super) async fn resend(
    app: &App,
    _request: Request,
    caller: Caller,
) -> Result<Response<Body>, ApiError> {
    match app
        .store
        .resend_verification(caller.user, &app.app_url)
        .await?
    {
        Resent::Mailed => tracing::info!(user_id = %caller.user, "verification mailed again"),
        Resent::TooOften => {
            tracing::info!(user_id = %caller.user, "verification asked too often; not sent");
        }
    }
    let message = "A new verification link is on its way to your email.";
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "message": message }),
    ))
}

impl From<VerifiedAlready> for ApiError {
    fn from(_: VerifiedAlready) -> Self {
        Self::Conflict {
            message: "Your email is verified already.".to_owned(),
            fields: FieldErrors::from([("email".to_owned(), "is verified already".to_owned())]),
        }
    }
}

//! PATCH /api/users/me: the caller changes their own account.
//!
//! `{"first_name", "last_name", "email"}`, each optional (absent, null or blank: unchanged): 200 `user` (as it is now) and
//! `pending_email`. Names change at once; the lists members are shown in follow within
//! seconds (the table's stream). A new `email` is not the account's until the link mailed to
//! it is used (`POST /api/users/me/email/verify`); until then `pending_email` names it, log-in
//! and resets use the old one, and a newer request replaces the link. 409 naming `email`
//! when another account has it; 429 past 3 links an hour (resends count).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::Caller;
use crate::domain::{Email, Form, PersonName, UserChange};
use crate::store::{UserChangeRefusal, VerifyRefusal};

use super::body::json_object;
use super::{json_response, ApiError};

const FIELDS: [&str; 3] = ["first_name", "last_name", "email"];

pub(super) async fn update(
    app: &App,
    request: Request,
    caller: Caller,
) -> Result<Response<Body>, ApiError> {
    let change = parse(&request)?;
    let changed = app
        .store
        .change_user(caller.user, &change, &app.app_url)
        .await?;
    if changed.pending_email.is_some() {
        tracing::info!(user_id = %caller.user, "email change: link mailed to the new address");
    }
    let body = json!({ "user": changed.user, "pending_email": changed.pending_email });
    Ok(json_response(StatusCode::OK, &body))
}

/// Each field given must be valid; absent, null or blank leaves it as it is.
fn parse(request: &Request) -> Result<UserChange, ApiError> {
    let mut form = Form::new(json_object(request)?);
    form.only(&FIELDS);
    let change = UserChange {
        first_name: form.optional("first_name", PersonName::parse),
        last_name: form.optional("last_name", PersonName::parse),
        email: form.optional("email", Email::parse),
    };
    Ok(form.finish(Some(change))?)
}

fn email_taken() -> ApiError {
    ApiError::taken(&[("email", true)], "user")
}

impl From<UserChangeRefusal> for ApiError {
    fn from(refusal: UserChangeRefusal) -> Self {
        match refusal {
            UserChangeRefusal::Gone => {
                ApiError::Unauthorized("The access token's user no longer exists.")
            }
            UserChangeRefusal::EmailTaken => email_taken(),
            UserChangeRefusal::TooOften => ApiError::TooManyRequests {
                what: "Three links were mailed to change or verify this account's email this hour",
                retry_after: 3600,
            },
        }
    }
}

impl From<VerifyRefusal> for ApiError {
    fn from(refusal: VerifyRefusal) -> Self {
        match refusal {
            VerifyRefusal::Token(refused) => refused.into(),
            VerifyRefusal::EmailTaken => email_taken(),
        }
    }
}

//! POST /api/auth/login/: a password for an access token.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::auth::AccessToken;
use crate::domain::{Email, LoginName, PasswordHash, User, Username, DUMMY_HASH};
use crate::store::LoginRecord;

use super::body::{expect_method, json_object};
use super::form::Form;
use super::{json_response, no_store, respond, ApiError};

/// One answer for a wrong password and an unknown user alike.
const REFUSED: &str = "Invalid username, email or password.";

#[derive(Serialize)]
struct LoggedIn<'a> {
    #[serde(flatten)]
    token: AccessToken,
    user: &'a User,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    respond(log_in(app, request).await)
}

async fn log_in(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let (name, password) = parse(&request)?;
    let found = app.store.find_login(&name).await?;
    let (found, hash) = match found {
        Some(LoginRecord { user, hash, roles }) => (Some((user, roles)), hash),
        None => (None, PasswordHash::from_stored(DUMMY_HASH.to_owned())),
    };
    // Verification is slow by design; it runs for unknown users too, so both paths take
    // the same time.
    let verified = tokio::task::spawn_blocking(move || hash.verify(&password))
        .await
        .map_err(|_| ApiError::Internal)?;
    match found {
        Some((user, roles)) if verified => {
            tracing::info!(user_id = %user.id, "logged in");
            let token = app.tokens.issue(user.id, &roles);
            Ok(no_store(json_response(
                StatusCode::OK,
                &LoggedIn { token, user: &user },
            )))
        }
        _ => {
            tracing::info!(known_user = found.is_some(), "log-in refused");
            Err(ApiError::Unauthorized(REFUSED))
        }
    }
}

fn parse(request: &Request) -> Result<(LoginName, String), ApiError> {
    expect_method(request, Method::POST)?;
    let mut form = Form::new(json_object(request)?);
    let username = form.optional("username", Username::parse);
    let email = form.optional("email", Email::parse);
    let password = form.raw("password");
    let name = match (username, email) {
        (Some(username), _) => Some(LoginName::Username(username)),
        (None, Some(email)) => Some(LoginName::Email(email)),
        (None, None) => {
            form.reject("username", "username or email is required");
            None
        }
    };
    match (name, password) {
        (Some(name), Some(password)) if !form.has_errors() => Ok((name, password)),
        _ => Err(form.into_error()),
    }
}

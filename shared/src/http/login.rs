//! POST /api/auth/login: a password for an access token and a refresh token, with
//! failures throttled per name.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::domain::{unix_now, Email, LoginName, PasswordHash, User, Username, DUMMY_HASH};
use crate::store::{LoginRecord, LoginState};

use super::body::json_object;
use super::form::Form;
use super::session::{new_session, pair, TokenPair};
use super::{json_response, no_store, ApiError};

/// One answer for a wrong password and an unknown user alike.
const REFUSED: &str = "Invalid username, email or password.";

#[derive(Serialize)]
struct LoggedIn<'a> {
    #[serde(flatten)]
    tokens: TokenPair,
    user: &'a User,
}

/// One `Query` (the name's claim and its failure record), then: a refusal while failures
/// throttle the name (no hash is checked); on success a `PutItem` of the new session (and,
/// after failures, a `DeleteItem` of them, alongside); on failure an `UpdateItem` counting it.
pub(super) async fn log_in(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let (name, password) = parse(&request)?;
    let LoginState { account, failures } = app.store.login_state(&name).await?;
    if let Some(retry_after) = failures.refused_for(unix_now()) {
        tracing::info!(retry_after, "log-in throttled");
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let (account, hash) = match account {
        Some(LoginRecord { user, hash, roles }) => (Some((user, roles)), hash),
        None => (None, PasswordHash::from_stored(DUMMY_HASH.to_owned())),
    };
    // Verification is slow by design; it runs for unknown users too, so both paths take
    // the same time.
    let verified = tokio::task::spawn_blocking(move || hash.verify(&password))
        .await
        .map_err(ApiError::internal)?;
    match account {
        Some((user, roles)) if verified => {
            let (refresh, expires_at) = new_session(app, user.id);
            let forget = async {
                if failures.count > 0 {
                    app.store.forget_login_failures(&name).await
                } else {
                    Ok(())
                }
            };
            let (started, forgotten) =
                tokio::join!(app.store.start_session(&refresh, expires_at), forget);
            started?;
            forgotten?;
            tracing::info!(user_id = %user.id, "logged in");
            let tokens = pair(app, user.id, &roles, &refresh);
            Ok(no_store(json_response(
                StatusCode::OK,
                &LoggedIn {
                    tokens,
                    user: &user,
                },
            )))
        }
        _ => {
            app.store
                .record_login_failure(&name, failures, unix_now())
                .await?;
            tracing::info!(known_user = account.is_some(), "log-in refused");
            Err(ApiError::Unauthorized(REFUSED))
        }
    }
}

fn parse(request: &Request) -> Result<(LoginName, String), ApiError> {
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

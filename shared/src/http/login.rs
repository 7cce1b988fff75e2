//! POST /api/auth/login: a password for an access token and a refresh token, with
//! failures throttled per name.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::domain::{Email, LoginName, PasswordHash, User, Username, DUMMY_HASH};
use crate::store::{Attempter, LoginAttempt, LoginRecord};

use super::body::json_object;
use super::session::{new_session, pair, TokenPair};
use super::{json_response, no_store, ApiError};
use crate::domain::Form;

/// One answer for a wrong password and an unknown user alike.
const REFUSED: &str = "Invalid username, email or password.";

#[derive(Serialize)]
struct LoggedIn<'a> {
    #[serde(flatten)]
    tokens: TokenPair,
    user: &'a User,
}

/// One `GetItem` (the name's claim), one `UpdateItem` taking the attempt (or a 429, with no
/// hash checked), the hash check (of a dummy hash for an unknown name, so both take the same
/// time), then on success a `PutItem` of the new session and a `DeleteItem` giving the
/// attempts back, alongside; on failure nothing more until the free attempts are used.
pub(super) async fn log_in(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let (name, password) = parse(&request)?;
    let account = app.store.login_account(&name).await?;
    let who = match &account {
        Some(account) => Attempter::Account(account.user.id),
        None => Attempter::Name(&name),
    };
    let count = take_attempt(app, &who).await?;
    let (account, hash) = match account {
        Some(LoginRecord { user, hash, roles }) => (Some((user, roles)), hash),
        None => (None, PasswordHash::from_stored(DUMMY_HASH.to_owned())),
    };
    let verified = verify(hash, password).await?;
    match account {
        Some((user, roles)) if verified => {
            let (refresh, expires_at) = new_session(app, user.id);
            let (started, forgotten) = tokio::join!(
                app.store.start_session(&refresh, expires_at),
                app.store.forget_login_failures(&who)
            );
            started?;
            forgotten?;
            tracing::info!(user_id = %user.id, "logged in");
            let tokens = pair(app, (user.id, &user.email), &roles, &refresh)?;
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
                .record_login_failure(&who, count, app.store.now().unix())
                .await?;
            tracing::info!(known_user = account.is_some(), "log-in refused");
            Err(ApiError::Unauthorized(REFUSED))
        }
    }
}

/// Takes an attempt to prove `who`'s password: its number in the window, or the 429 that
/// says how long to wait. Log-in and a replayed sign-up take them alike.
pub(super) async fn take_attempt(app: &App, who: &Attempter<'_>) -> Result<u32, ApiError> {
    match app
        .store
        .take_login_attempt(who, app.store.now().unix())
        .await?
    {
        LoginAttempt::Taken(count) => Ok(count),
        LoginAttempt::Refused { retry_after } => {
            tracing::info!(retry_after, "log-in throttled");
            Err(ApiError::TooManyRequests {
                what: "Too many failed log-ins",
                retry_after,
            })
        }
    }
}

/// Checks a password off the executor's threads: slow by design.
pub(super) async fn verify(hash: PasswordHash, password: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || hash.verify(&password))
        .await
        .map_err(ApiError::internal)
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
        _ => Err(ApiError::Validation(form.into_errors())),
    }
}

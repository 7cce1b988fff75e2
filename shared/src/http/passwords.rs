//! POST /api/users/me/password: a password change. The current password is checked as a
//! log-in attempt of the account (throttled and counted alike); the new one follows the
//! sign-up rules. It answers a fresh token pair, and every session started before it ends
//! at its next refresh. Access tokens already issued live out their lifetime (15 minutes by
//! default): checking a token version on every request would cost every route a read.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{Password, PasswordHash};
use crate::store::Attempter;

use super::body::json_object;
use super::login::{take_attempt, verify};
use super::session::{new_session, pair};
use super::{json_response, no_store, ApiError};
use crate::auth::Caller;
use crate::domain::Form;

const WRONG: &str = "The current password is wrong.";
const GONE: &str = "The access token's user no longer exists.";

pub(super) async fn change_password(
    app: &App,
    request: Request,
    caller: Caller,
) -> Result<Response<Body>, ApiError> {
    let (current, new) = parse(json_object(&request)?)?;
    let account = app
        .store
        .account(caller.user)
        .await?
        .ok_or(ApiError::Unauthorized(GONE))?;
    let personal = [account.user.username.as_str(), account.user.email.as_str()];
    let new = Password::parse(&new, &personal).map_err(|e| ApiError::field("new_password", e))?;
    let who = Attempter::Account(caller.user);
    let count = take_attempt(app, &who).await?;
    if !verify(account.hash.clone(), current).await? {
        app.store
            .record_login_failure(&who, count, app.store.now().unix())
            .await?;
        tracing::info!(user_id = %caller.user, "password change refused");
        return Err(ApiError::Unauthorized(WRONG));
    }
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&new))
        .await
        .map_err(ApiError::internal)?;
    // Sessions started before this moment end; the new one starts after it.
    let changed_at = app.store.now().unix_ms;
    let (refresh, expires_at) = new_session(app, caller.user);
    app.store
        .change_password(
            &account.user,
            &account.hash,
            &hash,
            &refresh,
            expires_at,
            changed_at,
        )
        .await?;
    app.store.forget_login_failures(&who).await?;
    tracing::info!(user_id = %caller.user, "password changed");
    let tokens = pair(
        app,
        (caller.user, &account.user.email),
        &account.roles,
        &refresh,
    )?;
    Ok(no_store(json_response(StatusCode::OK, &tokens)))
}

/// The current password as sent, and a new one that passes the rules a sign-up's does (but
/// for naming the account, checked once it is read).
fn parse(object: Map<String, Value>) -> Result<(String, String), ApiError> {
    let mut form = Form::new(object);
    form.only(&["current_password", "new_password"]);
    let current = form.raw("current_password");
    let new = new_password(&mut form);
    Ok(form.finish(current.zip(new))?)
}

/// `new_password` as sent, when it passes the rules a sign-up's does (naming the account is
/// checked once the account is read); otherwise the form names it.
pub(super) fn new_password(form: &mut Form) -> Option<String> {
    form.raw("new_password")
        .filter(|raw| match Password::parse(raw, &[]) {
            Ok(_) => true,
            Err(e) => {
                form.reject("new_password", e);
                false
            }
        })
}

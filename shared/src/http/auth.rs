//! `Authorization: Bearer <token>` to the calling user.

use lambda_http::http::header;
use lambda_http::Request;

use crate::app::App;
use crate::auth::{Access, Action, Caller, TokenError};
use crate::domain::{OrgId, Role};

use super::ApiError;

/// Strangers and unknown organizations get this one answer: a stranger learns nothing.
pub(super) const NOT_MEMBER: &str = "You are not a member of this organization.";
const MISSING: &str = "Authorization: Bearer <token> is required.";
const REFUSED: &str = "The access token is invalid or expired.";

/// The caller and their roles, as the token says; no read (see `auth::tokens`).
pub fn caller(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized(MISSING))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized(MISSING))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized(MISSING));
    }
    app.tokens.verify(token.trim()).map_err(|e| {
        let reason = match e {
            TokenError::Expired => "expired",
            TokenError::Invalid => "invalid",
        };
        tracing::info!(reason, "access token refused");
        ApiError::Unauthorized(REFUSED)
    })
}

/// The caller's role in `org`, if it allows `action` as the permission matrix says: 403 for a
/// stranger (whether or not the organization exists), and 403 naming the permission for a
/// member whose role lacks it. No read, unless the token leaves `org` out (a caller in more
/// organizations than a token carries): then one, of the caller's membership.
pub async fn authorize(
    app: &App,
    caller: &Caller,
    action: Action,
    org: OrgId,
) -> Result<Role, ApiError> {
    let access = match caller.may(action, org) {
        Access::Unlisted => knowing(app, caller, org).await?.may(action, org),
        access => access,
    };
    match access {
        Access::Allowed(role) => Ok(role),
        Access::NotMember | Access::Unlisted => Err(ApiError::Forbidden(NOT_MEMBER)),
        Access::Lacks(action) => Err(ApiError::Lacks(action)),
    }
}

/// The caller, knowing their role in `org` from one strongly consistent read of their
/// membership: for a token that leaves `org` out.
pub async fn knowing(app: &App, caller: &Caller, org: OrgId) -> Result<Caller, ApiError> {
    let role = app.store.member_role(org, caller.user).await?;
    Ok(caller.knowing(org, role))
}

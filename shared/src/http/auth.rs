//! Who is calling, and what they may do: the one place a route's declared [`Gate`] is
//! enforced. The dispatcher (`routes::dispatch`) calls [`admit`] before any handler runs,
//! and hands the handler what it proves: nothing, the [`Caller`], an [`Authorized`] for the
//! organization in the path, or an [`Admission`] that decides, for the route's own action,
//! on the organization the request names elsewhere. No handler decides a permission.

use lambda_http::http::header;
use lambda_http::Request;

use crate::app::App;
use crate::auth::{Access, Action, Authorized, Caller, TokenError};
use crate::domain::OrgId;

use super::organizations::org_in_path;
use super::ApiError;

/// Strangers and unknown organizations get this one answer: a stranger learns nothing.
pub(super) const NOT_MEMBER: &str = "You are not a member of this organization.";
const MISSING: &str = "Authorization: Bearer <token> is required.";
const REFUSED: &str = "The access token is invalid or expired.";

/// What a route needs of its caller, as the route table declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Anyone: sign-up, log-in, refresh and log-out, whose bodies prove who is asking.
    Public,
    /// A signed-in caller, acting on themselves.
    Caller,
    /// A member of the organization in the path (`{org}`) whose role has the permission.
    Member(Action),
    /// A member of the organization the request names in its body or query, or that the
    /// record it addresses belongs to, whose role has the permission.
    Named(Action),
}

impl Gate {
    /// The permission the route needs, if any.
    pub fn action(self) -> Option<Action> {
        match self {
            Self::Public | Self::Caller => None,
            Self::Member(action) | Self::Named(action) => Some(action),
        }
    }
}

/// What the dispatcher proved before the handler runs.
pub(super) enum Granted {
    Anyone,
    Caller(Caller),
    Member(Authorized),
    Named(Admission),
}

/// A signed-in caller and the one permission their route needs, for an organization the
/// handler learns from the request: [`Admission::admit`] decides, on that permission only.
#[derive(Clone)]
pub(super) struct Admission {
    caller: Caller,
    action: Action,
}

impl Admission {
    pub(super) fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The caller, authorized for the route's action in `org`: 403 as [`admit`] gives it.
    pub(super) async fn admit(&self, app: &App, org: OrgId) -> Result<Authorized, ApiError> {
        authorized(app, self.caller.clone(), self.action, org).await
    }

    /// What the token says of `org`, with no read: for a decision made inside a write that
    /// learns the organization from the record it reads.
    pub(super) fn may(&self, org: OrgId) -> Access {
        self.caller.may(self.action, org)
    }

    /// The same admission, knowing the caller's role in `org` from their membership: for a
    /// token that leaves `org` out.
    pub(super) async fn knowing(&self, app: &App, org: OrgId) -> Result<Self, ApiError> {
        Ok(Self {
            caller: knowing(app, &self.caller, org).await?,
            action: self.action,
        })
    }
}

/// What `gate` asks of the request's caller: the token for all but public routes; for
/// [`Gate::Member`], the organization in the path and the permission in it.
pub(super) async fn admit(app: &App, request: &Request, gate: Gate) -> Result<Granted, ApiError> {
    Ok(match gate {
        Gate::Public => Granted::Anyone,
        Gate::Caller => Granted::Caller(caller(app, request).await?),
        Gate::Member(action) => {
            let caller = caller(app, request).await?;
            let org = org_in_path(request)?;
            Granted::Member(authorized(app, caller, action, org).await?)
        }
        Gate::Named(action) => Granted::Named(Admission {
            caller: caller(app, request).await?,
            action,
        }),
    })
}

/// The caller and their roles, as the token says; no read (see `auth::tokens`), unless this
/// function's public keys are old or the token names a key it does not know: then one
/// `Query` of the keys first ([`App::read_token_keys`]), and the token is verified with them.
async fn caller(app: &App, request: &Request) -> Result<Caller, ApiError> {
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
    let token = token.trim();
    let mut verified = app.tokens.verify(token);
    let now = std::time::Instant::now();
    if app
        .tokens
        .wants_keys(now, verified == Err(TokenError::UnknownKey))
    {
        app.read_token_keys(now).await;
        verified = app.tokens.verify(token);
    }
    verified.map_err(|e| {
        let reason = match e {
            TokenError::Expired => "expired",
            TokenError::Invalid => "invalid",
            TokenError::UnknownKey => "unknown key",
        };
        tracing::info!(reason, "access token refused");
        ApiError::Unauthorized(REFUSED)
    })
}

/// The caller, authorized for `action` in `org` as the permission matrix says: 403 for a
/// stranger (whether or not the organization exists), and 403 naming the permission for a
/// member whose role lacks it. No read, unless the token leaves `org` out (a caller in more
/// organizations than a token carries): then one, of the caller's membership.
async fn authorized(
    app: &App,
    caller: Caller,
    action: Action,
    org: OrgId,
) -> Result<Authorized, ApiError> {
    let caller = match caller.may(action, org) {
        Access::Unlisted => knowing(app, &caller, org).await?,
        _ => caller,
    };
    caller
        .authorized(action, org)
        .map_err(|refused| match refused {
            Access::Lacks(action) => ApiError::Lacks(action),
            Access::NotMember | Access::Unlisted | Access::Allowed(_) => {
                ApiError::Forbidden(NOT_MEMBER)
            }
        })
}

/// `caller`, knowing their role in `org` from one strongly consistent read of their
/// membership: for a token that leaves `org` out (a caller in more organizations than a
/// token carries).
async fn knowing(app: &App, caller: &Caller, org: OrgId) -> Result<Caller, ApiError> {
    let role = app.store.member_role(org, caller.user).await?;
    Ok(caller.knowing(org, role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Operation, ROUTES};

    #[test]
    fn only_the_token_and_reset_routes_are_public_and_every_other_names_its_proof() {
        for route in &ROUTES {
            let public = matches!(
                route.operation,
                Operation::SignUp
                    | Operation::LogIn
                    | Operation::Refresh
                    | Operation::LogOut
                    | Operation::RequestPasswordReset
                    | Operation::ResetPassword
            );
            let gate = route.operation.gate();
            assert_eq!(gate == Gate::Public, public, "{:?}", route.operation);
            // A route with `{org}` in its path is authorized for it before its handler runs.
            let in_path = route.path.contains("{org}");
            assert_eq!(
                matches!(gate, Gate::Member(_)),
                in_path,
                "{:?}",
                route.operation
            );
        }
    }

    /// The handlers take proofs ([`Granted`]); none decides a permission or reads a token
    /// itself. What would let one is named here, and found only in this file.
    #[test]
    fn the_dispatcher_is_the_only_place_permissions_are_decided() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("src/http") {
            let path = entry.expect("an entry").path();
            if path.file_name().is_some_and(|n| n == "auth.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            read += 1;
            for decides in [
                "permits(",
                ".authorized(",
                "tokens.verify(",
                "member_role(",
                "auth::admit",
            ] {
                let dispatcher = path.ends_with("routes.rs") && decides == "auth::admit";
                assert_eq!(
                    text.contains(decides),
                    dispatcher,
                    "{}: {decides}",
                    path.display()
                );
            }
        }
        assert!(read >= 15, "the HTTP layer's files were read");
    }
}

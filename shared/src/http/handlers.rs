//! Which handlers each binary links. A function's `main` names its own [`Handlers`], whose
//! dispatcher matches only the operations the route table gives that function, so the
//! linker drops every other handler and what only those use (argon2 where no password is
//! checked, the writes where nothing is written). `fallback` serves every route: its
//! dispatcher hands each operation to its function's, and so links them all.

use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Request, Response};

use crate::app::{App, ReadSigningKey, TokenUse};
use crate::domain::PasswordHash;
use crate::secrets::read_signing_key;

use super::auth::Granted;
use super::routes::{Function, Operation};
use super::{
    customer_changes, customers, imports, invitations, login, members, organizations,
    password_reset, passwords, session, signup, user_changes, users, verification, ApiError,
};

/// A handler's answer, boxed: one table entry's type for every operation.
pub(super) type Answer<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send + 'a>>;
type Dispatch = for<'a> fn(Operation, &'a App, Request, Granted) -> Answer<'a>;

/// One binary's handlers: its function, the dispatcher of its operations, and what its cold
/// start warms besides the connection.
pub struct Handlers {
    pub function: Function,
    dispatch: Dispatch,
    /// Faults argon2's memory in at cold start: only where a route checks a password.
    pub warm_passwords: Option<fn()>,
    /// Reads the token signing key at cold start: only where a route issues tokens, so that
    /// no other binary links the Secrets Manager client.
    pub read_signing_key: Option<ReadSigningKey>,
}

impl Handlers {
    /// What the function's cold start reads for tokens.
    pub fn token_use(&self) -> TokenUse {
        match self.read_signing_key {
            Some(read) => TokenUse::Issue(read),
            None => TokenUse::Verify,
        }
    }
}

use Function as F;
use Granted as G;
use Operation as O;

pub static SIGNUP: Handlers = Handlers {
    function: F::Signup,
    dispatch: signups,
    warm_passwords: Some(PasswordHash::warm_up),
    read_signing_key: Some(read_signing_key),
};
pub static LOGIN: Handlers = Handlers {
    function: F::Login,
    dispatch: logins,
    warm_passwords: Some(PasswordHash::warm_up),
    read_signing_key: Some(read_signing_key),
};
pub static SESSION: Handlers = Handlers {
    function: F::Session,
    dispatch: sessions,
    warm_passwords: None,
    read_signing_key: Some(read_signing_key),
};
pub static CREATE_CUSTOMER: Handlers = Handlers {
    function: F::CreateCustomer,
    dispatch: creations,
    warm_passwords: None,
    read_signing_key: None,
};
pub static READ_CUSTOMERS: Handlers = Handlers {
    function: F::ReadCustomers,
    dispatch: customer_reads,
    warm_passwords: None,
    read_signing_key: None,
};
pub static CHANGE_CUSTOMER: Handlers = Handlers {
    function: F::ChangeCustomer,
    dispatch: customer_changes,
    warm_passwords: None,
    read_signing_key: None,
};
pub static ME: Handlers = Handlers {
    function: F::Me,
    dispatch: own_views,
    warm_passwords: None,
    read_signing_key: None,
};
pub static TEAMS: Handlers = Handlers {
    function: F::Teams,
    dispatch: team_routes,
    warm_passwords: None,
    read_signing_key: Some(read_signing_key),
};
pub static FALLBACK: Handlers = Handlers {
    function: F::Fallback,
    dispatch: every_route,
    warm_passwords: Some(PasswordHash::warm_up),
    read_signing_key: Some(read_signing_key),
};

impl Handlers {
    /// Every function's table: what tests and the fallback reach every route through.
    pub fn of(function: Function) -> &'static Handlers {
        match function {
            F::Signup => &SIGNUP,
            F::Login => &LOGIN,
            F::Session => &SESSION,
            F::CreateCustomer => &CREATE_CUSTOMER,
            F::ReadCustomers => &READ_CUSTOMERS,
            F::ChangeCustomer => &CHANGE_CUSTOMER,
            F::Me => &ME,
            F::Teams => &TEAMS,
            F::Fallback => &FALLBACK,
        }
    }

    /// The handler of `operation`, with what the dispatcher proved of the caller.
    pub(super) fn call<'a>(
        &self,
        operation: Operation,
        app: &'a App,
        request: Request,
        granted: Granted,
    ) -> Answer<'a> {
        (self.dispatch)(operation, app, request, granted)
    }
}

/// What a table answers for an operation it does not hold, or a proof its handler does not
/// take: a bug of the route table, never the client's.
fn not_served(function: Function, operation: Operation) -> Result<Response<Body>, ApiError> {
    Err(ApiError::internal(format!(
        "{function:?} has no handler for {operation:?} with that proof"
    )))
}

fn signups(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::SignUp, G::Anyone) => signup::sign_up(app, request).await,
            _ => not_served(F::Signup, op),
        }
    })
}

fn logins(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::LogIn, G::Anyone) => login::log_in(app, request).await,
            (O::RequestPasswordReset, G::Anyone) => password_reset::request(app, request).await,
            (O::ResetPassword, G::Anyone) => password_reset::confirm(app, request).await,
            (O::ChangePassword, G::Caller(caller)) => {
                passwords::change_password(app, request, caller).await
            }
            (O::VerifyEmail, G::Caller(caller)) => verification::verify(app, request, caller).await,
            (O::ResendVerification, G::Caller(caller)) => {
                verification::resend(app, request, caller).await
            }
            (O::UpdateMe, G::Caller(caller)) => user_changes::update(app, request, caller).await,
            _ => not_served(F::Login, op),
        }
    })
}

fn sessions(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::Refresh, G::Anyone) => session::refresh(app, request).await,
            (O::LogOut, G::Anyone) => session::log_out(app, request).await,
            _ => not_served(F::Session, op),
        }
    })
}

fn creations(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::CreateCustomer, G::Named(admission)) => {
                customers::create(app, request, admission).await
            }
            _ => not_served(F::CreateCustomer, op),
        }
    })
}

fn customer_reads(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::ListCustomers, G::Named(admission)) => {
                customers::list(app, request, admission).await
            }
            (O::GetCustomer, G::Named(admission)) => {
                customers::get_one(app, request, admission).await
            }
            _ => not_served(F::ReadCustomers, op),
        }
    })
}

fn customer_changes(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::UpdateCustomer, G::Named(admission)) => {
                customer_changes::update(app, request, admission).await
            }
            (O::DeleteCustomer, G::Named(admission)) => {
                customer_changes::delete(app, request, admission).await
            }
            (O::ImportCustomers, G::Named(admission)) => {
                imports::import(app, request, admission).await
            }
            _ => not_served(F::ChangeCustomer, op),
        }
    })
}

fn own_views(op: Operation, app: &App, _request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::Me, G::Caller(caller)) => users::me(app, caller).await,
            (O::GetOrganization, G::Member(member)) => organizations::get(app, member).await,
            _ => not_served(F::Me, op),
        }
    })
}

fn team_routes(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Box::pin(async move {
        match (op, granted) {
            (O::RenameOrganization, G::Member(owner)) => {
                organizations::rename(app, request, owner).await
            }
            (O::ListMembers, G::Member(member)) => members::list(app, request, member).await,
            (O::UpdateMember, G::Member(member)) => members::update(app, request, member).await,
            (O::RemoveMember, G::Member(member)) => members::remove(app, request, member).await,
            (O::CreateInvitation, G::Member(member)) => {
                invitations::create(app, request, member).await
            }
            (O::ListInvitations, G::Member(member)) => invitations::list(app, member).await,
            (O::RevokeInvitation, G::Member(member)) => {
                invitations::revoke(app, request, member).await
            }
            (O::AcceptInvitation, G::Caller(caller)) => {
                invitations::accept(app, request, caller).await
            }
            _ => not_served(F::Teams, op),
        }
    })
}

/// The fallback's: each operation to its own function's table.
fn every_route(op: Operation, app: &App, request: Request, granted: Granted) -> Answer<'_> {
    Handlers::of(op.function()).call(op, app, request, granted)
}

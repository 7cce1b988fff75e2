//! Every route of the API, in one table: the source that `template.yaml`, the `cargo lambda
//! watch` router, `openapi.yaml` and each function's IAM statements are checked against
//! (tests/route_table.rs, tests/permissions.rs).
//!
//! Each function dispatches through this table alike. API Gateway HTTP APIs refuse route
//! paths that end in `/`, so `template.yaml` gives each function its slash-free routes and
//! sends everything else (`$default`) to the `fallback` function, which serves every route:
//! the slashed paths (`/api/users/`) reach the same handlers, and anything else gets a JSON
//! 404 (or a 405 naming the methods the path takes).

use std::collections::HashMap;

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::app::App;

use super::auth::{self, Gate};
use super::handlers::Handlers;
use super::{cors, respond, ApiError};

/// A Lambda function of the API: one binary under `functions/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Signup,
    Login,
    Session,
    CreateCustomer,
    ReadCustomers,
    ChangeCustomer,
    Me,
    /// An organization's members.
    Teams,
    /// API Gateway's `$default` route: every route, in its slashed form.
    Fallback,
}

impl Function {
    /// Whether some route of the function checks or hashes a password.
    pub fn checks_passwords(self) -> bool {
        self.serves_any(|operation| {
            matches!(
                operation,
                Operation::SignUp
                    | Operation::LogIn
                    | Operation::ChangePassword
                    | Operation::ResetPassword
            )
        })
    }

    /// Whether some route of the function issues access tokens, and so holds the signing key
    /// (read at cold start from Secrets Manager: `crate::secrets`). The others only verify.
    pub fn issues_tokens(self) -> bool {
        self.serves_any(|operation| {
            matches!(
                operation,
                Operation::SignUp
                    | Operation::LogIn
                    | Operation::ChangePassword
                    | Operation::Refresh
                    | Operation::AcceptInvitation
            )
        })
    }

    fn serves_any(self, operation: impl Fn(Operation) -> bool) -> bool {
        ROUTES.iter().any(|route| {
            (route.function == self || self == Self::Fallback) && operation(route.operation)
        })
    }
}

/// One operation of `openapi.yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    SignUp,
    LogIn,
    RequestPasswordReset,
    ResetPassword,
    VerifyEmail,
    ResendVerification,
    Refresh,
    LogOut,
    CreateCustomer,
    ListCustomers,
    GetCustomer,
    UpdateCustomer,
    DeleteCustomer,
    ImportCustomers,
    Me,
    UpdateMe,
    ChangePassword,
    GetOrganization,
    ListMembers,
    UpdateMember,
    RemoveMember,
    CreateInvitation,
    ListInvitations,
    RevokeInvitation,
    AcceptInvitation,
    RenameOrganization,
}

#[derive(Debug)]
pub struct Route {
    pub method: Method,
    /// Slash-free, as API Gateway's route; `{name}` is a path parameter. Every route also
    /// answers with a trailing slash.
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
}

const fn route(
    method: Method,
    path: &'static str,
    function: Function,
    operation: Operation,
) -> Route {
    Route {
        method,
        path,
        function,
        operation,
    }
}

use Function as F;
use Operation as O;

pub static ROUTES: [Route; 26] = [
    route(Method::POST, "/api/users", F::Signup, O::SignUp),
    route(Method::POST, "/api/auth/login", F::Login, O::LogIn),
    route(
        Method::POST,
        "/api/auth/password-reset",
        F::Login,
        O::RequestPasswordReset,
    ),
    route(
        Method::POST,
        "/api/auth/password-reset/confirm",
        F::Login,
        O::ResetPassword,
    ),
    route(Method::POST, "/api/auth/refresh", F::Session, O::Refresh),
    route(Method::POST, "/api/auth/logout", F::Session, O::LogOut),
    route(
        Method::POST,
        "/api/customers",
        F::CreateCustomer,
        O::CreateCustomer,
    ),
    route(
        Method::GET,
        "/api/customers",
        F::ReadCustomers,
        O::ListCustomers,
    ),
    route(
        Method::GET,
        "/api/customers/{id}",
        F::ReadCustomers,
        O::GetCustomer,
    ),
    route(
        Method::PATCH,
        "/api/customers/{id}",
        F::ChangeCustomer,
        O::UpdateCustomer,
    ),
    route(
        Method::DELETE,
        "/api/customers/{id}",
        F::ChangeCustomer,
        O::DeleteCustomer,
    ),
    route(
        Method::POST,
        "/api/customers/batch",
        F::ChangeCustomer,
        O::ImportCustomers,
    ),
    route(Method::GET, "/api/users/me", F::Me, O::Me),
    route(Method::PATCH, "/api/users/me", F::Login, O::UpdateMe),
    route(
        Method::POST,
        "/api/users/me/password",
        F::Login,
        O::ChangePassword,
    ),
    route(
        Method::POST,
        "/api/users/me/email/verify/resend",
        F::Login,
        O::ResendVerification,
    ),
    route(
        Method::POST,
        "/api/users/me/email/verify",
        F::Login,
        O::VerifyEmail,
    ),
    route(
        Method::GET,
        "/api/organizations/{org}",
        F::Me,
        O::GetOrganization,
    ),
    route(
        Method::PATCH,
        "/api/organizations/{org}",
        F::Teams,
        O::RenameOrganization,
    ),
    route(
        Method::GET,
        "/api/organizations/{org}/members",
        F::Teams,
        O::ListMembers,
    ),
    route(
        Method::PATCH,
        "/api/organizations/{org}/members/{user_id}",
        F::Teams,
        O::UpdateMember,
    ),
    route(
        Method::DELETE,
        "/api/organizations/{org}/members/{user_id}",
        F::Teams,
        O::RemoveMember,
    ),
    route(
        Method::POST,
        "/api/organizations/{org}/invitations",
        F::Teams,
        O::CreateInvitation,
    ),
    route(
        Method::GET,
        "/api/organizations/{org}/invitations",
        F::Teams,
        O::ListInvitations,
    ),
    route(
        Method::DELETE,
        "/api/organizations/{org}/invitations/{id}",
        F::Teams,
        O::RevokeInvitation,
    ),
    route(
        Method::POST,
        "/api/invitations/accept",
        F::Teams,
        O::AcceptInvitation,
    ),
];

impl Function {
    pub const ALL: [Function; 9] = [
        F::Signup,
        F::Login,
        F::Session,
        F::CreateCustomer,
        F::ReadCustomers,
        F::ChangeCustomer,
        F::Me,
        F::Teams,
        F::Fallback,
    ];

    /// The binary's name: its folder under `functions/`.
    pub fn binary(self) -> &'static str {
        match self {
            F::Signup => "signup",
            F::Login => "login",
            F::Session => "session",
            F::CreateCustomer => "create-customer",
            F::ReadCustomers => "read-customers",
            F::ChangeCustomer => "change-customer",
            F::Me => "me",
            F::Teams => "teams",
            F::Fallback => "fallback",
        }
    }

    /// The route a cold start rehearses (`serve::warm_up`), as a caller nobody is: a read of
    /// the function's where it has one, else its first route, sent an empty object. Either
    /// way it finds nothing and writes nothing.
    pub fn rehearsal(self) -> &'static Route {
        let operation = match self {
            F::ReadCustomers | F::Fallback => O::GetCustomer,
            F::Me => O::Me,
            F::Teams => O::ListMembers,
            F::Signup | F::Login | F::Session | F::CreateCustomer | F::ChangeCustomer => {
                return ROUTES
                    .iter()
                    .find(|route| route.function == self)
                    .expect("every function but the fallback has a route");
            }
        };
        ROUTES
            .iter()
            .find(|route| route.operation == operation)
            .expect("every operation has a route")
    }

    pub fn serves(self, route: &Route) -> bool {
        self == F::Fallback || route.function == self
    }

    /// Answers one request as this function, through its table of handlers (see
    /// [`Handlers::handle`]): what tests send requests through. A binary serves through its
    /// own table, so that it links only its own handlers.
    pub async fn handle(
        self,
        app: &App,
        request: Request,
    ) -> Result<Response<Body>, lambda_http::Error> {
        Handlers::of(self).handle(app, request).await
    }
}

impl Handlers {
    /// Answers one request: the route table finds the operation, the dispatcher admits the
    /// caller, this table's handler answers, and every error becomes the API's JSON error. A
    /// CORS preflight from an allowed origin is answered for every path the table has, and
    /// any answer to such an origin says so.
    pub async fn handle(
        &self,
        app: &App,
        request: Request,
    ) -> Result<Response<Body>, lambda_http::Error> {
        let origin = cors::allowed_origin(&app.origins, &request);
        if let Some(origin) = &origin {
            let methods = allowed(request.uri().path());
            if let Some(answer) = cors::preflight(&request, origin, &methods) {
                return Ok(answer);
            }
        }
        let response = respond(dispatch(self, app, request).await)?;
        Ok(cors::expose(response, &app.origins, origin))
    }
}

impl Operation {
    /// Its `operationId` in `openapi.yaml`.
    pub fn id(self) -> &'static str {
        match self {
            O::SignUp => "signUp",
            O::LogIn => "logIn",
            O::RequestPasswordReset => "requestPasswordReset",
            O::ResetPassword => "resetPassword",
            O::VerifyEmail => "verifyEmail",
            O::ResendVerification => "resendVerification",
            O::Refresh => "refresh",
            O::LogOut => "logOut",
            O::CreateCustomer => "createCustomer",
            O::ListCustomers => "listCustomers",
            O::GetCustomer => "getCustomer",
            O::UpdateCustomer => "updateCustomer",
            O::DeleteCustomer => "deleteCustomer",
            O::ImportCustomers => "importCustomers",
            O::Me => "me",
            O::UpdateMe => "updateMe",
            O::ChangePassword => "changePassword",
            O::GetOrganization => "getOrganization",
            O::ListMembers => "listMembers",
            O::UpdateMember => "updateMember",
            O::RemoveMember => "removeMember",
            O::CreateInvitation => "createInvitation",
            O::ListInvitations => "listInvitations",
            O::RevokeInvitation => "revokeInvitation",
            O::AcceptInvitation => "acceptInvitation",
            O::RenameOrganization => "renameOrganization",
        }
    }

    /// What the route needs of its caller: the one declaration of its permission, which
    /// the dispatcher alone enforces ([`super::auth::admit`]). `auth::permits` says which
    /// roles have each action; tests/roles.rs sends every route as every role.
    pub fn gate(self) -> Gate {
        use crate::auth::Action as A;
        match self {
            O::SignUp | O::LogIn | O::Refresh | O::LogOut => Gate::Public,
            O::RequestPasswordReset | O::ResetPassword => Gate::Public,
            O::Me | O::ChangePassword | O::AcceptInvitation => Gate::Caller,
            O::VerifyEmail | O::ResendVerification | O::UpdateMe => Gate::Caller,
            O::CreateCustomer => Gate::Named(A::CreateCustomers),
            O::ListCustomers | O::GetCustomer => Gate::Named(A::ReadCustomers),
            O::UpdateCustomer => Gate::Named(A::ChangeCustomers),
            O::DeleteCustomer => Gate::Named(A::DeleteCustomers),
            O::ImportCustomers => Gate::Named(A::ImportCustomers),
            O::GetOrganization => Gate::Member(A::ReadOrganization),
            O::ListMembers => Gate::Member(A::ListMembers),
            // What changing an admin or employee needs. Changing an owner, or making one,
            // needs more: the store decides that on the member's role and the caller's, as
            // it reads them (`Action::to_change_role`).
            O::UpdateMember => Gate::Member(A::ChangeRoles),
            // Any member may ask: leaving needs no more. Removing another needs
            // `remove_members` (an owner, `manage_owners`), which the store decides on the
            // roles it reads (`Action::to_remove`).
            O::RemoveMember => Gate::Member(A::Leave),
            // Inviting an admin needs `invite_admins` as well, once the body says so.
            O::CreateInvitation => Gate::Member(A::InviteEmployees),
            O::ListInvitations => Gate::Member(A::ListInvitations),
            O::RevokeInvitation => Gate::Member(A::RevokeInvitations),
            O::RenameOrganization => Gate::Member(A::RenameOrganization),
        }
    }

    /// The function whose route it is (each operation has one route).
    pub fn function(self) -> Function {
        ROUTES
            .iter()
            .find(|route| route.operation == self)
            .map_or(F::Fallback, |route| route.function)
    }
}

impl Route {
    /// The path parameters, when `path` (with or without one trailing slash) is this route's.
    pub fn matches(&self, path: &str) -> Option<HashMap<String, String>> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut given = path.split('/');
        let mut parameters = HashMap::new();
        for part in self.path.split('/') {
            let segment = given.next()?;
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !segment.is_empty() => {
                    parameters.insert(name.to_owned(), segment.to_owned());
                }
                None if segment == part => {}
                _ => return None,
            }
        }
        given.next().is_none().then_some(parameters)
    }
}

impl Route {
    /// How many of its segments are literal: of two paths a request matches, API Gateway
    /// takes the one with more (`/api/customers/batch` over `/api/customers/{id}`).
    fn literals(&self) -> usize {
        self.path
            .split('/')
            .filter(|part| !part.starts_with('{'))
            .count()
    }
}

/// The routes at `path`, whatever their methods, with its parameters: those of its most
/// literal match only, so `/api/customers/batch` is never a customer's id.
fn routes_at(path: &str) -> Vec<(&'static Route, HashMap<String, String>)> {
    let matching: Vec<_> = ROUTES
        .iter()
        .filter_map(|r| r.matches(path).map(|parameters| (r, parameters)))
        .collect();
    let most = matching.iter().map(|(r, _)| r.literals()).max();
    matching
        .into_iter()
        .filter(|(r, _)| Some(r.literals()) == most)
        .collect()
}

/// The route a request is for, whichever function it reached.
pub fn route_of(request: &Request) -> Option<&'static Route> {
    routes_at(request.uri().path())
        .into_iter()
        .map(|(route, _)| route)
        .find(|r| r.method == *request.method())
}

/// The methods the API takes at `path`, as a 405's `Allow` names them.
fn allowed(path: &str) -> Vec<&'static str> {
    routes_at(path)
        .into_iter()
        .map(|(r, _)| r.method.as_str())
        .collect()
}

/// The method is checked before the caller or the body: a 405 needs no token.
async fn dispatch(
    handlers: &Handlers,
    app: &App,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().to_owned();
    let found = routes_at(&path)
        .into_iter()
        .find(|(r, _)| r.method == *request.method() && handlers.function.serves(r));
    let Some((route, parameters)) = found else {
        let allow = allowed(&path);
        return Err(
            if allow.is_empty() || allow.contains(&request.method().as_str()) {
                ApiError::NotFound("No such route.")
            } else {
                ApiError::MethodNotAllowed {
                    allow: allow.join(", "),
                }
            },
        );
    };
    let request = if parameters.is_empty() {
        request
    } else {
        request.with_path_parameters(parameters)
    };
    let granted = auth::admit(app, &request, route.operation.gate()).await?;
    handlers.call(route.operation, app, request, granted).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_that_check_passwords_warm_argon2_up() {
        use Function as F;
        let hashing: Vec<_> = F::ALL
            .into_iter()
            .filter(|f| f.checks_passwords())
            .collect();
        assert_eq!(hashing, [F::Signup, F::Login, F::Fallback]);
        // Their tables, and theirs only, warm it (and so link it).
        for function in F::ALL {
            let table = Handlers::of(function);
            assert_eq!(table.function, function);
            assert_eq!(
                table.warm_passwords.is_some(),
                function.checks_passwords(),
                "{function:?}"
            );
        }
    }

    #[test]
    fn every_operation_belongs_to_the_function_its_route_names() {
        for route in &ROUTES {
            assert_eq!(route.operation.function(), route.function);
        }
    }

    #[test]
    fn each_function_rehearses_a_route_of_its_own_a_read_where_it_has_one() {
        use Function as F;
        for function in F::ALL {
            let route = function.rehearsal();
            assert!(function.serves(route), "{function:?}");
            let has_a_read = ROUTES
                .iter()
                .any(|r| function.serves(r) && r.method == Method::GET);
            assert_eq!(
                route.method == Method::GET,
                has_a_read,
                "{function:?}: a function with a read rehearses one"
            );
        }
    }

    #[test]
    fn paths_match_with_and_without_their_slash_and_yield_parameters() {
        let one = ROUTES
            .iter()
            .find(|r| r.operation == Operation::GetCustomer)
            .unwrap();
        assert_eq!(one.path, "/api/customers/{id}");
        for path in ["/api/customers/abc", "/api/customers/abc/"] {
            assert_eq!(one.matches(path).unwrap()["id"], "abc");
        }
        for path in [
            "/api/customers",
            "/api/customers//",
            "/api/customers/a/b",
            "/api",
        ] {
            assert!(one.matches(path).is_none(), "{path}");
        }
        assert!(ROUTES[0].matches("/api/users/").unwrap().is_empty());
    }

    #[test]
    fn a_literal_path_is_never_another_routes_parameter() {
        assert_eq!(allowed("/api/customers/batch"), ["POST"]);
        assert_eq!(allowed("/api/customers/batch/"), ["POST"]);
        let at: Vec<Operation> = routes_at("/api/customers/batch")
            .into_iter()
            .map(|(r, _)| r.operation)
            .collect();
        assert_eq!(at, [Operation::ImportCustomers]);
    }

    #[test]
    fn allow_names_every_method_of_a_path() {
        assert_eq!(allowed("/api/customers/x/"), ["GET", "PATCH", "DELETE"]);
        assert_eq!(allowed("/api/customers"), ["POST", "GET"]);
        assert!(allowed("/nowhere").is_empty());
    }

    #[test]
    fn every_route_has_one_function_and_every_function_but_the_fallback_a_route() {
        for function in Function::ALL {
            let routes = ROUTES.iter().filter(|r| r.function == function).count();
            assert_eq!(routes == 0, function == Function::Fallback, "{function:?}");
            assert!(ROUTES.iter().all(|r| Function::Fallback.serves(r)));
        }
    }

    /// A function reads the signing secret (and links the Secrets Manager client) exactly
    /// when one of its routes issues tokens; the customer routes and `/users/me` only verify.
    #[test]
    fn only_the_functions_that_issue_tokens_read_the_signing_key() {
        use crate::http::Handlers;
        for function in Function::ALL {
            let reads = Handlers::of(function).read_signing_key.is_some();
            assert_eq!(reads, function.issues_tokens(), "{function:?}");
        }
        let issuing: Vec<Function> = Function::ALL
            .into_iter()
            .filter(|f| f.issues_tokens())
            .collect();
        use Function as F;
        assert_eq!(
            issuing,
            [F::Signup, F::Login, F::Session, F::Teams, F::Fallback]
        );
    }
}

//! Every error response the API gives, and the one place they become HTTP.
//!
//! Shape: `{"error": {"code": "...", "message": "...", "fields": {"email": "..."}}}`;
//! `fields` appears when the error is about particular fields.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::json;

use crate::auth::Action;
use crate::store::{
    report, Cause, ChangedMeanwhile, CustomerRefusal, Denied, InvitationRefusal, MemberRefusal,
    NamesTaken, RenameRefusal, StoreError, WriteError, MAX_RENAMED_COPIES,
};

/// An error answer's `code`, kept on the response for the request's metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

pub use crate::domain::FieldErrors;

#[derive(Debug)]
pub enum ApiError {
    Validation(FieldErrors),
    Unauthorized(&'static str),
    Forbidden(&'static str),
    /// A member whose role does not allow the action: 403 naming the permission.
    Lacks(Action),
    /// The caller's email is not verified, and the action needs it (accepting an
    /// invitation): 403 naming `email`.
    Unverified,
    NotFound(&'static str),
    /// `allow` lists the methods the path takes (`"GET, PATCH, DELETE"`).
    MethodNotAllowed {
        allow: String,
    },
    /// `If-Match` names a version that is not current.
    PreconditionFailed,
    Conflict {
        message: String,
        fields: FieldErrors,
    },
    /// The change would leave an organization without an owner.
    LastOwner,
    /// Other transactions kept holding the same items; the client may simply retry.
    Contended,
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    /// The `Idempotency-Key` was used before for a different request.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still in flight.
    IdempotencyInProgress,
    /// Too many requests of one kind (`what`: "Too many failed log-ins"); `retry_after`
    /// seconds to wait.
    TooManyRequests {
        what: &'static str,
        retry_after: u64,
    },
    /// The store is down or shedding load; the cause is logged when answered.
    Unavailable(Cause),
    /// A bug; the cause is logged when answered, never sent.
    Internal(Cause),
}

impl From<crate::auth::NoSigningKey> for ApiError {
    fn from(error: crate::auth::NoSigningKey) -> Self {
        Self::internal(error)
    }
}

impl ApiError {
    /// A 500 that keeps what caused it, for the log.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::from([(name.to_owned(), message.into())]))
    }

    /// A 409 naming each field whose value is already taken (`taken` pairs a field with
    /// whether it clashed); `owner` says whose value it is, as in "A {owner} with this …".
    pub fn taken(taken: &[(&str, bool)], owner: &str) -> Self {
        let fields: FieldErrors = taken
            .iter()
            .filter(|(_, clashed)| *clashed)
            .map(|(field, _)| ((*field).to_owned(), "is already taken".to_owned()))
            .collect();
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        Self::Conflict {
            message: format!(
                "A {owner} with this {} already exists.",
                names.join(" and ")
            ),
            fields,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Lacks(_) | Self::Unverified => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Conflict { .. }
            | Self::LastOwner
            | Self::Contended
            | Self::IdempotencyInProgress => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer's `code`: what a client tells errors apart by.
    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) | Self::Lacks(_) => "forbidden",
            Self::Unverified => "email_not_verified",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::Conflict { .. } => "conflict",
            Self::LastOwner => "last_owner",
            Self::Contended => "transaction_conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyInProgress => "idempotency_in_progress",
            Self::TooManyRequests { .. } => "too_many_attempts",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The answer's `message`: for a person.
    fn message(&self) -> String {
        let fixed = match self {
            Self::Validation(fields) => {
                let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                return format!("Invalid {}.", names.join(", "));
            }
            Self::Lacks(action) => {
                return format!(
                    "Your role in this organization does not have the {} permission.",
                    action.name()
                )
            }
            Self::MethodNotAllowed { allow } => return format!("Method not allowed; use {allow}."),
            Self::Conflict { message, .. } => return message.clone(),
            Self::PayloadTooLarge { limit } => {
                return format!("The request body must be at most {limit} bytes.")
            }
            Self::TooManyRequests { what, retry_after } => {
                return format!("{what}; try again in {retry_after} seconds.")
            }
            Self::Unauthorized(m) | Self::Forbidden(m) | Self::NotFound(m) => m,
            Self::Unverified => UNVERIFIED,
            Self::PreconditionFailed => "The customer changed since that ETag; read it again.",
            Self::LastOwner => {
                "An organization keeps at least one owner; make another member owner first."
            }
            Self::Contended => "The request collided with a concurrent change; retry it.",
            Self::UnsupportedMediaType => {
                "The request body must be JSON (Content-Type: application/json)."
            }
            Self::IdempotencyKeyReused => {
                "This Idempotency-Key was used for a different request; use a new key."
            }
            Self::IdempotencyInProgress => {
                "A request with this Idempotency-Key is still in progress; retry it shortly."
            }
            Self::Unavailable(_) => "The data store is unavailable; retry later.",
            Self::Internal(_) => "Internal server error.",
        };
        fixed.to_owned()
    }

    /// The response, and for a 500 or 503 the one log line that gives its cause (inside the
    /// request's span, which carries the request id).
    pub fn into_response(self) -> Response<Body> {
        match &self {
            Self::Internal(cause) => tracing::error!(cause = %report(&**cause), "answered 500"),
            Self::Unavailable(cause) => tracing::warn!(cause = %report(&**cause), "answered 503"),
            _ => {}
        }
        let code = self.code();
        let mut error = json!({ "code": code, "message": self.message() });
        let code = ErrorCode(code);
        if let Self::Validation(fields) | Self::Conflict { fields, .. } = &self {
            if !fields.is_empty() {
                error["fields"] = json!(fields);
            }
        }
        if let Self::Unverified = &self {
            error["fields"] = json!({ "email": "is not verified" });
        }
        if let Self::Lacks(action) = &self {
            error["permission"] = json!(action.name());
        }
        let mut response = super::json_response(self.status(), &json!({ "error": error }));
        response.extensions_mut().insert(code);
        let headers = response.headers_mut();
        match &self {
            Self::MethodNotAllowed { allow } => {
                if let Ok(allow) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, allow);
                }
            }
            Self::Contended | Self::Unavailable(_) | Self::IdempotencyInProgress => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::Unavailable(Box::new(error)),
            StoreError::Internal { .. } => Self::Internal(Box::new(error)),
        }
    }
}

/// Every write path's shared failures, and its own refusals as that refusal maps.
impl<R: std::fmt::Debug> From<WriteError<R>> for ApiError
where
    ApiError: From<R>,
{
    fn from(error: WriteError<R>) -> Self {
        match error {
            WriteError::Refused(refusal) => refusal.into(),
            WriteError::Contended => Self::Contended,
            WriteError::KeyReused => Self::IdempotencyKeyReused,
            WriteError::InProgress => Self::IdempotencyInProgress,
            WriteError::Store(error) => error.into(),
        }
    }
}

pub(super) const NO_SUCH_CUSTOMER: &str = "No such customer.";
pub(super) const NO_SUCH_MEMBER: &str = "No such member of this organization.";
pub(super) const NO_SUCH_INVITATION: &str = "No such pending invitation.";
const UNVERIFIED: &str = "Verify your email first: the link was mailed at sign-up, and \
     POST /api/users/me/email/verify/resend/ sends a new one.";

/// A caller whose stored membership refuses a team write gets what a token without the
/// role gets: the stranger's 403, or the 403 naming the permission.
impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::NotMember => Self::Forbidden(super::auth::NOT_MEMBER),
            Denied::Lacks(action) => Self::Lacks(action),
        }
    }
}

impl From<RenameRefusal> for ApiError {
    fn from(refusal: RenameRefusal) -> Self {
        match refusal {
            RenameRefusal::NotFound => Self::Forbidden(super::auth::NOT_MEMBER),
            RenameRefusal::Denied(denied) => denied.into(),
            RenameRefusal::TooLarge => Self::Conflict {
                message: format!(
                    "An organization with more than {MAX_RENAMED_COPIES} members and pending invitations cannot be renamed in one step."
                ),
                fields: FieldErrors::from([(
                    "name".to_owned(),
                    "cannot be changed for an organization this large".to_owned(),
                )]),
            },
        }
    }
}

impl From<InvitationRefusal> for ApiError {
    fn from(refusal: InvitationRefusal) -> Self {
        let email = |message: &str| Self::Conflict {
            message: message.to_owned(),
            fields: FieldErrors::from([("email".to_owned(), message.to_owned())]),
        };
        match refusal {
            InvitationRefusal::NotFound => Self::NotFound(NO_SUCH_INVITATION),
            InvitationRefusal::Pending => {
                email("A pending invitation for this email exists; revoke it to invite again.")
            }
            InvitationRefusal::Member => email("This email belongs to a member already."),
            InvitationRefusal::NotYours => {
                Self::Forbidden("This invitation is addressed to another email.")
            }
            InvitationRefusal::Unverified => Self::Unverified,
            InvitationRefusal::Denied(denied) => denied.into(),
        }
    }
}

impl From<MemberRefusal> for ApiError {
    fn from(refusal: MemberRefusal) -> Self {
        match refusal {
            MemberRefusal::NotFound => Self::NotFound(NO_SUCH_MEMBER),
            MemberRefusal::AlreadyMember => Self::Conflict {
                message: "The user is already a member of this organization.".to_owned(),
                fields: FieldErrors::new(),
            },
            MemberRefusal::Denied(denied) => denied.into(),
            MemberRefusal::LastOwner => Self::LastOwner,
        }
    }
}

impl From<CustomerRefusal> for ApiError {
    fn from(refusal: CustomerRefusal) -> Self {
        match refusal {
            CustomerRefusal::NotFound => Self::NotFound(NO_SUCH_CUSTOMER),
            // Answered by reading the membership and deciding again; never twice in a row.
            CustomerRefusal::Unlisted(_) => Self::internal("a membership left unread"),
            CustomerRefusal::Lacks(action) => Self::Lacks(action),
            CustomerRefusal::PreconditionFailed => Self::PreconditionFailed,
            CustomerRefusal::OrganizationFixed => Self::field(
                "organization",
                "a customer stays in its organization; create one in the other",
            ),
            CustomerRefusal::UserNotFound => Self::field("user_id", "no user has this id"),
            CustomerRefusal::OwnerNotMember => Self::field(
                "owner_id",
                "must be a current member of the customer's organization",
            ),
            CustomerRefusal::LinkedElsewhere => Self::Conflict {
                message: "The customer with this email is linked to another user.".to_owned(),
                fields: FieldErrors::from([(
                    "user_id".to_owned(),
                    "the customer with this email is linked to another user".to_owned(),
                )]),
            },
            CustomerRefusal::Taken { email, code, user } => Self::taken(
                &[("email", email), ("code", code), ("user_id", user)],
                "customer of this organization",
            ),
        }
    }
}

impl From<NamesTaken> for ApiError {
    fn from(NamesTaken { username, email }: NamesTaken) -> Self {
        Self::taken(&[("username", username), ("email", email)], "user")
    }
}

/// A write path that never refuses.
impl From<std::convert::Infallible> for ApiError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<ChangedMeanwhile> for ApiError {
    fn from(_: ChangedMeanwhile) -> Self {
        Self::Conflict {
            message: "The password changed meanwhile; log in again.".to_owned(),
            fields: FieldErrors::from([(
                "current_password".to_owned(),
                "changed meanwhile".to_owned(),
            )]),
        }
    }
}

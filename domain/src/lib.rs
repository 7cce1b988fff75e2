//! Values that can only hold valid data, and the records built from them. No I/O here, and
//! no AWS: the Lambda functions use it through `shared::domain`, and the `crm` command-line
//! tool checks a file with the same rules the API applies.

mod confusables;
mod customer;
mod customer_fields;
mod digest;
mod email;
pub mod form;
mod idempotency;
mod ids;
mod invitation;
mod listing;
mod mail;
mod organization;
mod organizing;
mod password;
mod search;
mod session;
mod signup;
mod text;
mod time;
pub mod unicode;
mod user;
mod username;

/// A valid form with no user, name or code: what tests start from.
#[cfg(any(test, feature = "test-support"))]
pub use customer::sample_form as sample_customer_form;
pub use customer::{
    etag, Customer, CustomerCode, CustomerForm, CustomerLink, CustomerPatch, CustomerStatus,
    CustomerType, Precondition, CUSTOMER_FIELDS,
};
pub use customer_fields::CustomerUpsert;
pub use digest::{digests_equal, hex, sha256_hex};
pub use email::Email;
pub use form::{FieldErrors, Form};
pub use idempotency::{Idempotency, IdempotencyKey, IdempotencyScope, IDEMPOTENCY_SECONDS};
pub use ids::{
    CustomerId, InvitationId, LinkId, MailId, OrgId, ProfileId, SessionId, UserId, VendorId,
};
pub use invitation::{rfc3339, Invitation, InvitationNotice, OrgRef, INVITATION_SECONDS};
pub use listing::{CustomerOrder, CustomerQuery, Driver, Facet, Sort};
pub use mail::{AppUrl, Mail, MailKind};
pub use organization::{
    Member, MemberNames, Membership, OrgMembership, OrgRole, Organization, Role, Vendor,
};
pub use organizing::{Address, Country, Tag, MAX_TAGS};
#[cfg(feature = "test-hooks")]
pub use password::checks;
pub use password::{Password, PasswordHash, DUMMY_HASH};
pub use search::{search_fold, words, SearchQuery, MAX_INDEXED_WORDS};
pub use session::{delay_after, LoginFailures, LoginName, FAILURE_WINDOW_SECONDS, FREE_FAILURES};
pub use signup::{Signup, SignupForm};
pub use text::{CompanyName, CustomerName, OrgName, PersonName, Phone};
pub use time::{unix_now, unix_now_ms, Clock, Now, Timestamp};
pub use user::{ProfileType, User, UserChange, UserProfile};
pub use username::Username;

pub mod argon2_params {
    pub use super::password::{ITERATIONS, MEMORY_KIB, PARALLELISM};
}

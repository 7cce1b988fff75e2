//! Values that can only hold valid data, and the records built from them. No I/O here.

mod customer;
mod customer_change;
mod email;
mod idempotency;
mod ids;
mod login;
mod new_customer;
mod password;
mod records;
mod signup;
mod text;
pub mod unicode;
mod username;

pub use customer::{CustomerCode, CustomerStatus, CustomerType};
pub use customer_change::{etag, CustomerPatch, Precondition};
pub use email::Email;
pub use idempotency::{hex, Idempotency, IdempotencyKey, IdempotencyScope, IDEMPOTENCY_SECONDS};
pub use ids::{CustomerId, OrgId, ProfileId, SessionId, UserId, VendorId};
pub use login::{LoginFailures, LoginName, FAILURE_WINDOW_SECONDS};
pub use new_customer::CustomerForm;
pub use password::{Password, PasswordHash, DUMMY_HASH};
pub use records::{
    unix_now, Customer, CustomerLink, Membership, OrgMembership, OrgRole, Organization,
    ProfileType, Role, Timestamp, User, UserProfile, Vendor,
};
pub use signup::{Signup, SignupForm};
pub use text::{CompanyName, CustomerName, OrgName, PersonName, Phone};
pub use username::Username;

pub mod argon2_params {
    pub use super::password::{ITERATIONS, MEMORY_KIB, PARALLELISM};
}

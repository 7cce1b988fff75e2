//! Table keys for tests, made by the production builders (`shared::store::keys`) from the
//! ids and values the API answers with.

use shared::domain::{
    CustomerCode, CustomerId, Email, LoginName, OrgId, ProfileType, UserId, Username, VendorId,
};
use shared::store::keys::Key;

fn user_id(id: &str) -> UserId {
    UserId::parse(id).expect("a user id")
}

fn org_id(id: &str) -> OrgId {
    OrgId::parse(id).expect("an organization id")
}

pub fn user(id: &str) -> Key {
    Key::user(user_id(id))
}

pub fn organization(id: &str) -> Key {
    Key::organization(org_id(id))
}

pub fn membership(org: &str, user: &str) -> Key {
    Key::membership(org_id(org), user_id(user))
}

pub fn profile(user: &str, profile_type: ProfileType) -> Key {
    Key::profile(user_id(user), profile_type)
}

pub fn vendor(id: &str) -> Key {
    Key::vendor(VendorId::parse(id).expect("a vendor id"))
}

pub fn customer(id: &str) -> Key {
    Key::customer(CustomerId::parse(id).expect("a customer id"))
}

pub fn customer_of_user(org: &str, user: &str) -> Key {
    Key::customer_of_user(org_id(org), user_id(user))
}

pub fn customer_email(org: &str, email: &str) -> Key {
    Key::customer_email(org_id(org), &Email::parse(email).expect("an email"))
}

pub fn customer_code(org: &str, code: &str) -> Key {
    Key::customer_code(org_id(org), &CustomerCode::parse(code).expect("a code"))
}

pub fn username(name: &str) -> Key {
    Key::username(&Username::parse(name).expect("a username"))
}

pub fn user_email(email: &str) -> Key {
    Key::user_email(&Email::parse(email).expect("an email"))
}

/// The failure record beside a username's claim.
pub fn login_failures(username: &str) -> Key {
    Key::login_failures(&LoginName::Username(
        Username::parse(username).expect("a username"),
    ))
}

/// The failure record of an account, whichever name it logged in by.
pub fn account_login_failures(user: &str) -> Key {
    Key::account_login_failures(user_id(user))
}

//! What a user logs in with.

use super::{Email, Username};

/// Log-in is by username or by email, both case-insensitive.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(Username),
    Email(Email),
}

//! Log-in's single read: the username or email claim carries the user, the hash and the
//! user's roles.

use crate::domain::{LoginName, OrgRole, PasswordHash, User};

use super::items::{field, record, MEMBERSHIPS, PASSWORD_HASH};
use super::keys::Key;
use super::{Store, StoreError};

/// What log-in needs to know about a user.
#[derive(Debug)]
pub struct LoginRecord {
    pub user: User,
    pub hash: PasswordHash,
    pub roles: Vec<OrgRole>,
}

impl Store {
    /// One strongly consistent `GetItem`, so a user can log in the moment sign-up returns.
    pub async fn find_login(&self, name: &LoginName) -> Result<Option<LoginRecord>, StoreError> {
        let key = match name {
            LoginName::Username(username) => Key::username(username),
            LoginName::Email(email) => Key::user_email(email),
        };
        let Some(item) = self.get_item(&key).await? else {
            return Ok(None);
        };
        let hash: String = field(&item, PASSWORD_HASH)?;
        Ok(Some(LoginRecord {
            user: record(&item)?,
            hash: PasswordHash::from_stored(hash),
            roles: field(&item, MEMBERSHIPS)?,
        }))
    }
}

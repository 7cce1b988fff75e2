//! Log-in's single read: the username or email claim carries the user and the hash.

use crate::domain::{LoginName, PasswordHash, User};

use super::items::record;
use super::keys::Key;
use super::{Store, StoreError};

impl Store {
    /// The user and password hash for a log-in name; one strongly consistent `GetItem`, so a
    /// user can log in the moment sign-up returns.
    pub async fn find_login(
        &self,
        name: &LoginName,
    ) -> Result<Option<(User, PasswordHash)>, StoreError> {
        let key = match name {
            LoginName::Username(username) => Key::username(username),
            LoginName::Email(email) => Key::user_email(email),
        };
        let Some(item) = self.get_item(&key, None).await? else {
            return Ok(None);
        };
        let user: User = record(&item)?;
        let hash = item
            .get("password_hash")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Internal("login item without a password hash".into()))?;
        Ok(Some((user, PasswordHash::from_stored(hash.clone()))))
    }
}

//! Password-reset tokens: `pr1.<user>.<reset>.<secret>`, mailed to the account's address.
//! The ids find the reset in one read; the 256-bit random secret makes the token
//! unguessable. Only the SHA-256 of the whole token is stored, beside the user, and a newer
//! reset replaces it, so only the newest link works.

use crate::domain::{sha256_hex, ResetId, UserId};

use super::refresh::random_secret;
use super::TokenError;

const VERSION: &str = "pr1";

#[derive(Clone, PartialEq, Eq)]
pub struct PasswordResetToken {
    pub user: UserId,
    pub reset: ResetId,
    secret: String,
}

impl std::fmt::Debug for PasswordResetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetToken")
            .field("user", &self.user)
            .field("reset", &self.reset)
            .finish_non_exhaustive()
    }
}

impl PasswordResetToken {
    pub fn new(user: UserId) -> Self {
        Self {
            user,
            reset: ResetId::generate(),
            secret: random_secret(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        let [user, reset, secret] = super::refresh::split(raw, VERSION)?;
        Ok(Self {
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            reset: ResetId::parse(reset).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// What the mail carries.
    pub fn expose(&self) -> String {
        format!("{VERSION}.{}.{}.{}", self.user, self.reset, self.secret)
    }

    /// What the store keeps: the SHA-256 of the whole token, hex.
    pub fn digest(&self) -> String {
        sha256_hex(self.expose().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_anything_else() {
        let token = PasswordResetToken::new(UserId::generate());
        let parsed = PasswordResetToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.digest(), token.digest());
        assert!(!format!("{token:?}").contains(&token.secret));
        assert_ne!(PasswordResetToken::new(token.user).digest(), token.digest());
        for bad in ["", "pr1.x.y.z", &token.expose().replacen("pr1", "inv1", 1)] {
            assert!(PasswordResetToken::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Tokens mailed in links: `<kind>.<user>.<id>.<secret>`, `pr1` for a password reset and
//! `ev1` for an email's verification. The ids find the stored record in one read; the
//! 256-bit random secret makes the token unguessable. Only the SHA-256 of the whole token
//! is stored, beside the user, and a newer link replaces it, so only the newest one works.

use crate::domain::{sha256_hex, LinkId, UserId};

use super::refresh::random_secret;
use super::TokenError;

/// What a link is for: its token's version prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    PasswordReset,
    EmailVerification,
}

impl LinkKind {
    fn version(self) -> &'static str {
        match self {
            Self::PasswordReset => "pr1",
            Self::EmailVerification => "ev1",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken {
    pub kind: LinkKind,
    pub user: UserId,
    pub id: LinkId,
    secret: String,
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkToken")
            .field("kind", &self.kind)
            .field("user", &self.user)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl LinkToken {
    pub fn new(kind: LinkKind, user: UserId) -> Self {
        Self {
            kind,
            user,
            id: LinkId::generate(),
            secret: random_secret(),
        }
    }

    pub fn password_reset(user: UserId) -> Self {
        Self::new(LinkKind::PasswordReset, user)
    }

    pub fn email_verification(user: UserId) -> Self {
        Self::new(LinkKind::EmailVerification, user)
    }

    /// A token of `kind`, and of no other.
    pub fn parse(kind: LinkKind, raw: &str) -> Result<Self, TokenError> {
        let [user, id, secret] = super::refresh::split(raw, kind.version())?;
        Ok(Self {
            kind,
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            id: LinkId::parse(id).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// What the mail carries.
    pub fn expose(&self) -> String {
        let version = self.kind.version();
        format!("{version}.{}.{}.{}", self.user, self.id, self.secret)
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
        for kind in [LinkKind::PasswordReset, LinkKind::EmailVerification] {
            let token = LinkToken::new(kind, UserId::generate());
            let parsed = LinkToken::parse(kind, &token.expose()).unwrap();
            assert_eq!(parsed, token);
            assert_eq!(parsed.digest(), token.digest());
            assert!(!format!("{token:?}").contains(&token.secret));
            assert_ne!(LinkToken::new(kind, token.user).digest(), token.digest());
            for bad in [
                "",
                "pr1.x.y.z",
                &token.expose().replacen(kind.version(), "inv1", 1),
            ] {
                assert!(LinkToken::parse(kind, bad).is_err(), "{bad}");
            }
        }
        let reset = LinkToken::password_reset(UserId::generate()).expose();
        assert!(LinkToken::parse(LinkKind::EmailVerification, &reset).is_err());
    }
}

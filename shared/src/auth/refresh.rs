//! Refresh tokens: opaque to clients, stored only as a SHA-256 digest, rotated at every use.
//!
//! A token is `rt1.<user>.<session>.<secret>`: the user and session (the token "family")
//! let a refresh read what it needs in one round trip; the 256-bit random secret is what
//! makes it unguessable. The store keeps one item per session holding the digest of its one
//! current token, so presenting any earlier token of the session is reuse, and revokes it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::{sha256_hex, SessionId, UserId};

use super::TokenError;

const VERSION: &str = "rt1";

#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user: UserId,
    pub session: SessionId,
    secret: String,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("user", &self.user)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// 256 random bits, base64url: the unguessable part of a token.
pub(super) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The two ids and the secret of an opaque token `<version>.<id>.<id>.<secret>`, when it has
/// that shape and its secret is one [`random_secret`] makes (32 bytes, base64url).
pub(super) fn split<'a>(raw: &'a str, version: &str) -> Result<[&'a str; 3], TokenError> {
    let mut parts = raw.trim().split('.');
    let (Some(found), Some(first), Some(second), Some(secret), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Invalid);
    };
    match URL_SAFE_NO_PAD.decode(secret) {
        Ok(decoded) if found == version && decoded.len() == 32 => Ok([first, second, secret]),
        _ => Err(TokenError::Invalid),
    }
}

impl RefreshToken {
    /// The first token of a new session.
    pub fn start(user: UserId) -> Self {
        Self {
            user,
            session: SessionId::generate(),
            secret: random_secret(),
        }
    }

    /// The token that replaces this one in its session: HMAC-SHA-256 of this one's session
    /// and secret under `key`, the server's rotation key. Every refresh of one token derives
    /// the same successor, which is what lets a refresh racing another of the same token be
    /// answered alike; without the key, no one can derive it, so a token rotated away and
    /// stolen later still reaches the next only by presenting it (which is reuse).
    pub fn successor(&self, key: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(self.session.to_string().as_bytes());
        mac.update(b".");
        mac.update(self.secret.as_bytes());
        Self {
            secret: URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
            ..self.clone()
        }
    }

    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        let [user, session, secret] = split(raw, VERSION)?;
        Ok(Self {
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            session: SessionId::parse(session).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// What the client holds.
    pub fn expose(&self) -> String {
        format!("{VERSION}.{}.{}.{}", self.user, self.session, self.secret)
    }

    /// What the store keeps: the SHA-256 of the whole token, hex.
    pub fn digest(&self) -> String {
        sha256_hex(self.expose().as_bytes())
    }

    /// What logs name the session by: a short digest of its id, which correlates a session's
    /// lines without putting its id, half of what a token holds, in anyone's hands.
    pub fn log_tag(&self) -> String {
        sha256_hex(self.session.to_string().as_bytes())[..12].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rotates_within_its_session() {
        let token = RefreshToken::start(UserId::generate());
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.digest(), token.digest());
        let next = token.successor(b"key");
        assert_eq!((next.user, next.session), (token.user, token.session));
        assert_ne!(next.digest(), token.digest());
        assert_eq!(next, token.successor(b"key"), "one token, one successor");
        assert_ne!(next, token.successor(b"another key"));
        assert_ne!(next.successor(b"key"), next, "and a successor of its own");
        assert!(RefreshToken::parse(&next.expose()).is_ok());
        assert!(!format!("{token:?}").contains(&token.secret));
    }

    #[test]
    fn anything_else_is_refused() {
        let good = RefreshToken::start(UserId::generate()).expose();
        for bad in [
            String::new(),
            "rt1.a.b.c".into(),
            good.replacen("rt1", "rt2", 1),
            format!("{good}.x"),
            good[..good.len() - 2].to_owned(),
        ] {
            assert!(RefreshToken::parse(&bad).is_err(), "{bad}");
        }
    }
}

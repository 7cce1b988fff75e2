//! Passwords in and argon2id hashes out. Neither type can be printed or serialized.

use std::fmt;

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// A password that passed the policy. Its `Debug` is redacted so it cannot leak into logs.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// `personal` holds what the password must not equal (username, email), case-insensitively.
    pub fn parse(raw: &str, personal: &[&str]) -> Result<Self, &'static str> {
        let length = raw.chars().count();
        if length < 8 {
            return Err("must be at least 8 characters");
        }
        if length > 256 {
            return Err("must be at most 256 characters");
        }
        if raw.chars().all(|c| c.is_ascii_digit()) {
            return Err("must not be entirely numeric");
        }
        let lowered = raw.to_lowercase();
        if personal
            .iter()
            .any(|p| !p.is_empty() && p.trim().to_lowercase() == lowered)
        {
            return Err("must not be the same as the username or email");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHash {
    /// CPU-bound (tens of milliseconds): call it off the async executor.
    pub fn create(password: &Password) -> Self {
        let phc = hasher()
            .hash_password(password.expose().as_bytes())
            .expect("argon2 hashing with a fresh salt cannot fail");
        Self(phc.to_string())
    }

    /// Wraps a stored PHC string; only the store calls this.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Constant-time verification with the parameters recorded in the hash itself.
    pub fn verify(&self, password: &str) -> bool {
        #[cfg(feature = "test-hooks")]
        checks::count(&self.0);
        Phc::new(&self.0)
            .map(|phc| hasher().verify_password(password.as_bytes(), &phc).is_ok())
            .unwrap_or(false)
    }
}

/// With the `test-hooks` feature only: how many times each hash was checked, so tests can
/// count the password guesses an account took.
#[cfg(feature = "test-hooks")]
pub mod checks {
    use std::collections::HashMap;
    use std::sync::Mutex;

    static CHECKS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

    pub(super) fn count(phc: &str) {
        let mut checks = CHECKS.lock().unwrap_or_else(|e| e.into_inner());
        *checks
            .get_or_insert_with(HashMap::new)
            .entry(phc.to_owned())
            .or_default() += 1;
    }

    /// How many times the hash `phc` was checked in this process.
    pub fn of(phc: &str) -> usize {
        let checks = CHECKS.lock().unwrap_or_else(|e| e.into_inner());
        checks
            .as_ref()
            .and_then(|c| c.get(phc).copied())
            .unwrap_or(0)
    }
}

/// Verified when no user matches a log-in, so that an unknown user costs the same argon2
/// work as a wrong password and the two cannot be told apart by timing. Its password is a
/// random value nobody kept.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$vx31zyifGHDbT8Z4+f3qhQ$rkNEtkDk0p21JmYmgJBEaJH1YPChplzdVDJaEl7JxLY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(Password::parse("correct horse", &["jane"]).is_ok());
        assert_eq!(
            Password::parse("short", &[]).unwrap_err(),
            "must be at least 8 characters"
        );
        assert_eq!(
            Password::parse("12345678", &[]).unwrap_err(),
            "must not be entirely numeric"
        );
        assert!(Password::parse("JaneDoe99", &["janedoe99", "j@example.com"]).is_err());
        assert!(Password::parse("J@Example.com", &["jane", "j@example.com"]).is_err());
        assert!(Password::parse(&"x".repeat(257), &[]).is_err());
    }

    #[test]
    fn hashes_are_argon2id_at_owasp_parameters_and_verify() {
        let password = Password::parse("correct horse", &[]).unwrap();
        let hash = PasswordHash::create(&password);
        assert!(
            hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_phc()
        );
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horsE"));
        assert_ne!(hash, PasswordHash::create(&password), "salts must differ");
        assert!(!format!("{hash:?}{password:?}").contains("horse"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::from_stored(DUMMY_HASH.to_owned());
        assert!(DUMMY_HASH.starts_with(&format!(
            "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}$"
        )));
        assert!(Phc::new(DUMMY_HASH).is_ok());
        assert!(!dummy.verify("correct horse battery"));
    }
}

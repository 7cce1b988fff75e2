//! Passwords in and argon2id hashes out. Neither type can be printed or serialized.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use argon2::password_hash::generate_salt;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// argon2's working memory (19 MiB at our parameters), allocated by the first hash and reused
/// by every later one. Left to argon2, each hash allocates its own, and each blocking thread's
/// allocator arena keeps a copy: sign-up's RSS reached 218 MiB after 21 requests. An execution
/// environment serves one request at a time, so on Lambda nothing waits for the lock; in a
/// process hashing concurrently (the tests), hashes take turns.
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// [`MEMORY`], at least as large as `params` need.
fn memory_for(params: &Params) -> std::sync::MutexGuard<'static, Vec<Block>> {
    let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::new());
    }
    memory
}

/// The raw argon2 output for `password` and `salt`, into `out`, in [`MEMORY`].
fn hash_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let mut memory = memory_for(argon.params());
    let blocks = argon.params().block_count();
    argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
}

/// The hasher a stored PHC string names (algorithm, version, parameters), or none if it names
/// no valid one.
fn hasher_of(phc: &Phc) -> Option<Argon2<'static>> {
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
    let version = Version::try_from(phc.version.unwrap_or(Version::V0x13.into())).ok()?;
    Some(Argon2::new(algorithm, version, Params::try_from(phc).ok()?))
}

impl PasswordHash {
    /// CPU-bound (tens of milliseconds): call it off the async executor.
    pub fn create(password: &Password) -> Self {
        let argon = hasher();
        let salt = generate_salt();
        let mut out = [0; Params::DEFAULT_OUTPUT_LEN];
        hash_into(&argon, password.expose().as_bytes(), &salt, &mut out)
            .expect("argon2 hashing with valid parameters and a fresh salt cannot fail");
        let phc = Phc {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).expect("constant parameters encode"),
            salt: Some(Salt::new(&salt).expect("a salt of the recommended length")),
            hash: Some(Output::new(&out).expect("an output of the default length")),
        };
        Self(phc.to_string())
    }

    /// Allocates (and so faults in) the hashing memory at cold start, alongside the connection
    /// warm-up, so that the first sign-up or log-in does not. A whole dummy hash would page in
    /// argon2's code too, but adds a hash's time to every cold start: more than it saves.
    pub fn warm_up() {
        drop(memory_for(hasher().params()));
    }

    /// Wraps a stored PHC string; only the store calls this.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Verification with the parameters recorded in the hash itself; outputs are compared in
    /// constant time (`Output`'s equality).
    pub fn verify(&self, password: &str) -> bool {
        #[cfg(feature = "test-hooks")]
        checks::count(&self.0);
        let Ok(phc) = Phc::new(&self.0) else {
            return false;
        };
        let (Some(argon), Some(salt), Some(expected)) = (hasher_of(&phc), &phc.salt, &phc.hash)
        else {
            return false;
        };
        let mut out = vec![0; expected.len()];
        hash_into(&argon, password.as_bytes(), salt, &mut out).is_ok()
            && Output::new(&out).is_ok_and(|computed| computed == *expected)
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

    /// Hashes made in the reused memory are the argon2 crate's own, both ways: stored hashes
    /// made before it still verify, and ours verify with the crate's verifier.
    #[test]
    fn hashes_are_the_argon2_crates_own_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let password = Password::parse("correct horse", &[]).unwrap();
        let theirs = hasher()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        let theirs = PasswordHash::from_stored(theirs);
        assert!(theirs.verify("correct horse"));
        assert!(!theirs.verify("correct horse "));
        let ours = Phc::new(PasswordHash::create(&password).as_phc()).unwrap();
        assert!(hasher().verify_password(b"correct horse", &ours).is_ok());
        assert!(hasher().verify_password(b"correct hors", &ours).is_err());
        // Other parameters than ours, named in the hash, are honoured.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let light = light.hash_password(b"correct horse").unwrap().to_string();
        assert!(PasswordHash::from_stored(light).verify("correct horse"));
        assert!(!PasswordHash::from_stored("$argon2id$v=19$m=8,t=1,p=1$x".into()).verify("a"));
        assert!(!PasswordHash::from_stored(DUMMY_HASH.into()).verify("correct horse"));
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

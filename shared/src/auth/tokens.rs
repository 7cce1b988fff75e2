//! EdDSA (Ed25519) JSON Web Tokens: `sub` (user id), `iat`, `exp`, `iss`, `aud`, and `orgs`, the
//! caller's role in each of their organizations. Carrying the roles lets every route decide
//! authorization without a read, and keeps each caller's own items out of the transactions
//! of their requests; the price is that a change of membership reaches a caller when their
//! token is next issued (at most one access-token lifetime later: 15 minutes by default).
//!
//! API Gateway refuses requests whose headers pass 10,240 bytes, so a token carries the roles
//! of at most [`ROLES_BUDGET`] bytes of organizations (about 40), and says when it left some
//! out (`more`): for those, routes read the caller's membership ([`Access::Unlisted`]).
//!
//! Every token names its key in the header (`kid`, derived from the public key). Only the
//! functions that issue tokens hold a private key ([`SigningKey`]): read from Secrets Manager
//! at cold start (`crate::secrets`), it is in no function's environment. Each of them
//! publishes its public key in the table ([`PublicKey`]), and every function verifies with
//! the public keys it read there, by `kid`. So a new key (the secret's next version) signs as
//! soon as the issuers start with it, while the old one verifies until its tokens expire; a
//! function that meets a `kid` it does not know reads the keys again, at most once every
//! [`REREAD_SECONDS`], and reads them again anyway once they are [`KEYS_MAX_AGE_SECONDS`]
//! old, so that a key deleted from the table stops verifying within that time.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::eddsa::{self, KEY_BYTES};
use super::RefreshToken;
use crate::config::{ConfigError, TokenConfig};
use crate::domain::{hex, unix_now, Email, OrgId, OrgRole, Role, UserId};

/// The shortest secret a signing key is derived from: 256 bits, as base64 or hex text holds
/// them in 43 or 64 characters, and the template's generated secret in 64.
pub const MIN_SECRET_BYTES: usize = 32;
/// How long a function verifies with the public keys it read before it reads them again:
/// a key deleted from the table stops verifying within this time.
pub const KEYS_MAX_AGE_SECONDS: u64 = 300;
/// How often a token naming a key a function does not know makes it read the keys again.
pub const REREAD_SECONDS: u64 = 5;
const KEYS_MAX_AGE: Duration = Duration::from_secs(KEYS_MAX_AGE_SECONDS);
const REREAD: Duration = Duration::from_secs(REREAD_SECONDS);
/// Clock skew tolerated between the Lambda that issued a token and the one checking it.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    iss: String,
    aud: String,
    /// Absent in tokens minted before roles were carried: such a caller belongs nowhere
    /// until they log in again.
    #[serde(default)]
    orgs: Vec<OrgRole>,
    /// The user's email, so that `/users/me` finds the invitations to it without reading
    /// the user first. Absent in tokens minted before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<Email>,
    /// The caller belongs to more organizations than `orgs` lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    more: bool,
}

/// At most this many bytes of `orgs`, as JSON, go into a token: with the rest of the claims
/// and the header, base64url-encoded, a token stays under about 4 KiB.
pub const ROLES_BUDGET: usize = 2_700;

/// The first roles that fit in [`ROLES_BUDGET`], and whether any were left out.
fn within_budget(roles: &[OrgRole]) -> (Vec<OrgRole>, bool) {
    let mut used = 2; // the list's brackets
    let mut carried = Vec::new();
    for role in roles {
        let size = serde_json::to_string(role).map_or(usize::MAX, |json| json.len() + 1);
        if used + size > ROLES_BUDGET {
            return (carried, true);
        }
        used += size;
        carried.push(*role);
    }
    (carried, false)
}

/// Who is calling, from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub roles: Vec<OrgRole>,
    /// As the token carries it (absent in older tokens).
    pub email: Option<Email>,
    /// The caller belongs to organizations `roles` does not list (see [`ROLES_BUDGET`]).
    pub more: bool,
}

impl Caller {
    /// This caller, their role in `org` read from their membership (`None`: not a member),
    /// for a token that left `org` out. Good for decisions about `org` only: it forgets the
    /// other organizations the token left out.
    pub fn knowing(&self, org: OrgId, role: Option<Role>) -> Self {
        let mut roles = self.roles.clone();
        roles.extend(role.map(|role| OrgRole {
            organization: org,
            role,
        }));
        Self {
            roles,
            more: false,
            ..self.clone()
        }
    }

    /// The caller's role in `org`, or `None` when they do not belong to it.
    pub fn role_in(&self, org: OrgId) -> Option<Role> {
        self.roles
            .iter()
            .find(|grant| grant.organization == org)
            .map(|grant| grant.role)
    }
}

/// The private key of the functions that issue tokens, derived from one secret: the Ed25519
/// seed, and the key refresh tokens' successors are derived with. Its `Debug` shows the
/// public key's id alone.
pub struct SigningKey {
    public: PublicKey,
    encoding: EncodingKey,
    rotation_key: [u8; 32],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key derived from `secret` (the Secrets Manager secret's string): the seed is its
    /// SHA-256 under one label, the rotation key under another, so neither tells the other.
    pub fn from_secret(secret: &str) -> Result<Self, ConfigError> {
        if secret.trim().len() < MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "the token signing secret must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        let derive = |label: &[u8]| -> [u8; 32] {
            Sha256::new()
                .chain_update(label)
                .chain_update(secret.trim().as_bytes())
                .finalize()
                .into()
        };
        Ok(Self::from_seed(
            &derive(b"crm access-token ed25519 seed v1\0"),
            derive(b"crm refresh-token rotation v1\0"),
        ))
    }

    /// A key nobody else has, from the system's random source: what a cold start's rehearsal
    /// signs with (`crate::serve`), dropped once its one token is made.
    pub fn throwaway() -> Self {
        let mut seed = [0; KEY_BYTES];
        getrandom::fill(&mut seed).expect("the system's random source");
        Self::from_seed(&seed, [0; 32])
    }

    fn from_seed(seed: &[u8; KEY_BYTES], rotation_key: [u8; 32]) -> Self {
        Self {
            public: PublicKey::new(eddsa::public_key(seed)),
            encoding: EncodingKey::from_ed_der(&eddsa::pkcs8(seed)),
            rotation_key,
        }
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// `claims` as a token signed by this key, whose header names it.
    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        self.sign_naming(claims, &self.public.id)
    }

    /// `claims` signed by this key, whose header names the key `kid`: what a forger holding
    /// this key could send as another key's token (tests show it is refused).
    pub fn sign_naming<T: Serialize>(&self, claims: &T, kid: &str) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        super::eddsa::install();
        encode(&header, claims, &self.encoding).expect("EdDSA signing with a valid key cannot fail")
    }
}

/// The public half of a signing key, and its name in token headers (`kid`): the start of its
/// SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    id: String,
    bytes: [u8; KEY_BYTES],
}

impl PublicKey {
    fn new(bytes: [u8; KEY_BYTES]) -> Self {
        Self {
            id: hex(&Sha256::digest(bytes)[..8]),
            bytes,
        }
    }

    /// A key as [`PublicKey::encoded`] wrote it, if `kid` is its name.
    pub fn parse(kid: &str, encoded: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?.try_into().ok()?;
        Some(Self::new(bytes)).filter(|key| key.id == kid)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its 32 bytes, base64url (as a JWK's `x`, RFC 8037).
    pub fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    fn decoding(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.bytes)
    }
}

/// The public keys a function verifies with, and when it last read them (by the monotonic
/// clock: how old they are is real time, whatever a test does with the store's clock).
#[derive(Default)]
struct Known {
    keys: HashMap<String, DecodingKey>,
    read_at: Option<Instant>,
}

/// Issues and verifies access tokens. Built once at cold start.
pub struct Tokens {
    /// Only in the functions that issue tokens.
    signing: Option<SigningKey>,
    known: RwLock<Known>,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
    refresh_lifetime: Duration,
}

/// A freshly issued token and how long it lives.
#[derive(Debug, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

/// Why a token was refused. Callers answer 401 to all of them alike; the kind is for logs.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
    /// Signed by a key this function has not read (yet): worth reading the keys again.
    UnknownKey,
}

/// A function without the signing key was asked to issue a token: a route served by a
/// function that does not read the key (`Function::issues_tokens` says which do).
#[derive(Debug)]
pub struct NoSigningKey;

impl std::fmt::Display for NoSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this function holds no token signing key")
    }
}

impl std::error::Error for NoSigningKey {}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("signing", &self.signing)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens that verify with the keys [`Tokens::learn`] is given (and `signing`'s own), and
    /// issue with `signing`, when given.
    pub fn new(config: &TokenConfig, signing: Option<SigningKey>) -> Self {
        super::eddsa::install();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        Self {
            signing,
            known: RwLock::default(),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            lifetime: config.lifetime,
            refresh_lifetime: config.refresh_lifetime,
        }
    }

    /// The public half of the key this function signs with, if it issues tokens.
    pub fn signing_key(&self) -> Option<&PublicKey> {
        self.signing.as_ref().map(SigningKey::public)
    }

    /// The token that replaces `token` at its refresh (see [`RefreshToken::successor`]).
    /// A new secret changes it, which only shortens the grace of the refreshes in flight.
    pub fn successor(&self, token: &RefreshToken) -> Result<RefreshToken, NoSigningKey> {
        let key = self.signing.as_ref().ok_or(NoSigningKey)?;
        Ok(token.successor(&key.rotation_key))
    }

    /// How long a refresh token lives from its issue.
    pub fn refresh_lifetime(&self) -> Duration {
        self.refresh_lifetime
    }

    pub fn issue(
        &self,
        user: UserId,
        email: Option<&Email>,
        roles: &[OrgRole],
    ) -> Result<AccessToken, NoSigningKey> {
        let key = self.signing.as_ref().ok_or(NoSigningKey)?;
        Ok(self.sign(key, user, email, roles))
    }

    fn sign(
        &self,
        key: &SigningKey,
        user: UserId,
        email: Option<&Email>,
        roles: &[OrgRole],
    ) -> AccessToken {
        let now = unix_now();
        let (orgs, more) = within_budget(roles);
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            orgs,
            email: email.cloned(),
            more,
        };
        AccessToken {
            access_token: key.sign(&claims),
            token_type: "Bearer",
            expires_in: self.lifetime.as_secs(),
        }
    }

    /// A token signed by a throwaway key that this function verifies until
    /// [`Tokens::forget`]: cold start's rehearsal, in a function that may hold no signing
    /// key. The private key is dropped here; its `kid` is returned for `forget`.
    pub fn rehearsal_token(
        &self,
        user: UserId,
        email: Option<&Email>,
        roles: &[OrgRole],
    ) -> (AccessToken, String) {
        let key = SigningKey::throwaway();
        self.write_known()
            .keys
            .insert(key.public.id.clone(), key.public.decoding());
        (self.sign(&key, user, email, roles), key.public.id.clone())
    }

    /// No longer verifies tokens of the key named `kid` (until the table lists it).
    pub fn forget(&self, kid: &str) {
        self.write_known().keys.remove(kid);
    }

    /// Verifies with `keys` from now on (read from the table at `now`), and this function's
    /// own key: keys not among them no longer verify.
    pub fn learn(&self, keys: &[PublicKey], now: Instant) {
        let mut known = self.write_known();
        known.keys = keys
            .iter()
            .map(|key| (key.id.clone(), key.decoding()))
            .collect();
        known.read_at = Some(now);
    }

    /// Whether to read the keys before (or again after) verifying at `now`: never read, read
    /// [`KEYS_MAX_AGE_SECONDS`] ago, or, when a token named a key this function does not
    /// know (`unknown`), read over [`REREAD_SECONDS`] ago.
    pub fn wants_keys(&self, now: Instant, unknown: bool) -> bool {
        match self.read_known().read_at {
            None => true,
            Some(at) => {
                let age = now.saturating_duration_since(at);
                age >= KEYS_MAX_AGE || (unknown && age >= REREAD)
            }
        }
    }

    fn read_known(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        // Nothing panics while holding it: poisoned, its data is still whole.
        self.known.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_known(&self) -> std::sync::RwLockWriteGuard<'_, Known> {
        self.known.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The caller a token was issued to, if it is ours (signed by a key this function
    /// knows), intact, unexpired and meant for us.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let own = self
            .signing
            .as_ref()
            .filter(|key| key.public.id == kid)
            .map(|key| key.public.decoding());
        let key = match own {
            Some(key) => key,
            None => self
                .read_known()
                .keys
                .get(&kid)
                .cloned()
                .ok_or(TokenError::UnknownKey)?,
        };
        let data = decode::<Claims>(token, &key, &self.validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let user = UserId::parse(&data.claims.sub).map_err(|_| TokenError::Invalid)?;
        Ok(Caller {
            user,
            roles: data.claims.orgs,
            email: data.claims.email,
            more: data.claims.more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TokenConfig {
        TokenConfig {
            signing_secret: None,
            lifetime: Duration::from_secs(900),
            refresh_lifetime: Duration::from_secs(3600),
            issuer: "crm-api".into(),
            audience: "crm-api".into(),
        }
    }

    fn key(secret: char) -> SigningKey {
        SigningKey::from_secret(&secret.to_string().repeat(40)).unwrap()
    }

    fn issuer(secret: char) -> Tokens {
        Tokens::new(&config(), Some(key(secret)))
    }

    /// A function that only verifies, knowing the public keys of `secrets`.
    fn verifier(secrets: &[char], now: Instant) -> Tokens {
        let tokens = Tokens::new(&config(), None);
        let keys: Vec<PublicKey> = secrets.iter().map(|s| key(*s).public().clone()).collect();
        tokens.learn(&keys, now);
        tokens
    }

    #[test]
    fn a_token_names_its_user_their_roles_and_its_key() {
        let t = issuer('a');
        let user = UserId::generate();
        let org = OrgId::generate();
        let roles = [OrgRole {
            organization: org,
            role: Role::Employee,
        }];
        let email = Email::parse("jane@example.com").unwrap();
        let issued = t.issue(user, Some(&email), &roles).unwrap();
        assert_eq!(issued.expires_in, 900);
        let header = decode_header(&issued.access_token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(key('a').public().id()));
        for tokens in [&t, &verifier(&['a'], Instant::now())] {
            let caller = tokens.verify(&issued.access_token).unwrap();
            assert_eq!(caller.user, user);
            assert_eq!(caller.email, Some(email.clone()));
            assert_eq!(caller.role_in(org), Some(Role::Employee));
            assert_eq!(caller.role_in(OrgId::generate()), None);
        }
    }

    /// API Gateway's 10,240 bytes of request headers must hold the token of a user in any
    /// number of organizations: it carries the first that fit in about 4 KiB, and says so.
    #[test]
    fn a_token_carries_roles_up_to_its_budget_and_says_when_it_left_some_out() {
        let t = issuer('a');
        let roles: Vec<OrgRole> = (0..100)
            .map(|_| OrgRole {
                organization: OrgId::generate(),
                role: Role::Employee,
            })
            .collect();
        let email = Email::parse(&format!("{}@example.com", "x".repeat(60))).unwrap();
        let issued = t
            .issue(UserId::generate(), Some(&email), &roles)
            .unwrap()
            .access_token;
        assert!(issued.len() <= 4096, "{} bytes", issued.len());
        let caller = t.verify(&issued).unwrap();
        assert!(caller.more);
        assert!(caller.roles.len() >= 30, "{}", caller.roles.len());
        assert_eq!(caller.roles[..], roles[..caller.roles.len()]);
        let few = t
            .issue(UserId::generate(), Some(&email), &roles[..3])
            .unwrap()
            .access_token;
        let caller = t.verify(&few).unwrap();
        assert!(!caller.more);
        assert_eq!(caller.roles.len(), 3);
    }

    #[test]
    fn short_secrets_are_refused_and_a_key_never_prints() {
        let short = SigningKey::from_secret(&"k".repeat(31)).unwrap_err();
        assert!(short.0.contains("at least 32"), "{short}");
        assert!(SigningKey::from_secret(&format!("  {}  ", "k".repeat(31))).is_err());
        let secret = "s".repeat(40);
        let key = SigningKey::from_secret(&secret).unwrap();
        let shown = format!("{key:?} {:?}", issuer('s'));
        assert!(shown.contains(key.public().id()), "{shown}");
        assert!(
            !shown.contains(&secret) && !shown.contains("ssss"),
            "{shown}"
        );
    }

    #[test]
    fn a_function_without_the_signing_key_verifies_but_cannot_issue() {
        let t = verifier(&['a'], Instant::now());
        assert!(t.signing_key().is_none());
        assert!(t.issue(UserId::generate(), None, &[]).is_err());
        let refresh = RefreshToken::start(UserId::generate());
        assert!(t.successor(&refresh).is_err());
        let a = issuer('a');
        assert_eq!(
            a.successor(&refresh).unwrap(),
            issuer('a').successor(&refresh).unwrap()
        );
        assert_ne!(
            a.successor(&refresh).unwrap(),
            issuer('b').successor(&refresh).unwrap()
        );
    }

    /// Rotation: every key the table lists verifies, by its `kid`; a key dropped from the
    /// table stops verifying at the next read; a key never published is not known.
    #[test]
    fn every_published_key_verifies_until_it_is_dropped() {
        let (old, new) = (issuer('a'), issuer('b'));
        let signed_old = old
            .issue(UserId::generate(), None, &[])
            .unwrap()
            .access_token;
        let signed_new = new
            .issue(UserId::generate(), None, &[])
            .unwrap()
            .access_token;
        let t = verifier(&['a', 'b'], Instant::now());
        assert!(t.verify(&signed_old).is_ok());
        assert!(t.verify(&signed_new).is_ok());
        t.learn(&[key('b').public().clone()], Instant::now());
        assert_eq!(t.verify(&signed_old), Err(TokenError::UnknownKey));
        assert!(t.verify(&signed_new).is_ok());
        assert_eq!(
            verifier(&[], Instant::now()).verify(&signed_new),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn keys_are_read_when_never_read_when_old_and_at_most_every_few_seconds_for_an_unknown_kid() {
        let t = Tokens::new(&config(), None);
        let read = Instant::now();
        let later = |seconds: u64| read + Duration::from_secs(seconds);
        assert!(t.wants_keys(read, false), "never read");
        t.learn(&[], read);
        assert!(!t.wants_keys(read, true));
        assert!(!t.wants_keys(later(REREAD_SECONDS - 1), true));
        assert!(t.wants_keys(later(REREAD_SECONDS), true));
        assert!(!t.wants_keys(later(KEYS_MAX_AGE_SECONDS - 1), false));
        assert!(t.wants_keys(later(KEYS_MAX_AGE_SECONDS), false));
    }

    #[test]
    fn a_rehearsal_token_verifies_until_forgotten() {
        let t = verifier(&[], Instant::now());
        let (token, kid) = t.rehearsal_token(UserId::generate(), None, &[]);
        assert!(t.verify(&token.access_token).is_ok());
        t.forget(&kid);
        assert_eq!(t.verify(&token.access_token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn public_keys_round_trip_and_a_kid_that_is_not_the_keys_is_refused() {
        let public = key('a').public().clone();
        assert_eq!(
            PublicKey::parse(public.id(), &public.encoded()),
            Some(public.clone())
        );
        assert_eq!(
            PublicKey::parse(key('b').public().id(), &public.encoded()),
            None
        );
        assert_eq!(PublicKey::parse(public.id(), "not base64!"), None);
        assert_eq!(PublicKey::parse(public.id(), "AAAA"), None);
    }

    #[test]
    fn other_keys_audiences_issuers_and_algorithms_are_refused() {
        let issued = issuer('a')
            .issue(UserId::generate(), None, &[])
            .unwrap()
            .access_token;
        assert_eq!(issuer('b').verify(&issued), Err(TokenError::UnknownKey));
        let mut other = config();
        other.audience = "billing".into();
        let t = Tokens::new(&other, Some(key('a')));
        assert_eq!(t.verify(&issued), Err(TokenError::Invalid));
        let mut other = config();
        other.issuer = "someone".into();
        let t = Tokens::new(&other, Some(key('a')));
        assert_eq!(t.verify(&issued), Err(TokenError::Invalid));
        assert_eq!(issuer('a').verify("not.a.token"), Err(TokenError::Invalid));
        // An HS256 token naming a known key, signed with its public bytes as the secret.
        let public = key('a').public().clone();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(public.id().to_owned());
        let claims = serde_json::json!({"sub": UserId::generate().to_string(), "iat": unix_now(),
            "exp": unix_now() + 600, "iss": "crm-api", "aud": "crm-api"});
        let forged = encode(&header, &claims, &EncodingKey::from_secret(&public.bytes));
        // Our provider signs EdDSA alone; whatever was made, it does not verify.
        if let Ok(forged) = forged {
            assert_eq!(issuer('a').verify(&forged), Err(TokenError::Invalid));
        }
    }
}

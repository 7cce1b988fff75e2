//! HS256 JSON Web Tokens: `sub` (user id), `iat`, `exp`, `iss`, `aud`, and `orgs`, the
//! caller's role in each of their organizations. Carrying the roles lets every route decide
//! authorization without a read, and keeps each caller's own items out of the transactions
//! of their requests; the price is that a change of membership reaches a caller when their
//! token is next issued (at most one access-token lifetime later: 15 minutes by default).
//!
//! API Gateway refuses requests whose headers pass 10,240 bytes, so a token carries the roles
//! of at most [`ROLES_BUDGET`] bytes of organizations (about 40), and says when it left some
//! out (`more`): for those, routes read the caller's membership ([`Access::Unlisted`]).
//!
//! Every token names its key in the header (`kid`, derived from the key itself), so a new
//! key can sign while the previous one still verifies the tokens it signed.

use std::time::Duration;

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::RefreshToken;
use crate::config::{ConfigError, TokenConfig};
use crate::domain::{hex, unix_now, Email, OrgId, OrgRole, Role, UserId};

/// An HS256 key shorter than the hash's output weakens it (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;
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
pub const ROLES_BUDGET: usize = 2_800;

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

struct Key {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &[u8], which: &str) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "{which} must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        Ok(Self {
            id: key_id(secret),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }
}

/// A key's name in token headers: the start of its SHA-256, which says nothing of the key.
fn key_id(secret: &[u8]) -> String {
    hex(&Sha256::digest(secret)[..8])
}

/// Issues and verifies access tokens. Built once at cold start from configuration.
pub struct Tokens {
    current: Key,
    previous: Option<Key>,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
    refresh_lifetime: Duration,
    /// What refresh tokens' successors are derived with (from `TOKEN_SECRET`).
    rotation_key: [u8; 32],
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
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("key", &self.current.id)
            .field("previous_key", &self.previous.as_ref().map(|k| &k.id))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> Result<Self, ConfigError> {
        super::hs256::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        Ok(Self {
            current: Key::new(&config.secret, "TOKEN_SECRET")?,
            previous: config
                .previous_secret
                .as_deref()
                .map(|secret| Key::new(secret, "TOKEN_PREVIOUS_SECRET"))
                .transpose()?,
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            lifetime: config.lifetime,
            refresh_lifetime: config.refresh_lifetime,
            rotation_key: Sha256::new()
                .chain_update(b"crm refresh-token rotation v1\0")
                .chain_update(&config.secret)
                .finalize()
                .into(),
        })
    }

    /// The token that replaces `token` at its refresh (see [`RefreshToken::successor`]).
    /// A key rotation changes it, which only shortens the grace of the refreshes in flight.
    pub fn successor(&self, token: &RefreshToken) -> RefreshToken {
        token.successor(&self.rotation_key)
    }

    /// How long a refresh token lives from its issue.
    pub fn refresh_lifetime(&self) -> Duration {
        self.refresh_lifetime
    }

    pub fn issue(&self, user: UserId, email: Option<&Email>, roles: &[OrgRole]) -> AccessToken {
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
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.id.clone());
        let token = encode(&header, &claims, &self.current.encoding)
            .expect("HS256 signing with a valid key cannot fail");
        AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: self.lifetime.as_secs(),
        }
    }

    /// The caller a token was issued to, if it is ours (signed by the current or the
    /// previous key), intact, unexpired and meant for us.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        let key = match header.kid.as_deref() {
            // Tokens from before keys were named were signed with the only key there was.
            None => &self.current,
            Some(id) if id == self.current.id => &self.current,
            Some(id) => self
                .previous
                .as_ref()
                .filter(|previous| previous.id == id)
                .ok_or(TokenError::Invalid)?,
        };
        let data = decode::<Claims>(token, &key.decoding, &self.validation).map_err(|e| match e
            .kind()
        {
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

    fn config(secret: &[u8], previous: Option<&[u8]>) -> TokenConfig {
        TokenConfig {
            secret: secret.to_vec(),
            previous_secret: previous.map(<[u8]>::to_vec),
            lifetime: Duration::from_secs(900),
            refresh_lifetime: Duration::from_secs(3600),
            issuer: "crm-api".into(),
            audience: "crm-api".into(),
        }
    }

    fn tokens(secret: &[u8]) -> Tokens {
        Tokens::new(&config(secret, None)).unwrap()
    }

    #[test]
    fn a_token_names_its_user_their_roles_and_its_key() {
        let t = tokens(&[7; 32]);
        let user = UserId::generate();
        let org = OrgId::generate();
        let roles = [OrgRole {
            organization: org,
            role: Role::Employee,
        }];
        let email = Email::parse("jane@example.com").unwrap();
        let issued = t.issue(user, Some(&email), &roles);
        assert_eq!(issued.expires_in, 900);
        let header = decode_header(&issued.access_token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key_id(&[7; 32]).as_str()));
        let caller = t.verify(&issued.access_token).unwrap();
        assert_eq!(caller.user, user);
        assert_eq!(caller.email, Some(email));
        assert_eq!(caller.role_in(org), Some(Role::Employee));
        assert_eq!(caller.role_in(OrgId::generate()), None);
    }

    /// API Gateway's 10,240 bytes of request headers must hold the token of a user in any
    /// number of organizations: it carries the first that fit in about 4 KiB, and says so.
    #[test]
    fn a_token_carries_roles_up_to_its_budget_and_says_when_it_left_some_out() {
        let t = tokens(&[7; 32]);
        let roles: Vec<OrgRole> = (0..100)
            .map(|_| OrgRole {
                organization: OrgId::generate(),
                role: Role::Employee,
            })
            .collect();
        let email = Email::parse(&format!("{}@example.com", "x".repeat(60))).unwrap();
        let issued = t
            .issue(UserId::generate(), Some(&email), &roles)
            .access_token;
        assert!(issued.len() <= 4096, "{} bytes", issued.len());
        let caller = t.verify(&issued).unwrap();
        assert!(caller.more);
        assert!(caller.roles.len() >= 30, "{}", caller.roles.len());
        assert_eq!(caller.roles[..], roles[..caller.roles.len()]);
        let few = t
            .issue(UserId::generate(), Some(&email), &roles[..3])
            .access_token;
        let caller = t.verify(&few).unwrap();
        assert!(!caller.more);
        assert_eq!(caller.roles.len(), 3);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Tokens::new(&config(&[1; 31], None)).is_err());
        assert!(Tokens::new(&config(&[1; 32], Some(&[2; 8]))).is_err());
    }

    #[test]
    fn a_rotated_key_still_verifies_until_it_is_dropped() {
        let old = tokens(&[1; 32]);
        let issued = old.issue(UserId::generate(), None, &[]).access_token;
        let rotated = Tokens::new(&config(&[2; 32], Some(&[1; 32]))).unwrap();
        assert!(
            rotated.verify(&issued).is_ok(),
            "the previous key still verifies"
        );
        let fresh = rotated.issue(UserId::generate(), None, &[]).access_token;
        assert!(old.verify(&fresh).is_err(), "new tokens use the new key");
        let dropped = tokens(&[2; 32]);
        assert_eq!(dropped.verify(&issued), Err(TokenError::Invalid));
        assert!(dropped.verify(&fresh).is_ok());
    }

    #[test]
    fn other_keys_audiences_and_issuers_are_refused() {
        let issued = tokens(&[7; 32])
            .issue(UserId::generate(), None, &[])
            .access_token;
        assert_eq!(tokens(&[8; 32]).verify(&issued), Err(TokenError::Invalid));
        let mut other = config(&[7; 32], None);
        other.audience = "billing".into();
        assert_eq!(
            Tokens::new(&other).unwrap().verify(&issued),
            Err(TokenError::Invalid)
        );
        let mut other = config(&[7; 32], None);
        other.issuer = "someone".into();
        assert_eq!(
            Tokens::new(&other).unwrap().verify(&issued),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            tokens(&[7; 32]).verify("not.a.token"),
            Err(TokenError::Invalid)
        );
    }
}

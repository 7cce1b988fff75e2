//! HS256 JSON Web Tokens: `sub` (user id), `iat`, `exp`, `iss`, `aud`, and `orgs`, the
//! caller's role in each of their organizations. Carrying the roles lets every route decide
//! authorization without a read, and keeps each caller's own items out of the transactions
//! of their requests; the price is that a change of membership reaches a caller when their
//! token is next issued (at most one token lifetime later).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::app::ConfigError;
use crate::domain::{OrgId, OrgRole, Role, UserId};

/// An HS256 key shorter than the hash's output weakens it (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
const DEFAULT_ISSUER: &str = "crm-api";
const DEFAULT_AUDIENCE: &str = "crm-api";
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
}

/// Who is calling, from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub roles: Vec<OrgRole>,
}

impl Caller {
    /// The caller's role in `org`, or `None` when they do not belong to it.
    pub fn role_in(&self, org: OrgId) -> Option<Role> {
        self.roles
            .iter()
            .find(|grant| grant.organization == org)
            .map(|grant| grant.role)
    }
}

/// Issues and verifies access tokens. Built once at cold start from configuration.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
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
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "the token signing key must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            lifetime,
        })
    }

    /// `TOKEN_SECRET` (required, at least 32 bytes), `TOKEN_LIFETIME_SECONDS` (default 3600),
    /// `TOKEN_ISSUER` and `TOKEN_AUDIENCE` (default `crm-api`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Tokens::from_env`] over any source of variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = var("TOKEN_SECRET").ok_or_else(|| {
            ConfigError(
                "TOKEN_SECRET must be set: the functions refuse to start without a signing key"
                    .into(),
            )
        })?;
        let lifetime = match var("TOKEN_LIFETIME_SECONDS") {
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    ConfigError("TOKEN_LIFETIME_SECONDS must be a positive number".into())
                })?,
            None => DEFAULT_LIFETIME,
        };
        let issuer = var("TOKEN_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into());
        let audience = var("TOKEN_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into());
        Self::new(secret.as_bytes(), &issuer, &audience, lifetime)
    }

    pub fn issue(&self, user: UserId, roles: &[OrgRole]) -> AccessToken {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            orgs: roles.to_vec(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a valid key cannot fail");
        AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: self.lifetime.as_secs(),
        }
    }

    /// The caller a token was issued to, if it is ours, intact, unexpired and meant for us.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let user = UserId::parse(&data.claims.sub).map_err(|_| TokenError::Invalid)?;
        Ok(Caller {
            user,
            roles: data.claims.orgs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8]) -> Tokens {
        Tokens::new(secret, "crm-api", "crm-api", DEFAULT_LIFETIME).unwrap()
    }

    #[test]
    fn a_token_names_its_user_and_their_roles() {
        let t = tokens(&[7; 32]);
        let user = UserId::generate();
        let org = OrgId::generate();
        let roles = [OrgRole {
            organization: org,
            role: Role::Employee,
        }];
        let issued = t.issue(user, &roles);
        assert_eq!(issued.expires_in, 3600);
        let caller = t.verify(&issued.access_token).unwrap();
        assert_eq!(caller.user, user);
        assert_eq!(caller.role_in(org), Some(Role::Employee));
        assert_eq!(caller.role_in(OrgId::generate()), None);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Tokens::new(&[1; 31], "i", "a", DEFAULT_LIFETIME).is_err());
    }

    fn from(vars: &[(&str, &str)]) -> Result<Tokens, ConfigError> {
        Tokens::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn configuration_without_a_usable_key_or_lifetime_is_refused() {
        let key = "k".repeat(32);
        let missing = from(&[]).unwrap_err();
        assert!(missing.0.contains("TOKEN_SECRET"), "{missing}");
        assert!(from(&[("TOKEN_SECRET", "short")]).is_err());
        assert!(from(&[("TOKEN_SECRET", &key), ("TOKEN_LIFETIME_SECONDS", "0")]).is_err());
        assert!(from(&[("TOKEN_SECRET", &key), ("TOKEN_LIFETIME_SECONDS", "soon")]).is_err());
        let tokens = from(&[("TOKEN_SECRET", &key), ("TOKEN_LIFETIME_SECONDS", "60")]).unwrap();
        assert_eq!(tokens.issue(UserId::generate(), &[]).expires_in, 60);
    }

    #[test]
    fn other_keys_audiences_and_issuers_are_refused() {
        let issued = tokens(&[7; 32]).issue(UserId::generate(), &[]).access_token;
        assert_eq!(tokens(&[8; 32]).verify(&issued), Err(TokenError::Invalid));
        let other_audience = Tokens::new(&[7; 32], "crm-api", "billing", DEFAULT_LIFETIME).unwrap();
        assert_eq!(other_audience.verify(&issued), Err(TokenError::Invalid));
        let other_issuer = Tokens::new(&[7; 32], "someone", "crm-api", DEFAULT_LIFETIME).unwrap();
        assert_eq!(other_issuer.verify(&issued), Err(TokenError::Invalid));
        assert_eq!(
            tokens(&[7; 32]).verify("not.a.token"),
            Err(TokenError::Invalid)
        );
    }
}

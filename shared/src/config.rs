//! Every setting a function reads, read once at cold start from any source of variables
//! (the process environment in production, a table in tests).

use std::time::Duration;

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// How access and refresh tokens are made and checked.
#[derive(Clone)]
pub struct TokenConfig {
    /// Signs new access tokens (`TOKEN_SECRET`).
    pub secret: Vec<u8>,
    /// Still accepted for verification while keys rotate (`TOKEN_PREVIOUS_SECRET`).
    pub previous_secret: Option<Vec<u8>>,
    /// Access token lifetime (`TOKEN_LIFETIME_SECONDS`, default 900).
    pub lifetime: Duration,
    /// Refresh token lifetime, renewed at each rotation (`REFRESH_TOKEN_LIFETIME_SECONDS`,
    /// default 30 days).
    pub refresh_lifetime: Duration,
    /// `iss` and `aud` (`TOKEN_ISSUER`, `TOKEN_AUDIENCE`, default `crm-api`).
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("previous_secret", &self.previous_secret.is_some())
            .field("lifetime", &self.lifetime)
            .field("refresh_lifetime", &self.refresh_lifetime)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `TABLE_NAME`.
    pub table: String,
    pub tokens: TokenConfig,
}

const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);
const DEFAULT_REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str, why: &str| {
            var(name).ok_or_else(|| ConfigError(format!("{name} must be set: {why}")))
        };
        let seconds = |name: &str, default: Duration| match var(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError(format!("{name} must be a positive number"))),
        };
        Ok(Self {
            table: required("TABLE_NAME", "the DynamoDB table")?,
            tokens: TokenConfig {
                secret: required(
                    "TOKEN_SECRET",
                    "the functions refuse to start without a signing key",
                )?
                .into_bytes(),
                previous_secret: var("TOKEN_PREVIOUS_SECRET").map(String::into_bytes),
                lifetime: seconds("TOKEN_LIFETIME_SECONDS", DEFAULT_LIFETIME)?,
                refresh_lifetime: seconds(
                    "REFRESH_TOKEN_LIFETIME_SECONDS",
                    DEFAULT_REFRESH_LIFETIME,
                )?,
                issuer: var("TOKEN_ISSUER").unwrap_or_else(|| "crm-api".into()),
                audience: var("TOKEN_AUDIENCE").unwrap_or_else(|| "crm-api".into()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn missing_or_malformed_settings_are_refused() {
        let key = "k".repeat(32);
        let missing = from(&[("TABLE_NAME", "t")]).unwrap_err();
        assert!(missing.0.contains("TOKEN_SECRET"), "{missing}");
        assert!(from(&[("TOKEN_SECRET", &key)]).is_err(), "no table");
        let base = [("TABLE_NAME", "t"), ("TOKEN_SECRET", key.as_str())];
        for (name, bad) in [
            ("TOKEN_LIFETIME_SECONDS", "0"),
            ("TOKEN_LIFETIME_SECONDS", "soon"),
            ("REFRESH_TOKEN_LIFETIME_SECONDS", "-1"),
        ] {
            let mut vars = base.to_vec();
            vars.push((name, bad));
            assert!(from(&vars).is_err(), "{name}={bad}");
        }
        let config = from(&base).unwrap();
        assert_eq!(config.tokens.lifetime, Duration::from_secs(900));
        assert_eq!(
            config.tokens.refresh_lifetime,
            Duration::from_secs(2_592_000)
        );
        assert!(config.tokens.previous_secret.is_none());
        assert!(!format!("{config:?}").contains(&key), "secrets never print");
    }
}

//! Every setting a function reads, read once at cold start from any source of variables
//! (the process environment in production, a table in tests).

use std::time::Duration;

use crate::domain::AppUrl;

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
    /// The Secrets Manager secret the signing key is derived from, by ARN or name
    /// (`TOKEN_SIGNING_SECRET_ARN`): set for the functions that issue tokens alone, which read
    /// it at cold start. Not a secret itself.
    pub signing_secret: Option<String>,
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
            .field("signing_secret", &self.signing_secret)
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
    /// `ALLOWED_ORIGINS`: the browser origins CORS lets call the API (none when unset).
    pub origins: Origins,
    /// `METRICS_NAMESPACE` and `SERVICE_NAME`: where the EMF metrics go.
    pub metrics: crate::metrics::MetricsConfig,
    /// `APP_URL`: the front end, where links in mail go (`http://localhost:3000` unset).
    pub app_url: AppUrl,
}

/// The standard AWS settings, as the Lambda service gives them to a function: its region,
/// the credentials of its execution role, and where DynamoDB is when not at AWS.
///
/// Read here rather than through `aws-config`, whose default chain (profiles, SSO, web
/// identity, assume-role through STS, the instance metadata service) a Lambda function never
/// uses: it was 0.4 MiB of every bootstrap. The variables are the SDKs' own, read in their
/// order: `AWS_REGION`, else `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; `AWS_ENDPOINT_URL_DYNAMODB`, else
/// `AWS_ENDPOINT_URL`, both ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`.
/// The role's credentials stay the same for an execution environment's life, so they are
/// read once, at cold start. Operator tools, which run with a person's profile, use
/// `aws-config` (tests/harness/operator.rs).
#[derive(Clone)]
pub struct AwsSettings {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub endpoint: Option<String>,
    /// Where SES is when not at AWS: `AWS_ENDPOINT_URL_SESV2`, else `AWS_ENDPOINT_URL`
    /// (the table-stream function's mail; `make run` points it at its local mailbox).
    pub mail_endpoint: Option<String>,
    /// Where Secrets Manager is when not at AWS: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else
    /// `AWS_ENDPOINT_URL` (the signing key; `make run` points it at its local one).
    pub secrets_endpoint: Option<String>,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsSettings {
    /// A local server's settings, for tests and tools: `us-east-1`, credentials any local
    /// server takes, no endpoint (each caller sets the one it needs).
    pub fn local() -> Self {
        Self {
            region: "us-east-1".into(),
            access_key_id: "local".into(),
            secret_access_key: "local".into(),
            session_token: None,
            endpoint: None,
            mail_endpoint: None,
            secrets_endpoint: None,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            var(name).ok_or_else(|| {
                ConfigError(format!(
                    "{name} must be set (the Lambda service sets it; locally, any value)"
                ))
            })
        };
        let ignore_endpoints = var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint = |service: &str| {
            if ignore_endpoints {
                None
            } else {
                var(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| var("AWS_ENDPOINT_URL"))
            }
        };
        Ok(Self {
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .ok_or_else(|| ConfigError("AWS_REGION must be set".into()))?,
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
            endpoint: endpoint("DYNAMODB"),
            mail_endpoint: endpoint("SESV2"),
            secrets_endpoint: endpoint("SECRETS_MANAGER"),
        })
    }
}

/// Origins allowed to call the API from a browser: exact (`https://app.example.com`), or
/// any port of one scheme and host (`http://localhost:*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins(Vec<(String, bool)>);

impl Origins {
    /// A comma-separated list; empty allows none. `*` and paths are refused.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (base, any_port) = match entry.strip_suffix(":*") {
                Some(base) => (base, true),
                None => (entry, false),
            };
            let host = base
                .strip_prefix("https://")
                .or_else(|| base.strip_prefix("http://"));
            let valid = host.is_some_and(|h| {
                !h.is_empty()
                    && !h.contains('*')
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
            if !valid {
                return Err(format!(
                    "ALLOWED_ORIGINS: {entry:?} is not an origin (scheme://host[:port], or :* for any port; never *)"
                ));
            }
            origins.push((base.to_ascii_lowercase(), any_port));
        }
        Ok(Self(origins))
    }

    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.0.iter().any(|(base, any_port)| {
            if *any_port {
                let default = if base.starts_with("https:") { 443 } else { 80 };
                origin
                    .strip_prefix(base.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|port| is_serialized_port(port, default))
            } else {
                origin == *base
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `port` is a port as a browser serializes an origin's: decimal without a leading
/// zero, from 1 to 65535, and never the scheme's default (which the origin leaves out).
fn is_serialized_port(port: &str, default: u16) -> bool {
    !port.starts_with('0')
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p != 0 && p != default)
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
                signing_secret: var("TOKEN_SIGNING_SECRET_ARN"),
                lifetime: seconds("TOKEN_LIFETIME_SECONDS", DEFAULT_LIFETIME)?,
                refresh_lifetime: seconds(
                    "REFRESH_TOKEN_LIFETIME_SECONDS",
                    DEFAULT_REFRESH_LIFETIME,
                )?,
                issuer: var("TOKEN_ISSUER").unwrap_or_else(|| "crm-api".into()),
                audience: var("TOKEN_AUDIENCE").unwrap_or_else(|| "crm-api".into()),
            },
            origins: Origins::parse(&var("ALLOWED_ORIGINS").unwrap_or_default())
                .map_err(ConfigError)?,
            app_url: match var("APP_URL") {
                None => AppUrl::default(),
                Some(raw) => {
                    AppUrl::parse(&raw).map_err(|e| ConfigError(format!("APP_URL {e}")))?
                }
            },
            metrics: {
                let default = crate::metrics::MetricsConfig::default();
                crate::metrics::MetricsConfig {
                    namespace: var("METRICS_NAMESPACE").unwrap_or(default.namespace),
                    service: var("SERVICE_NAME").unwrap_or(default.service),
                    sink: default.sink,
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source of variables holding exactly `vars`.
    fn table<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    pub fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(table(vars))
    }

    #[test]
    fn missing_or_malformed_settings_are_refused() {
        let missing = from(&[]).unwrap_err();
        assert!(missing.0.contains("TABLE_NAME"), "{missing}");
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-AbCdEf";
        let base = [("TABLE_NAME", "t")];
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
        assert_eq!(
            config.tokens.signing_secret, None,
            "a function that only verifies"
        );
        let issuing = from(&[base[0], ("TOKEN_SIGNING_SECRET_ARN", arn)]).unwrap();
        assert_eq!(issuing.tokens.signing_secret.as_deref(), Some(arn));
    }

    fn aws(vars: &[(&str, &str)]) -> Result<AwsSettings, ConfigError> {
        AwsSettings::from_vars(table(vars))
    }

    #[test]
    fn aws_settings_are_read_as_the_sdks_read_them() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = keys.to_vec();
            vars.extend_from_slice(extra);
            aws(&vars)
        };
        let missing = with(&[]).unwrap_err();
        assert!(missing.0.contains("AWS_REGION"), "{missing}");
        let lambda = with(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ])
        .unwrap();
        assert_eq!(lambda.region, "eu-west-1", "AWS_REGION first");
        assert_eq!(lambda.endpoint, None, "AWS itself");
        assert!(
            !format!("{lambda:?}").contains("s3cr3t"),
            "secrets never print"
        );
        let region = ("AWS_DEFAULT_REGION", "us-east-1");
        assert_eq!(with(&[region]).unwrap().region, "us-east-1");
        let general = ("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
        let dynamodb = ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2");
        let endpoint = |extra: &[_]| with(&[&[region], extra].concat()).unwrap().endpoint;
        assert_eq!(endpoint(&[general]).as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(
            endpoint(&[general, dynamodb]).as_deref(),
            Some("http://127.0.0.1:2")
        );
        let ignore = ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assert_eq!(endpoint(&[general, dynamodb, ignore]), None);
        let secrets = ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:3");
        let both = with(&[region, general, dynamodb, secrets]).unwrap();
        assert_eq!(both.secrets_endpoint.as_deref(), Some("http://127.0.0.1:3"));
        assert_eq!(both.mail_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(
            with(&[region, secrets, ignore]).unwrap().secrets_endpoint,
            None
        );
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = [keys[0], keys[1], region]
                .into_iter()
                .filter(|(name, _)| *name != key)
                .collect();
            let refused = aws(&vars).unwrap_err();
            assert!(refused.0.contains(key), "{refused}");
        }
    }

    #[test]
    fn origins_match_exactly_or_by_any_port_and_never_by_wildcard() {
        let origins = Origins::parse("http://localhost:*, https://app.example.com").unwrap();
        for allowed in [
            "http://localhost:5173",
            "http://LOCALHOST:8080",
            "http://localhost:65535",
            "http://localhost:1",
            "https://app.example.com",
        ] {
            assert!(origins.allows(allowed), "{allowed}");
        }
        for refused in [
            "http://localhost",
            "http://localhost:",
            "http://localhost:123456",
            "http://localhost:00000",
            "http://localhost:05173",
            "http://localhost:0",
            "http://localhost:65536",
            "http://localhost:80",
            "http://localhost:+80",
            "http://localhost.evil.example:80",
            "https://localhost:5173",
            "https://app.example.com:443",
            "https://app.example.com.evil.example",
            "null",
        ] {
            assert!(!origins.allows(refused), "{refused}");
        }
        for bad in [
            "*",
            "https://*.example.com",
            "localhost:3000",
            "https://a.example/path",
        ] {
            assert!(Origins::parse(bad).is_err(), "{bad}");
        }
        assert!(Origins::parse("").unwrap().is_empty());
    }
}

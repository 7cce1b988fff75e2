//! What a function builds once, at cold start, and reuses for every request.

use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::Credentials;

use crate::auth::Tokens;
use crate::config::{AwsSettings, Config, ConfigError, Origins, TokenConfig};
use crate::domain::AppUrl;
use crate::metrics::MetricsConfig;
use crate::secrets::KeyRead;
use crate::store::Store;

pub struct App {
    pub store: Store,
    pub tokens: Tokens,
    pub metrics: MetricsConfig,
    /// The browser origins CORS allows (`ALLOWED_ORIGINS`).
    pub origins: Origins,
    /// Where links in mail go (`APP_URL`).
    pub app_url: AppUrl,
}

/// Reads the signing key from the secret named by ARN, through the function's AWS settings
/// (`crate::secrets::read_signing_key`, in the issuing functions' tables alone).
pub type ReadSigningKey = fn(&AwsSettings, &str) -> KeyRead<'static>;

/// What a function does with access tokens, which decides what its cold start reads.
#[derive(Clone, Copy)]
pub enum TokenUse {
    /// None (the table-stream function): nothing is read.
    None,
    /// Verifies them: reads the published public keys.
    Verify,
    /// Also issues them: reads the signing secret with this as well, and publishes its
    /// public key.
    Issue(ReadSigningKey),
}

impl App {
    /// Reads the configuration (see [`Config`]) and the standard AWS settings (see
    /// [`AwsSettings`]), then the token keys `tokens` asks for ([`start_tokens`]). Fails, and
    /// so the function refuses to start, when any is missing or unusable.
    pub async fn from_env(tokens: TokenUse) -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let aws = AwsSettings::from_env()?;
        let signing = match (tokens, &config.tokens.signing_secret) {
            (TokenUse::Issue(read), Some(id)) => Some(read(&aws, id)),
            (TokenUse::Issue(_), None) => {
                return Err(ConfigError(
                    "TOKEN_SIGNING_SECRET_ARN must be set: this function issues tokens".into(),
                ))
            }
            _ => None,
        };
        let client = aws_sdk_dynamodb::Client::from_conf(dynamodb_config(sdk_config(aws)).build());
        let store = Store::new(client, config.table);
        let tokens = match tokens {
            TokenUse::None => Tokens::new(&config.tokens, None),
            _ => start_tokens(&config.tokens, &store, signing).await?,
        };
        let app = Self::new(store, tokens);
        Ok(Self {
            metrics: config.metrics,
            app_url: config.app_url,
            ..app.allowing(config.origins)
        })
    }

    /// No browser origin allowed: what a function is without `ALLOWED_ORIGINS`.
    pub fn new(store: Store, tokens: Tokens) -> Self {
        Self {
            store,
            tokens,
            metrics: MetricsConfig::default(),
            origins: Origins::default(),
            app_url: AppUrl::default(),
        }
    }

    pub fn allowing(self, origins: Origins) -> Self {
        Self { origins, ..self }
    }

    /// Reads the published token keys again (one `Query`) and verifies with them from `now`
    /// on. When they cannot be read, the keys known so far stay, and it says so in the log.
    pub async fn read_token_keys(&self, now: std::time::Instant) {
        match self.store.signing_keys().await {
            Ok(keys) => self.tokens.learn(&keys, now),
            Err(error) => {
                tracing::warn!(error = %error.report(), "token keys not read; keeping those known");
            }
        }
    }
}

/// Cold start's token keys: the signing key from `signing` (in a function that issues tokens,
/// the secret's read), at the same time as the published public keys, whose `Query` is also
/// what opens the connection to DynamoDB. An issuing function then publishes its own key if
/// it is not listed yet, and refuses to start when it cannot read its secret or publish its
/// key (tokens it issued would not verify elsewhere); a function that only verifies starts
/// without the keys when they cannot be read, and reads them at its first request.
pub async fn start_tokens(
    config: &TokenConfig,
    store: &Store,
    signing: Option<KeyRead<'_>>,
) -> Result<Tokens, ConfigError> {
    let signing = async {
        match signing {
            Some(read) => read.await.map(Some),
            None => Ok(None),
        }
    };
    let (signing, published) = tokio::join!(signing, store.signing_keys());
    let tokens = Tokens::new(config, signing?);
    let listed = match published {
        Ok(keys) => {
            tokens.learn(&keys, std::time::Instant::now());
            tokens.signing_key().is_some_and(|own| keys.contains(own))
        }
        Err(error) => {
            tracing::warn!(error = %error.report(), "token keys not read; reading them at the first request");
            false
        }
    };
    if let Some(own) = tokens.signing_key().filter(|_| !listed) {
        store.publish_signing_key(own).await.map_err(|e| {
            ConfigError(format!("publishing the token signing key: {}", e.report()))
        })?;
        tracing::info!(kid = own.id(), "token signing key published");
    }
    Ok(tokens)
}

/// The HTTP client every AWS call goes through: rustls on ring, the system's root
/// certificates. Built here rather than by the SDK so that one TLS stack is in the binary.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// What every AWS client here (DynamoDB, Secrets Manager, SES) starts from: the standard
/// behaviour of this SDK version (retries, 3 attempts), the function's region and its role's
/// credentials, the shared HTTPS client. `$builder` is the service's config builder type;
/// each client adds its own endpoint and timeouts. A macro over each service's own builder,
/// not an `aws_types::SdkConfig` converted into each: that conversion added 20–40 KB to
/// every bootstrap (`make bootstraps`, 3 December).
macro_rules! client_config {
    ($builder:ty, $aws:expr) => {
        <$builder>::new()
            .behavior_version(::aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(::aws_sdk_dynamodb::config::Region::new($aws.region.clone()))
            .credentials_provider($crate::app::credentials($aws))
            .http_client($crate::app::https_client())
    };
}
pub(crate) use client_config;

/// The DynamoDB client's settings from the function's AWS settings ([`client_config`]).
fn sdk_config(aws: AwsSettings) -> aws_sdk_dynamodb::config::Builder {
    let mut config = client_config!(aws_sdk_dynamodb::config::Builder, &aws);
    config.set_endpoint_url(aws.endpoint);
    config
}

/// The execution role's credentials, as the Lambda service gives them (read once).
pub fn credentials(aws: &AwsSettings) -> Credentials {
    Credentials::new(
        &aws.access_key_id,
        &aws.secret_access_key,
        aws.session_token.clone(),
        None,
        "environment",
    )
}

/// What every DynamoDB client here adds to `config`: the capacity meter, and timeouts sized
/// for an API behind API Gateway (29 s limit) on Lambda: a stalled connection fails fast and
/// the SDK's standard retries (3 attempts) get to try again.
pub fn dynamodb_config(
    config: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    config
        .interceptor(crate::store::CapacityMeter)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
}

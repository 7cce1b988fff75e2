//! What a function builds once, at cold start, and reuses for every request.

use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use crate::auth::Tokens;
use crate::config::{AwsSettings, Config, ConfigError, Origins};
use crate::domain::AppUrl;
use crate::metrics::MetricsConfig;
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

impl App {
    /// Reads the configuration (see [`Config`]) and the standard AWS settings (see
    /// [`AwsSettings`]). Fails, and so the function refuses to start, when any is missing or
    /// unusable.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let tokens = Tokens::new(&config.tokens)?;
        let aws = AwsSettings::from_env()?;
        let client = aws_sdk_dynamodb::Client::from_conf(dynamodb_config(sdk_config(aws)).build());
        let app = Self::new(Store::new(client, config.table), tokens);
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
}

/// The HTTP client every AWS call goes through: rustls on ring, the system's root
/// certificates. Built here rather than by the SDK so that one TLS stack is in the binary.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The DynamoDB client's settings from the function's AWS settings: the standard behaviour
/// of this SDK version (retries, 3 attempts), the shared HTTPS client.
fn sdk_config(aws: AwsSettings) -> aws_sdk_dynamodb::config::Builder {
    let credentials = credentials(&aws);
    let mut config = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(aws.region))
        .credentials_provider(credentials)
        .http_client(https_client());
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

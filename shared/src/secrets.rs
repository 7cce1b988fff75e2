//! Secrets Manager: where the key that signs access tokens comes from. Only the functions
//! that issue tokens (`Function::issues_tokens`) build this, at cold start, beside their first
//! DynamoDB read (`crate::app`); their IAM role may read this one secret and no other, and
//! their environment holds its ARN, never its value. Locally it is `make run`'s local Secrets
//! Manager (`AWS_ENDPOINT_URL_SECRETS_MANAGER`), reached by this same call.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::auth::SigningKey;
use crate::config::{AwsSettings, ConfigError};

/// A read of the signing key, under way.
pub type KeyRead<'a> = Pin<Box<dyn Future<Output = Result<SigningKey, ConfigError>> + Send + 'a>>;

/// Reads the signing key from the secret `id` through the function's AWS settings: what the
/// issuing functions' tables point to (`Handlers::read_signing_key`). Only through that
/// pointer is this module reached, so the functions that only verify link no Secrets
/// Manager client.
pub fn read_signing_key(aws: &AwsSettings, id: &str) -> KeyRead<'static> {
    let secret = SigningSecret::new(aws, id.to_owned());
    Box::pin(async move { secret.read().await })
}

/// The secret the signing key is derived from: its current version's string.
pub struct SigningSecret {
    client: aws_sdk_secretsmanager::Client,
    id: String,
}

impl SigningSecret {
    /// The secret `id` (an ARN or a name), through the function's AWS settings.
    pub fn new(aws: &AwsSettings, id: String) -> Self {
        Self {
            client: client(aws),
            id,
        }
    }

    /// The secret `id` at a Secrets Manager at `endpoint`, with any credentials: for tests
    /// and tools.
    pub fn at(endpoint: &str, id: &str) -> Self {
        let aws = AwsSettings {
            secrets_endpoint: Some(endpoint.to_owned()),
            ..AwsSettings::local()
        };
        Self::new(&aws, id.to_owned())
    }

    /// [`SigningSecret::read`], boxed, for [`crate::app::start_tokens`].
    pub fn reading(&self) -> KeyRead<'_> {
        Box::pin(self.read())
    }

    /// The signing key, from the secret's current version: one `GetSecretValue`. The error
    /// names the secret and why it was not read, never a value.
    pub async fn read(&self) -> Result<SigningKey, ConfigError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .send()
            .await
            .map_err(|e| {
                ConfigError(format!(
                    "reading the token signing secret {}: {}",
                    self.id,
                    DisplayErrorContext(&e)
                ))
            })?;
        let secret = output.secret_string().ok_or_else(|| {
            ConfigError(format!(
                "the token signing secret {} holds no text (SecretString)",
                self.id
            ))
        })?;
        SigningKey::from_secret(secret)
    }
}

/// Secrets Manager's client: what every client starts from (`app::client_config`), and
/// timeouts that let a cold start fail within Lambda's 10 s of init rather than hang.
fn client(aws: &AwsSettings) -> aws_sdk_secretsmanager::Client {
    let mut config = crate::app::client_config!(aws_sdk_secretsmanager::config::Builder, aws)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        );
    config.set_endpoint_url(aws.secrets_endpoint.clone());
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

//! SES (API v2): the one place mail leaves the service, built only by the table-stream
//! function (`crate::stream`), which sends the outbox (`store::outbox`). No HTTP function
//! references it, so no other bootstrap links the SES client.
//!
//! `MAIL_FROM` is the sender, an address of the SES identity the function may send as
//! (`template.yaml`: `ses:SendEmail` on that identity alone). Locally SES is `make run`'s
//! mailbox (`AWS_ENDPOINT_URL_SESV2`), reached by this same call.

use std::time::Duration;

use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::config::{AwsSettings, ConfigError};
use crate::domain::{Email, Mail};
use crate::store::MailOutcome;

/// Sends mail as one sender.
pub struct Mailer {
    client: aws_sdk_sesv2::Client,
    from: Email,
}

/// Why a message was not sent, when trying again later may send it: SES unreachable,
/// throttling, or the account unable to send (suspended, paused, the sender not verified),
/// which an operator fixes. The batch is retried, then ends in the failure queue.
#[derive(Debug, thiserror::Error)]
#[error("SES did not take the message: {0}")]
pub struct MailError(String);

impl Mailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: Email) -> Self {
        Self { client, from }
    }

    /// From the function's AWS settings and `MAIL_FROM`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let aws = AwsSettings::from_env()?;
        let from = std::env::var("MAIL_FROM").unwrap_or_default();
        let from = Email::parse(&from)
            .map_err(|e| ConfigError(format!("MAIL_FROM {e} (the sender of every mail)")))?;
        Ok(Self::new(client(&aws), from))
    }

    /// Sends `mail`: `Sent` with SES's message id, or `Refused` when SES refuses this
    /// message for good (its address or content), which sending again would not change.
    pub async fn send(&self, mail: &Mail) -> Result<MailOutcome, MailError> {
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| MailError(e.to_string()))
        };
        let message = Message::builder()
            .subject(text(&mail.subject)?)
            .body(Body::builder().text(text(&mail.text)?).build())
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(self.from.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(output) => Ok(MailOutcome::Sent(
                output.message_id.unwrap_or_else(|| "(none)".into()),
            )),
            Err(e) => match refusal(&e) {
                Some(reason) => Ok(MailOutcome::Refused(reason)),
                None => Err(MailError(DisplayErrorContext(&e).to_string())),
            },
        }
    }
}

/// The reason SES gives when it refuses the message itself, for good.
fn refusal(
    error: &SdkError<SendEmailError, aws_sdk_sesv2::config::http::HttpResponse>,
) -> Option<String> {
    let reason = |m: Option<&str>| m.unwrap_or("no reason given").to_owned();
    match error.as_service_error()? {
        SendEmailError::MessageRejected(e) => {
            Some(format!("MessageRejected: {}", reason(e.message())))
        }
        SendEmailError::BadRequestException(e) => {
            Some(format!("BadRequest: {}", reason(e.message())))
        }
        _ => None,
    }
}

/// The SES client: what every client starts from (`app::client_config`), timeouts that fail a
/// stalled call within the function's run.
fn client(aws: &AwsSettings) -> aws_sdk_sesv2::Client {
    let mut config = crate::app::client_config!(aws_sdk_sesv2::config::Builder, aws)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        );
    config.set_endpoint_url(aws.mail_endpoint.clone());
    aws_sdk_sesv2::Client::from_conf(config.build())
}

/// A client for tests and tools: SES at `endpoint`, any credentials.
pub fn client_at(endpoint: &str) -> aws_sdk_sesv2::Client {
    client(&AwsSettings {
        mail_endpoint: Some(endpoint.to_owned()),
        ..AwsSettings::local()
    })
}

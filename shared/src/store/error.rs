//! What can go wrong talking to DynamoDB, sorted by what the caller should do about it. Each
//! error keeps its cause, so that the one place that answers 500 or 503 can log all of it.

use std::error::Error;
use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// The cause of a store error: an SDK error, a (de)serialization error, or a message.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or is shedding load, after the SDK's own retries.
    #[error("DynamoDB is unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a misconfiguration (a missing table, say).
    #[error("DynamoDB error: {what}")]
    Internal {
        what: String,
        #[source]
        source: Option<Cause>,
    },
}

/// Service error codes that mean "try later", not "you did it wrong". A single-item write
/// to an item that a transaction has in flight is refused with `TransactionConflictException`
/// (DynamoDB's conflict rule): that too passes.
const TRANSIENT_CODES: [&str; 7] = [
    "TransactionConflictException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

impl StoreError {
    /// A condition of ours that should never hold did: a bug.
    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal {
            what: what.into(),
            source: None,
        }
    }

    /// Like [`StoreError::internal`], with the error that showed it.
    pub fn caused(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Self::Internal {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// The error and every cause under it, on one line: what a log needs.
    pub fn report(&self) -> String {
        report(self)
    }
}

/// An error and its chain of sources, joined with ": ".
pub fn report(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        // The SDK repeats a cause's text in its own; say each once.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

/// `?` on any SDK call: transport failures and throttling are `Unavailable`, the rest
/// `Internal`, each with the SDK's error as its source.
impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn from(error: SdkError<E, R>) -> Self {
        let transient = match &error {
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
            _ => false,
        };
        if transient {
            Self::Unavailable(Box::new(error))
        } else {
            let what = error.code().unwrap_or("the request failed").to_owned();
            Self::caused(what, error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_every_cause_once() {
        let io = std::io::Error::other("connection reset");
        let error = StoreError::caused("unreadable CUSTOMER item", io);
        assert_eq!(
            error.report(),
            "DynamoDB error: unreadable CUSTOMER item: connection reset"
        );
        assert!(error.source().is_some(), "the cause is kept");
    }
}

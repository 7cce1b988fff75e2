//! What can go wrong talking to DynamoDB, sorted by what the caller should do about it.

use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug)]
pub enum StoreError {
    /// DynamoDB could not be reached or is shedding load, after the SDK's own retries.
    Unavailable(String),
    /// Anything else: a bug or a misconfiguration (a missing table, say).
    Internal(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(m) => write!(f, "DynamoDB unavailable: {m}"),
            Self::Internal(m) => write!(f, "DynamoDB error: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Service error codes that mean "try later", not "you did it wrong".
const TRANSIENT_CODES: [&str; 6] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

impl StoreError {
    pub fn from_sdk<E, R>(error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let message = aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string();
        match error {
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => Self::Unavailable(message),
            SdkError::ServiceError(service)
                if service
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code)) =>
            {
                Self::Unavailable(message)
            }
            _ => Self::Internal(message),
        }
    }
}

//! Points in time as records and expiries keep them.

use serde::{Deserialize, Serialize};

/// RFC 3339, UTC, millisecond precision: sorts as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn now() -> Self {
        Self(humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Now, in Unix seconds: what expiries (`exp`, `expires_at`) are counted in.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Now, in Unix milliseconds: what session start times are compared in.
pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

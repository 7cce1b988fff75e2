//! Points in time as records and expiries keep them, and the clock they are read from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Where "now" comes from: the system's clock, or one a test holds still and moves by hand.
/// Built once (on `Store`, so `App` and every write path share it) and passed down as a
/// [`Now`]: plans and decisions take the time as an input, never read it themselves.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `at` until it is moved: for tests whose outcome depends on
    /// the time. Clones share it.
    pub fn frozen(at: Now) -> Self {
        Self(Some(Arc::new(AtomicU64::new(at.unix_ms))))
    }

    pub fn now(&self) -> Now {
        match &self.0 {
            Some(frozen) => Now {
                unix_ms: frozen.load(Ordering::SeqCst),
            },
            None => Now::system(),
        }
    }

    /// Moves a frozen clock on by `by`; the system's is not ours to move.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        if let Some(frozen) = &self.0 {
            frozen.fetch_add(by, Ordering::SeqCst);
        }
    }
}

/// One reading of a [`Clock`], in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now {
    pub unix_ms: u64,
}

impl Now {
    fn system() -> Self {
        Self {
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// Unix seconds: what expiries (`exp`, `expires_at`) are counted in.
    pub fn unix(self) -> u64 {
        self.unix_ms / 1000
    }

    /// As records keep it.
    pub fn timestamp(self) -> Timestamp {
        let at = UNIX_EPOCH + Duration::from_millis(self.unix_ms);
        Timestamp(humantime::format_rfc3339_millis(at).to_string())
    }
}

/// RFC 3339, UTC, millisecond precision: sorts as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// The system's now: for code that has no clock (tests, tools). Requests take theirs
    /// from the store's [`Clock`].
    pub fn now() -> Self {
        Now::system().timestamp()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The system's now, in Unix seconds.
pub fn unix_now() -> u64 {
    Now::system().unix()
}

/// The system's now, in Unix milliseconds.
pub fn unix_now_ms() -> u64 {
    Now::system().unix_ms
}

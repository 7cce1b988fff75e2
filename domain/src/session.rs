//! What a user logs in with, and how repeated failures slow guessing down.

use serde::{Deserialize, Serialize};

use super::{Email, Username};

/// Log-in is by username or by email, both case-insensitive.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(Username),
    Email(Email),
}

/// Failures that are free before attempts are refused.
pub const FREE_FAILURES: u32 = 5;
/// A failure is forgotten this long after the last one.
pub const FAILURE_WINDOW_SECONDS: u64 = 15 * 60;
/// The first refusal lasts this long; each further failure doubles it.
const FIRST_DELAY_SECONDS: u64 = 60;
/// No refusal lasts longer, so a stranger can never lock a user out for good.
const MAX_DELAY_SECONDS: u64 = 15 * 60;

/// The recent failed log-ins of one account (or of one unknown name: an unknown name is
/// throttled exactly like a known one, so a refusal reveals nothing). Attempts are counted
/// when they are taken, before the password is checked, and given back on success.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailures {
    pub count: u32,
    /// Unix seconds.
    pub last_at: u64,
    /// When the next attempt may be taken, once the free ones are used (Unix seconds).
    #[serde(default)]
    pub open_at: u64,
}

impl LoginFailures {
    /// The failures that still count at `now`.
    pub fn current(&self, now: u64) -> u32 {
        if now >= self.last_at.saturating_add(FAILURE_WINDOW_SECONDS) {
            0
        } else {
            self.count
        }
    }

    /// Seconds until the next attempt may be made, when attempts are refused now.
    pub fn refused_for(&self, now: u64) -> Option<u64> {
        if self.current(now) < FREE_FAILURES {
            return None;
        }
        // Past the free ones with no opening set yet: attempts are in flight; wait as for
        // the failure they will most likely be.
        let open_at = match self.open_at {
            0 => self.last_at + delay_after(self.count),
            at => at,
        };
        (now < open_at).then(|| open_at - now)
    }
}

/// How long attempts wait after the `count`-th failure in a window: nothing for the first
/// four; after five, 60 s, doubling per further failure, at most 15 min.
pub fn delay_after(count: u32) -> u64 {
    if count < FREE_FAILURES {
        return 0;
    }
    let doublings = (count - FREE_FAILURES).min(16);
    (FIRST_DELAY_SECONDS << doublings).min(MAX_DELAY_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(count: u32) -> LoginFailures {
        LoginFailures {
            count,
            last_at: 1_000_000,
            open_at: 1_000_000 + delay_after(count),
        }
    }

    #[test]
    fn five_failures_are_free_then_the_wait_doubles_up_to_fifteen_minutes() {
        let t = 1_000_000;
        assert_eq!(after(4).refused_for(t), None);
        assert_eq!(after(5).refused_for(t), Some(60));
        assert_eq!(after(6).refused_for(t), Some(120));
        assert_eq!(after(7).refused_for(t + 40), Some(200));
        assert_eq!(after(9).refused_for(t), Some(900));
        assert_eq!(after(40).refused_for(t), Some(900), "capped");
        assert_eq!(after(5).refused_for(t + 60), None, "the wait ends");
    }

    #[test]
    fn failures_are_forgotten_after_the_window_so_no_lock_out_is_permanent() {
        let t = 1_000_000 + FAILURE_WINDOW_SECONDS;
        assert_eq!(after(100).current(t), 0);
        assert_eq!(after(100).refused_for(t), None);
        assert_eq!(after(3).current(t - 1), 3);
    }
}

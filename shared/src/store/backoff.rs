//! Pauses between attempts when another transaction held one of our items.
//!
//! DynamoDB cancels a transaction that names an item another transaction has in flight
//! (`TransactionConflict`), and its SDKs do not retry that. The use cases do, after a pause
//! here; most first look at what the other transaction did (reads never conflict), so that
//! losers of a race learn the outcome instead of racing again.

use std::time::Duration;

/// How often a use case sends its transaction when other transactions hold its items.
pub const MAX_ATTEMPTS: u32 = 4;
const BASE: Duration = Duration::from_millis(25);
const CAP: Duration = Duration::from_millis(400);

/// One request's attempts: the first is free, each later one waits first.
#[derive(Debug, Default)]
pub struct Backoff {
    waited: u32,
}

impl Backoff {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits before the next attempt, or answers `false` when every attempt is used.
    pub async fn wait(&mut self) -> bool {
        if self.waited + 1 >= MAX_ATTEMPTS {
            return false;
        }
        let pause = pause(self.waited);
        self.waited += 1;
        tracing::info!(
            attempt = self.waited,
            ?pause,
            "transaction conflict; trying again"
        );
        tokio::time::sleep(pause).await;
        true
    }
}

/// "Full jitter": a random pause up to an exponentially growing ceiling, so that clients
/// that collided once do not collide again in lockstep.
fn pause(retry: u32) -> Duration {
    let mut bytes = [0u8; 4];
    let fraction = match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    ceiling(retry).mul_f64(fraction)
}

fn ceiling(retry: u32) -> Duration {
    BASE.saturating_mul(1 << retry.min(8)).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_under_their_ceiling() {
        for retry in 0..20 {
            assert!(pause(retry) <= ceiling(retry));
        }
        assert_eq!(ceiling(20), CAP);
    }

    #[tokio::test]
    async fn a_request_gets_max_attempts_in_all() {
        tokio::time::pause();
        let mut backoff = Backoff::new();
        let mut attempts = 1;
        while backoff.wait().await {
            attempts += 1;
        }
        assert_eq!(attempts, MAX_ATTEMPTS);
    }
}

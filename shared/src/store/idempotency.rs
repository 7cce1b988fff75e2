//! Idempotency records: the first answer to a request with an `Idempotency-Key`, written in
//! the same transaction as the request's effect, so the first execution costs no extra call
//! and a retry is answered from the cancellation that the record's condition causes.

use crate::domain::{Idempotency, IDEMPOTENCY_SECONDS};

use super::items::{bare_item, field, number, string, Entity, EXPIRES_AT};
use super::keys::Key;
use super::transaction::Item;
use super::StoreError;

const FINGERPRINT: &str = "fingerprint";
const STATUS: &str = "status";
const ANSWER: &str = "answer";
/// What reading a record back needs.
pub const RECORD_ATTRIBUTES: [&str; 4] = [FINGERPRINT, STATUS, ANSWER, EXPIRES_AT];

/// A first answer, as kept for replays: never a token or a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// JSON.
    pub body: String,
}

/// What a live record means for a request that carries its key.
#[derive(Debug)]
pub enum Recorded {
    /// The same request: answer as the first time.
    Replay(StoredAnswer),
    /// The key was used for another request.
    KeyReused,
}

/// The record of `answer`, kept for 24 hours from `now`.
pub fn record_item(record: &Idempotency, answer: &StoredAnswer, now: u64) -> Item {
    let mut item = bare_item(Entity::Idempotency, &Key::idempotency(record));
    item.extend([
        (FINGERPRINT.to_owned(), string(&record.fingerprint)),
        (STATUS.to_owned(), number(u64::from(answer.status))),
        (ANSWER.to_owned(), string(&answer.body)),
        (EXPIRES_AT.to_owned(), number(now + IDEMPOTENCY_SECONDS)),
    ]);
    item
}

/// What a record item found for `record` means at `now`; `None` when it has expired (TTL
/// removes records late, so expiry is checked here too).
pub fn recorded(
    item: &Item,
    record: &Idempotency,
    now: u64,
) -> Result<Option<Recorded>, StoreError> {
    let expires: u64 = field(item, EXPIRES_AT)?;
    if expires <= now {
        return Ok(None);
    }
    let fingerprint: String = field(item, FINGERPRINT)?;
    if fingerprint != record.fingerprint {
        return Ok(Some(Recorded::KeyReused));
    }
    Ok(Some(Recorded::Replay(StoredAnswer {
        status: field(item, STATUS)?,
        body: field(item, ANSWER)?,
    })))
}

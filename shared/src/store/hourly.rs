//! A count of requests in the current hour, kept in one item: what limits how often a mail
//! may be asked for (password resets, per email; verification mails, per user).

use serde::{Deserialize, Serialize};

use super::items::{item, number, record, Entity};
use super::keys::Key;
use super::transaction::{Condition, Item};
use super::{Found, StoreError};

/// Requests acted on in an hour; more are answered alike and do nothing.
pub const MAX_PER_HOUR: u32 = 3;
const WINDOW_SECONDS: u64 = 3600;

#[derive(Debug, Serialize, Deserialize)]
struct Hourly {
    count: u32,
    window_start: u64,
    expires_at: u64,
}

/// The counter at `key` (among `found`) with one more request at `now`, and the condition
/// that it is still as read (so concurrent requests count one by one); `None` when the
/// hour's requests are used up. Pure.
pub fn count_one(
    found: &Found,
    key: &Key,
    entity: Entity,
    now: u64,
) -> Result<Option<(Item, Condition)>, StoreError> {
    let read: Option<Hourly> = found.at(key).map(record).transpose()?;
    let (count, window_start) = match &read {
        Some(r) if now < r.window_start + WINDOW_SECONDS => (r.count, r.window_start),
        _ => (0, now),
    };
    if count >= MAX_PER_HOUR {
        return Ok(None);
    }
    let counted = Hourly {
        count: count + 1,
        window_start,
        expires_at: window_start + WINDOW_SECONDS,
    };
    let as_read = match &read {
        None => Condition::item_absent(),
        Some(r) => Condition::equals("count", number(r.count.into()))
            .and(Condition::equals("window_start", number(r.window_start))),
    };
    Ok(Some((item(entity, key, &counted), as_read)))
}

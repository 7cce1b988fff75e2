//! One `TransactWriteItems` call, with each action tagged by the role it plays so that a
//! cancellation can be read back as "the username was taken", not "action 2 failed".

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};

use super::keys::Key;
use super::{Store, StoreError};

pub type Item = HashMap<String, AttributeValue>;

/// How often a transaction is sent when other transactions hold its items.
pub const MAX_ATTEMPTS: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(25);
const BACKOFF_CAP: Duration = Duration::from_millis(400);

const MUST_NOT_EXIST: &str = "attribute_not_exists(pk)";
const MUST_EXIST: &str = "attribute_exists(pk)";

pub struct Transaction<R> {
    table: String,
    actions: Vec<(R, TransactWriteItem)>,
}

/// The conditions that failed, each with the item that made it fail when DynamoDB sent it.
#[derive(Debug)]
pub struct Rejection<R> {
    failed: Vec<(R, Option<Item>)>,
}

impl<R: PartialEq> Rejection<R> {
    pub fn failed(&self, role: R) -> bool {
        self.failed.iter().any(|(r, _)| *r == role)
    }

    pub fn only(&self, role: R) -> bool {
        self.failed.iter().all(|(r, _)| *r == role)
    }

    /// The item that stood where `role` wanted to write.
    pub fn existing(&self, role: R) -> Option<&Item> {
        self.failed
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, item)| item.as_ref())
    }
}

#[derive(Debug)]
pub enum CommitError<R> {
    /// A condition failed; nothing was written.
    Rejected(Rejection<R>),
    /// Other transactions kept holding the items through every attempt; nothing was written.
    Contended,
    Store(StoreError),
}

impl<R: Copy + PartialEq> Transaction<R> {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_owned(),
            actions: Vec::new(),
        }
    }

    /// Writes `item`, which must not exist yet.
    pub fn create(&mut self, role: R, item: Item) -> &mut Self {
        self.put(role, item, ReturnValuesOnConditionCheckFailure::None)
    }

    /// Like [`Transaction::create`], and when the item exists DynamoDB returns it in the
    /// cancellation reasons: an answer without a second read.
    pub fn create_or_return_existing(&mut self, role: R, item: Item) -> &mut Self {
        self.put(role, item, ReturnValuesOnConditionCheckFailure::AllOld)
    }

    fn put(
        &mut self,
        role: R,
        item: Item,
        returning: ReturnValuesOnConditionCheckFailure,
    ) -> &mut Self {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(MUST_NOT_EXIST)
            .return_values_on_condition_check_failure(returning)
            .build()
            .expect("table and item are set");
        self.push(role, TransactWriteItem::builder().put(put).build())
    }

    /// Writes nothing, but fails the transaction unless `key` exists.
    pub fn require(&mut self, role: R, key: &Key) -> &mut Self {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression(MUST_EXIST)
            .build()
            .expect("table, key and condition are set");
        self.push(
            role,
            TransactWriteItem::builder().condition_check(check).build(),
        )
    }

    /// An update expression on `key`; `names` and `values` are its placeholders.
    pub fn update(
        &mut self,
        role: R,
        key: &Key,
        expression: &str,
        names: HashMap<String, String>,
        values: Item,
    ) -> &mut Self {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .update_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("table, key and expression are set");
        self.push(role, TransactWriteItem::builder().update(update).build())
    }

    fn push(&mut self, role: R, action: TransactWriteItem) -> &mut Self {
        self.actions.push((role, action));
        self
    }

    /// Sends the transaction: one call, or a few when DynamoDB reports `TransactionConflict`
    /// (another transaction held an item), with jittered exponential backoff between them.
    pub async fn commit(self, store: &Store) -> Result<(), CommitError<R>> {
        let (roles, actions): (Vec<R>, Vec<TransactWriteItem>) = self.actions.into_iter().unzip();
        for attempt in 0..MAX_ATTEMPTS {
            let sent = store
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            let outcome = match sent {
                Ok(_) => return Ok(()),
                Err(error) => classify(&roles, error),
            };
            match outcome {
                CommitError::Contended if attempt + 1 < MAX_ATTEMPTS => {
                    tracing::info!(attempt, "transaction conflict; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                other => return Err(other),
            }
        }
        Err(CommitError::Contended)
    }
}

fn classify<R: Copy>(roles: &[R], error: SdkError<TransactWriteItemsError>) -> CommitError<R> {
    match &error {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let reasons = cancelled.cancellation_reasons();
                // A conflict means another transaction was mid-flight on one of our items:
                // whatever else failed may be stale, so the whole attempt is retried.
                if reasons
                    .iter()
                    .any(|r| r.code() == Some("TransactionConflict"))
                {
                    return CommitError::Contended;
                }
                let failed: Vec<(R, Option<Item>)> = reasons
                    .iter()
                    .zip(roles)
                    .filter(|(reason, _)| reason.code() == Some("ConditionalCheckFailed"))
                    .map(|(reason, role)| (*role, reason.item().cloned()))
                    .collect();
                if failed.is_empty() {
                    CommitError::Store(StoreError::from_sdk(&error))
                } else {
                    CommitError::Rejected(Rejection { failed })
                }
            }
            TransactWriteItemsError::TransactionInProgressException(_) => CommitError::Contended,
            _ => CommitError::Store(StoreError::from_sdk(&error)),
        },
        _ => CommitError::Store(StoreError::from_sdk(&error)),
    }
}

/// "Full jitter": a random pause up to an exponentially growing ceiling, so that clients
/// that collided once do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(8))
        .min(BACKOFF_CAP);
    let mut bytes = [0u8; 4];
    let fraction = match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 0..20 {
            let ceiling = BACKOFF_BASE
                .saturating_mul(1 << attempt.min(8))
                .min(BACKOFF_CAP);
            assert!(backoff(attempt) <= ceiling);
        }
    }
}

//! One `TransactWriteItems` call, with each action tagged by the role it plays so that a
//! cancellation can be read back as "the username was taken", not "action 2 failed".

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem,
};

use super::expression::Placeholders;
pub use super::expression::{Compare, Condition, Operand, Path, Update};
use super::keys::Key;
use super::{Store, StoreError};

pub type Item = HashMap<String, AttributeValue>;

pub struct Transaction<R> {
    table: String,
    actions: Vec<(Tag<R>, TransactWriteItem)>,
}

/// What an action is for: one of the use case's roles, or keeping the request's first
/// answer under its `Idempotency-Key` (which every write path has alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag<R> {
    Role(R),
    KeptAnswer,
}

/// The conditions that failed, each with the item that made it fail when DynamoDB sent it.
#[derive(Debug)]
pub struct Rejection<R> {
    failed: Vec<(R, Option<Item>)>,
    /// The idempotency record that stood where this request's wanted to go.
    kept_answer: Option<Item>,
}

impl<R: Copy + PartialEq> Rejection<R> {
    /// A rejection in which `failed` roles' conditions failed: what DynamoDB's cancellation
    /// reasons say, and what the pure decisions are tested with.
    pub fn of(failed: Vec<(R, Option<Item>)>) -> Self {
        Self {
            failed,
            kept_answer: None,
        }
    }

    pub fn failed(&self, role: R) -> bool {
        self.failed.iter().any(|(r, _)| *r == role)
    }

    /// Whether `role`'s condition failed and no other did.
    pub fn only(&self, role: R) -> bool {
        !self.failed.is_empty() && self.failed.iter().all(|(r, _)| *r == role)
    }

    /// The item that stood where `role` wanted to write.
    pub fn existing(&self, role: R) -> Option<&Item> {
        self.failed
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, item)| item.as_ref())
    }

    /// The live-or-not idempotency record that made the request's own record fail.
    pub fn kept_answer(&self) -> Option<&Item> {
        self.kept_answer.as_ref()
    }

    /// Every item the cancellation brought back, to be looked up by key.
    pub fn found(&self) -> super::Found {
        super::Found::new(
            self.failed
                .iter()
                .filter_map(|(_, item)| item.clone())
                .chain(self.kept_answer.clone())
                .collect(),
        )
    }
}

#[derive(Debug)]
pub enum CommitError<R> {
    /// A condition failed; nothing was written.
    Rejected(Rejection<R>),
    /// Another transaction held one of the items; nothing was written. The write runner
    /// pauses and looks again (see `write.rs`).
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

    /// Keeps the request's first answer (an idempotency record), unless a live record
    /// stands at its key: absent, or its `expires_at` (Unix seconds) is before `now`. A live
    /// one comes back in the cancellation reasons.
    pub fn keep_answer(&mut self, item: Item, now: u64) -> &mut Self {
        let expired = Condition::compare(
            super::table::TTL_ATTRIBUTE,
            Compare::Less,
            AttributeValue::N(now.to_string()),
        );
        let free = Condition::item_absent().or(expired);
        let put = self.put_action(item, &free, ReturnValuesOnConditionCheckFailure::AllOld);
        self.actions.push((Tag::KeptAnswer, put));
        self
    }

    fn put(
        &mut self,
        role: R,
        item: Item,
        returning: ReturnValuesOnConditionCheckFailure,
    ) -> &mut Self {
        let put = self.put_action(item, &Condition::item_absent(), returning);
        self.push(role, put)
    }

    fn put_action(
        &self,
        item: Item,
        condition: &Condition,
        returning: ReturnValuesOnConditionCheckFailure,
    ) -> TransactWriteItem {
        let mut placeholders = Placeholders::default();
        let expression = placeholders.condition(condition);
        let (names, values) = placeholders.into_maps();
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(returning)
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// Writes `item` over whatever stands at its key, when `condition` (if any) holds of it.
    pub fn replace(&mut self, role: R, item: Item, condition: Option<&Condition>) -> &mut Self {
        let (expression, names, values) = rendered(condition);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .expect("table and item are set");
        self.push(role, TransactWriteItem::builder().put(put).build())
    }

    /// Deletes the item at `key`, when `condition` (if any) holds of it.
    pub fn delete(&mut self, role: R, key: &Key, condition: Option<&Condition>) -> &mut Self {
        let (expression, names, values) = rendered(condition);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .expect("table and key are set");
        self.push(role, TransactWriteItem::builder().delete(delete).build())
    }

    /// Changes nothing at `key`, but the transaction commits only while `condition` holds of
    /// the item there (a `ConditionCheck`): the caller's own membership at the role read.
    /// Like every action, it conflicts with another in-flight transaction naming the item.
    pub fn check(&mut self, role: R, key: &Key, condition: &Condition) -> &mut Self {
        let mut placeholders = Placeholders::default();
        let expression = placeholders.condition(condition);
        let (names, values) = placeholders.into_maps();
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("table, key and condition are set");
        self.push(
            role,
            TransactWriteItem::builder().condition_check(check).build(),
        )
    }

    /// `update` of the item at `key`, applied when `condition` (if any) holds; when it
    /// fails, DynamoDB returns the item as it was.
    pub fn update(
        &mut self,
        role: R,
        key: &Key,
        update: &Update,
        condition: Option<&Condition>,
    ) -> &mut Self {
        let mut placeholders = Placeholders::default();
        let expression = placeholders.update(update);
        let condition = condition.map(|c| placeholders.condition(c));
        let returning = condition
            .as_ref()
            .map(|_| ReturnValuesOnConditionCheckFailure::AllOld);
        let (names, values) = placeholders.into_maps();
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure(returning)
            .build()
            .expect("table, key and expression are set");
        self.push(role, TransactWriteItem::builder().update(update).build())
    }

    fn push(&mut self, role: R, action: TransactWriteItem) -> &mut Self {
        self.actions.push((Tag::Role(role), action));
        self
    }

    /// No action yet: nothing to send.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The actions, in order: what a test of a pure builder reads.
    #[cfg(test)]
    pub fn actions(&self) -> impl Iterator<Item = (Option<R>, &TransactWriteItem)> {
        self.actions.iter().map(|(tag, action)| match tag {
            Tag::Role(role) => (Some(*role), action),
            Tag::KeptAnswer => (None, action),
        })
    }

    /// Sends the transaction: one call. The SDK retries what it can on its own (throttling,
    /// timeouts) with the same `ClientRequestToken`, so a retried commit is applied once.
    pub async fn commit(self, store: &Store) -> Result<(), CommitError<R>> {
        let (roles, actions): (Vec<Tag<R>>, Vec<TransactWriteItem>) =
            self.actions.into_iter().unzip();
        store
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| classify(&roles, error))
    }
}

/// An optional condition's text and placeholders, as an action's builder takes them.
fn rendered(
    condition: Option<&Condition>,
) -> (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<Item>,
) {
    let mut placeholders = Placeholders::default();
    let expression = condition.map(|c| placeholders.condition(c));
    let (names, values) = placeholders.into_maps();
    (expression, names, values)
}

/// Cancellation reason codes that mean DynamoDB is shedding load: try later.
const SHED_LOAD: [&str; 3] = [
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

fn classify<R: Copy + PartialEq>(
    roles: &[Tag<R>],
    error: SdkError<TransactWriteItemsError>,
) -> CommitError<R> {
    let SdkError::ServiceError(service) = &error else {
        return CommitError::Store(error.into());
    };
    match service.err() {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            let reasons = cancelled.cancellation_reasons();
            let has = |code: &str| reasons.iter().any(|r| r.code() == Some(code));
            // A conflict means another transaction was mid-flight on one of our items:
            // whatever else failed may be stale.
            if has("TransactionConflict") {
                return CommitError::Contended;
            }
            let mut rejection = Rejection::of(Vec::new());
            let mut any = false;
            for (reason, tag) in reasons.iter().zip(roles) {
                if reason.code() != Some("ConditionalCheckFailed") {
                    continue;
                }
                any = true;
                match tag {
                    Tag::Role(role) => rejection.failed.push((*role, reason.item().cloned())),
                    Tag::KeptAnswer => rejection.kept_answer = reason.item().cloned(),
                }
            }
            if any {
                return CommitError::Rejected(rejection);
            }
            if SHED_LOAD.iter().any(|code| has(code)) {
                CommitError::Store(StoreError::Unavailable(Box::new(error)))
            } else {
                // ValidationError and the like: a bug of ours, never the client's fault.
                CommitError::Store(StoreError::caused("transaction cancelled", error))
            }
        }
        TransactWriteItemsError::TransactionInProgressException(_) => CommitError::Contended,
        _ => CommitError::Store(error.into()),
    }
}

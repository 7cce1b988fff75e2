//! Batch upsert of customers by email (POST /api/customers/batch). Each row becomes the
//! creation of a customer, or a change of the one holding its email in the organization,
//! through the same write paths as POST and PATCH, each in its own transaction: one row's
//! refusal never undoes another's write, and no transaction names an item of another row.
//!
//! Calls for a batch of `n` rows: one `BatchGetItem` per 100 keys (every row's email claim,
//! the users and owners the rows name, the request's idempotency record), then per row that
//! creates one `TransactWriteItems`, per row that changes a customer the change's own
//! `BatchGetItem` and `TransactWriteItems`, and nothing for a row that changes nothing.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::auth::Access;
use crate::domain::{Customer, CustomerUpsert, Idempotency, OrgId, Precondition, Role, UserId};

use super::customer_changes::{Change, Changed};
use super::customers::{CreateCustomer, CustomerCreated, CustomerRefusal};
use super::idempotency::{record_item, StoredAnswer};
use super::items::{field, CUSTOMER};
use super::keys::Key;
use super::write::{Attempt, WriteError, WritePath};
use super::{Found, Recorded, Store, StoreError};

/// The most rows a batch takes: one `BatchGetItem` reads every row's email claim.
pub const MAX_BATCH_ROWS: usize = 100;
/// Rows written at once. Each is one transaction of up to 93 actions on its own items; 16
/// in flight keep a batch of 100 to about seven transaction latencies, and the writes of
/// one organization well under a partition's 1,000 units a second.
const ROWS_IN_FLIGHT: usize = 16;
/// How often a row looks again when another writer created or removed its email meanwhile.
const LOOKS: usize = 3;
/// Rows not started within this time of the batch's start are answered "retry": the batch
/// ends well inside API Gateway's 30 seconds whatever the table does.
const BUDGET: Duration = Duration::from_secs(20);

/// What a row did.
#[derive(Debug)]
pub enum Upserted {
    Created(Customer),
    Updated(Customer),
    /// The customer already had every value the row names; nothing was written.
    Unchanged(Customer),
}

pub type RowResult = Result<Upserted, WriteError<CustomerRefusal>>;

/// A batch's outcome: each row's, in order, or the first answer to its `Idempotency-Key`.
#[derive(Debug)]
pub enum Imported {
    Rows(Vec<RowResult>),
    Replayed(StoredAnswer),
    KeyReused,
}

impl Store {
    /// Upserts every row into `org` for `caller`, whose `role` there was settled from their
    /// token, rows in flight at most [`ROWS_IN_FLIGHT`] at a time, results in row order.
    pub async fn upsert_customers(
        &self,
        org: OrgId,
        caller: UserId,
        role: Role,
        rows: &[CustomerUpsert],
        record: Option<&Idempotency>,
    ) -> Result<Imported, StoreError> {
        let mut keys: Vec<Key> = rows
            .iter()
            .flat_map(|row| row_keys(org, row, caller))
            .collect();
        keys.extend(record.map(Key::idempotency));
        let found = self.get_all(keys).await?;
        match found.record(record, self.now().unix())? {
            Some(Recorded::Replay(answer)) => return Ok(Imported::Replayed(answer)),
            Some(Recorded::KeyReused) => return Ok(Imported::KeyReused),
            None => {}
        }
        let deadline = tokio::time::Instant::now() + BUDGET;
        let writes: Vec<_> = rows
            .iter()
            .map(|row| {
                let seen = found.only(&row_keys(org, row, caller));
                self.upsert_in_time(deadline, org, caller, role, row, seen)
            })
            .collect();
        let results = stream::iter(writes)
            .buffered(ROWS_IN_FLIGHT)
            .collect()
            .await;
        Ok(Imported::Rows(results))
    }

    /// Keeps a batch's answer under its `Idempotency-Key`, unless another request with the
    /// key kept one first (whose answer then stands): one conditional `PutItem`.
    pub async fn keep_batch_answer(
        &self,
        record: &Idempotency,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let item = record_item(record, answer, self.now().unix());
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", super::keys::PK)
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A row, unless the batch's time is up when its turn comes.
    async fn upsert_in_time(
        &self,
        deadline: tokio::time::Instant,
        org: OrgId,
        caller: UserId,
        role: Role,
        row: &CustomerUpsert,
        seen: Option<Found>,
    ) -> RowResult {
        if tokio::time::Instant::now() > deadline {
            return Err(WriteError::Contended);
        }
        self.upsert_row(org, caller, role, row, seen).await
    }

    /// One row: create when nobody holds its email, else change the holder. Another writer
    /// creating or removing the email meanwhile makes the row look again.
    async fn upsert_row(
        &self,
        org: OrgId,
        caller: UserId,
        role: Role,
        row: &CustomerUpsert,
        mut seen: Option<Found>,
    ) -> RowResult {
        let claim = Key::customer_email(org, &row.form.email);
        for _ in 0..LOOKS {
            let found = match seen.take() {
                Some(found) => found,
                None => self.get_all(row_keys(org, row, caller)).await?,
            };
            let holder: Option<Customer> = found
                .at(&claim)
                .map(|item| field(item, CUSTOMER))
                .transpose()?;
            let done = match holder {
                None => self.create_row(row, caller, found).await,
                Some(current) => self.change_row(row, caller, role, current).await,
            };
            if let Some(result) = done {
                return result;
            }
        }
        Err(WriteError::Contended)
    }

    /// `None` when another writer took the email first: look again.
    async fn create_row(
        &self,
        row: &CustomerUpsert,
        caller: UserId,
        found: Found,
    ) -> Option<RowResult> {
        let path = CreateCustomer {
            form: &row.form,
            caller,
        };
        match self.write_after(&path, None, Some(found)).await {
            Ok(CustomerCreated::New(customer)) => Some(Ok(Upserted::Created(customer))),
            // The user is already a customer here, under another email.
            Ok(CustomerCreated::Existing(_)) => {
                Some(Err(WriteError::Refused(CustomerRefusal::Taken {
                    email: false,
                    code: false,
                    user: true,
                })))
            }
            Ok(CustomerCreated::Replayed(_)) => Some(Err(StoreError::internal(
                "a row without a key was answered from a record",
            )
            .into())),
            Err(WriteError::Refused(CustomerRefusal::Taken { email: true, .. })) => None,
            Err(error) => Some(Err(error)),
        }
    }

    /// `None` when the customer was removed since it was read: look again.
    async fn change_row(
        &self,
        row: &CustomerUpsert,
        caller: UserId,
        role: Role,
        current: Customer,
    ) -> Option<RowResult> {
        let mut patch = row.patch.clone();
        match (patch.user_id.flatten(), current.user_id) {
            (Some(asked), Some(linked)) if asked != linked => {
                return Some(Err(WriteError::Refused(CustomerRefusal::LinkedElsewhere)))
            }
            (Some(_), Some(_)) => patch.user_id = None,
            _ => {}
        }
        if !row.changes(&current) {
            return Some(Ok(Upserted::Unchanged(current)));
        }
        let org = current.organization;
        let access = |of: OrgId| match of == org {
            true => Access::Allowed(role),
            false => Access::NotMember,
        };
        let change = Change::Update(Box::new(patch));
        let changed = self
            .change_customer(
                current.id,
                caller,
                &change,
                access,
                &Precondition::Any,
                None,
            )
            .await;
        match changed {
            Ok(Changed::Updated(customer)) => Some(Ok(Upserted::Updated(*customer))),
            Ok(_) => Some(Err(
                StoreError::internal("an update answered otherwise").into()
            )),
            Err(WriteError::Refused(CustomerRefusal::NotFound)) => None,
            Err(error) => Some(Err(error)),
        }
    }

    /// The items at `keys` that exist, read 100 keys to a `BatchGetItem`; each key once.
    async fn get_all(&self, keys: Vec<Key>) -> Result<Found, StoreError> {
        let mut unique = HashSet::new();
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| unique.insert(k.clone()))
            .collect();
        let mut items = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_ROWS) {
            items.extend(self.get_many(chunk, None).await?.0);
        }
        Ok(Found::new(items))
    }
}

/// What a row's write looks at first: its email claim, and what its creation would read.
fn row_keys(org: OrgId, row: &CustomerUpsert, caller: UserId) -> Vec<Key> {
    let creation = CreateCustomer {
        form: &row.form,
        caller,
    };
    let mut keys = vec![Key::customer_email(org, &row.form.email)];
    keys.extend(creation.reads(&Attempt::default()).keys);
    keys
}

impl Found {
    /// The items at `keys` among these.
    fn only(&self, keys: &[Key]) -> Option<Found> {
        let items = self
            .iter()
            .filter(|item| Key::of_item(item).is_some_and(|key| keys.contains(&key)))
            .cloned()
            .collect();
        Some(Found::new(items))
    }
}

//! DynamoDB: the only module that talks to it. One table, single-table design; see
//! `docs/data-model.md`.
//!
//! Every operation, and the calls it makes (a "round trip" is calls sent together):
//!
//! | operation | module | calls |
//! |---|---|---|
//! | [`Store::save_signup`] | `signup` | `TransactWriteItems` (after a conflict: `BatchGetItem` of the claims) |
//! | [`Store::claim_username_look`] | `signup` | `PutItem` (the backfill of looks, not a route) |
//! | [`Store::login_account`] | `login` | `GetItem` of the name's claim |
//! | [`Store::account`] | `login` | `GetItem` of the user (hash and roles) |
//! | [`Store::change_password`] | `passwords` | `TransactWriteItems` |
//! | [`Store::request_password_reset`] | `password_resets` | `BatchGetItem` (the email's claim and request counter), then `TransactWriteItems` (unless asked too often) |
//! | [`Store::password_reset`], [`Store::reset_password`] | `password_resets` | `BatchGetItem`; `TransactWriteItems` |
//! | [`Store::resend_verification`], [`Store::verify_email`] | `verification` | `BatchGetItem`, then `TransactWriteItems` |
//! | [`Store::take_login_attempt`] | `login` | `UpdateItem` (a second after a window ended) |
//! | [`Store::record_login_failure`], [`Store::forget_login_failures`] | `login` | `UpdateItem` (past the free attempts only), `DeleteItem` |
//! | [`Store::start_session`] | `sessions` | `PutItem` |
//! | [`Store::rotate_session`] | `sessions` | `TransactWriteItems` with `GetItem`; when the token is not current, `GetItem`, and `UpdateItem` on reuse |
//! | [`Store::log_out`] | `sessions` | `UpdateItem`; when the token is not current, `GetItem`, and `UpdateItem` when it was issued |
//! | [`Store::signing_keys`] | `signing_keys` | `Query` of the keys' partition (cold start; a token naming an unknown key) |
//! | [`Store::publish_signing_key`] | `signing_keys` | `PutItem` (an issuing function's cold start, when its key is not listed) |
//! | [`Store::create_customer`] | `customers` | `TransactWriteItems`, after a `BatchGetItem` when naming another user |
//! | [`Store::change_customer`] | `customer_changes` | `BatchGetItem`, then `TransactWriteItems` |
//! | [`Store::customer`], [`Store::customer_by`], [`Store::organization`], [`Store::member_role`] | `reads` | `GetItem` |
//! | [`Store::customers_matching`] | `listing` | `Query` of one index (strongly consistent); for a filter or a search, then `BatchGetItem` of the records |
//! | [`Store::unassign_departed_owner`] | `owners` | pages of `Query` of the owner's filter entries; for each customer `BatchGetItem` (record, membership), then `TransactWriteItems` (the table-stream function, not a route) |
//! | [`Store::me`] | `reads` | `Query` of the user's partition |
//! | [`Store::members_page`] | `members` | `Query` of the organization's partition (and a `BatchGetItem` of users whose memberships predate names) |
//! | [`Store::change_member`] | `members` | `BatchGetItem` (with the caller's membership), then `TransactWriteItems` (holding it) |
//! | [`Store::repair_employee_profile`] | `members` | `GetItem` of the user, then `TransactWriteItems` (`check-table --repair`, not a route) |
//! | [`Store::invite`], [`Store::revoke_invitation`], [`Store::accept_invitation`] | `invitations` | `BatchGetItem`, then `TransactWriteItems` (invite and revoke hold the caller's membership) |
//! | [`Store::invitations`], [`Store::invitations_to`] | `invitations` | `Query` of one partition's invitations |
//! | [`Store::pending_mail`], [`Store::record_mail`] | `outbox` | `GetItem`, `UpdateItem` (the table-stream function, not a route) |
//! | [`Store::rename_organization`] | `organizations` | `Query` of the organization's partition, then `TransactWriteItems` (holding the caller's membership) |
//!
//! Keys are made in [`keys`] only; `transaction` turns cancellation reasons into answers;
//! `backoff` paces retries after `TransactionConflict`; `idempotency` keeps first answers.

mod backoff;
mod capacity;
mod customer_changes;
mod customers;
mod error;
mod expression;
mod hourly;
mod idempotency;
mod imports;
mod invitations;
mod items;
pub mod keys;
mod listing;
mod login;
mod member_copies;
mod members;
mod organizations;
mod outbox;
mod owners;
mod password_resets;
mod passwords;
mod reads;
mod sessions;
mod signing_keys;
mod signup;
pub mod table;
mod transaction;
mod user_changes;
mod verification;
mod write;

use std::collections::HashMap;

use crate::domain::{Clock, Now};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;

pub use backoff::MAX_ATTEMPTS;
pub use capacity::CapacityMeter;
pub use customer_changes::{Change, Changed};
pub use customers::{CustomerCreated, CustomerRefusal, Refiled};
pub use error::{report, Cause, StoreError};
pub use hourly::MAX_PER_HOUR;
pub use idempotency::{Recorded, StoredAnswer};
pub use imports::{Imported, RowResult, Upserted, MAX_BATCH_ROWS};
pub use invitations::{Accepted, InvitationRefusal, Invited, Revoked};
pub use items::Entity;
pub use listing::{CustomerPage, SCAN_LIMIT};
pub use login::{Attempter, LoginAttempt, LoginRecord};
pub use members::{Denied, MemberChange, MemberChanged, MemberPage, MemberRefusal};
pub use organizations::{RenameRefusal, Renamed, MAX_RENAMED_COPIES};
pub use outbox::{pending_id, MailOutcome, Outgoing, MAIL_KEPT_SECONDS};
pub use owners::Unassigned;
pub use password_resets::{Reset, ResetRequested, TokenRefused, RESET_MINUTES};
pub use passwords::ChangedMeanwhile;
pub use reads::{Claimed, Me};
pub use sessions::{Rotation, REFRESH_GRACE_SECONDS};
pub use signup::{LookClaim, NamesTaken, SignupSaved};
pub use user_changes::{UserChangeRefusal, UserChanged};
pub use verification::{Resent, VerifiedAlready, VerifyRefusal, VERIFICATION_HOURS};
pub use write::{Idempotent, WriteError};

use backoff::Backoff;

/// The DynamoDB client and table every function works with. Built once at cold start.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    clock: Clock,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            clock: Clock::system(),
        }
    }

    /// The same store reading the time from `clock` (a test's).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// The clock itself: a test moves it, when it is frozen.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by the store's clock: every request's one source of the time.
    pub fn now(&self) -> Now {
        self.clock.now()
    }

    /// The item at `key`, read strongly consistently, so a write that just returned is seen.
    async fn get_item(&self, key: &keys::Key) -> Result<Option<transaction::Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    /// The items at `keys` that exist, in one strongly consistent `BatchGetItem` (keys DynamoDB
    /// leaves unprocessed under load are asked for again). Unlike `TransactGetItems`, these
    /// reads never conflict with transactions in flight. Only the key and `attributes` are
    /// read, or everything when `attributes` is `None`.
    async fn get_many(
        &self,
        keys: &[keys::Key],
        attributes: Option<&[&str]>,
    ) -> Result<Found, StoreError> {
        let mut wanted = KeysAndAttributes::builder()
            .set_keys(Some(keys.iter().map(keys::Key::to_item).collect()))
            .consistent_read(true);
        if let Some(attributes) = attributes {
            let mut names: HashMap<String, String> = HashMap::new();
            let mut projection = Vec::new();
            for (i, name) in [keys::PK, keys::SK].iter().chain(attributes).enumerate() {
                names.insert(format!("#a{i}"), (*name).to_owned());
                projection.push(format!("#a{i}"));
            }
            wanted = wanted
                .projection_expression(projection.join(", "))
                .set_expression_attribute_names(Some(names));
        }
        let mut request = Some(
            wanted
                .build()
                .map_err(|e| StoreError::caused("BatchGetItem request", e))?,
        );
        let mut found = Vec::new();
        let mut backoff = Backoff::new();
        while let Some(wanted) = request.take() {
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await?;
            if let Some(mut items) = output.responses {
                found.extend(items.remove(&self.table).unwrap_or_default());
            }
            request = output
                .unprocessed_keys
                .and_then(|mut left| left.remove(&self.table))
                .filter(|left| !left.keys().is_empty());
            if request.is_some() && !backoff.wait().await {
                return Err(StoreError::Unavailable(
                    "BatchGetItem left keys unprocessed after every attempt".into(),
                ));
            }
        }
        Ok(Found(found))
    }
}

impl Store {
    /// Every item of partition `pk` (whose sort key starts with `prefix`, when given), read
    /// strongly consistently: one `Query`, paged by DynamoDB past 1 MB.
    async fn query_partition(
        &self,
        pk: String,
        prefix: Option<String>,
    ) -> Result<Vec<transaction::Item>, StoreError> {
        let condition = match prefix {
            Some(_) => "#pk = :pk AND begins_with(#sk, :prefix)",
            None => "#pk = :pk",
        };
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            if let Some(prefix) = &prefix {
                query = query
                    .expression_attribute_names("#sk", keys::SK)
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.clone()));
            }
            let page = query.send().await?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn query_partition_prefix(
        &self,
        (pk, prefix): (String, String),
    ) -> Result<Vec<transaction::Item>, StoreError> {
        self.query_partition(pk, Some(prefix)).await
    }
}

/// Items read (or returned by a cancellation), looked up again by key.
#[derive(Debug, Default)]
pub struct Found(Vec<transaction::Item>);

impl Found {
    pub fn new(items: Vec<transaction::Item>) -> Self {
        Self(items)
    }

    /// Every item, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &transaction::Item> {
        self.0.iter()
    }

    /// The item at `key`, if it exists.
    pub fn at(&self, key: &keys::Key) -> Option<&transaction::Item> {
        self.0
            .iter()
            .find(|item| keys::Key::of_item(item).as_ref() == Some(key))
    }

    /// The live idempotency record for `record` among these items, if the request has a key
    /// and one was found.
    fn record(
        &self,
        record: Option<&crate::domain::Idempotency>,
        now: u64,
    ) -> Result<Option<Recorded>, StoreError> {
        match record.and_then(|r| self.at(&keys::Key::idempotency(r)).map(|item| (r, item))) {
            Some((record, item)) => idempotency::recorded(item, record, now),
            None => Ok(None),
        }
    }
}

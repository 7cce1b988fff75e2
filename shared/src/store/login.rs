//! Log-in's single read, and what a failure or a success after failures writes.
//!
//! The name's claim (carrying the user, the hash and their roles) and the name's failure
//! record share a partition, so one strongly consistent `Query` reads both.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    LoginFailures, LoginName, OrgRole, PasswordHash, User, FAILURE_WINDOW_SECONDS,
};

use super::items::{field, number, record, Entity, ENTITY, EXPIRES_AT, MEMBERSHIPS, PASSWORD_HASH};
use super::keys::{Key, PK, SK};
use super::{Store, StoreError};

/// What log-in needs to know about a user.
#[derive(Debug)]
pub struct LoginRecord {
    pub user: User,
    pub hash: PasswordHash,
    pub roles: Vec<OrgRole>,
}

/// Everything stored under a log-in name.
#[derive(Debug, Default)]
pub struct LoginState {
    pub account: Option<LoginRecord>,
    pub failures: LoginFailures,
}

const COUNT: &str = "count";
const LAST_AT: &str = "last_at";

impl Store {
    /// One strongly consistent `Query`, so a user can log in the moment sign-up returns.
    pub async fn login_state(&self, name: &LoginName) -> Result<LoginState, StoreError> {
        let claim = Key::login_name(name);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(claim.pk.clone()))
            .consistent_read(true)
            .send()
            .await?;
        let mut state = LoginState::default();
        for item in output.items() {
            if item.get(SK).and_then(|v| v.as_s().ok()) == Some(&claim.sk) {
                let hash: String = field(item, PASSWORD_HASH)?;
                state.account = Some(LoginRecord {
                    user: record(item)?,
                    hash: PasswordHash::from_stored(hash),
                    roles: field(item, MEMBERSHIPS)?,
                });
            } else {
                state.failures = LoginFailures {
                    count: field(item, COUNT)?,
                    last_at: field(item, LAST_AT)?,
                };
            }
        }
        Ok(state)
    }

    /// Counts a failed attempt: one `UpdateItem`. Concurrent failures are all counted: the
    /// count is added to atomically, and starting a fresh window is conditional on the
    /// record being as it was read.
    pub async fn record_login_failure(
        &self,
        name: &LoginName,
        seen: LoginFailures,
        now: u64,
    ) -> Result<(), StoreError> {
        let fresh_window = seen.current(now) == 0;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::login_failures(name).to_item()))
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_names("#last", LAST_AT)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#entity", ENTITY)
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":expires", number(now + FAILURE_WINDOW_SECONDS))
            .expression_attribute_values(":entity", Entity::LoginFailures.attribute());
        if fresh_window {
            let reset = update
                .clone()
                .update_expression(
                    "SET #count = :one, #last = :now, #expires = :expires, #entity = :entity",
                )
                .condition_expression("attribute_not_exists(#last) OR #last = :seen")
                .expression_attribute_values(":seen", number(seen.last_at))
                .send()
                .await;
            match reset {
                Ok(_) => return Ok(()),
                // Another failure started the window first: add to it.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(e.into()),
            }
        }
        update
            .update_expression(
                "ADD #count :one SET #last = :now, #expires = :expires, #entity = :entity",
            )
            .send()
            .await?;
        Ok(())
    }

    /// A success forgets the failures under the name.
    pub async fn forget_login_failures(&self, name: &LoginName) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Key::login_failures(name).to_item()))
            .send()
            .await?;
        Ok(())
    }
}

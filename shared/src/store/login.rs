//! Log-in's reads and writes. The name's claim (carrying the user, the hash and their
//! roles) is one `GetItem`. Failures are counted per account, whichever name it logs in by
//! (or per name, for a name no account holds, throttled exactly alike), and an attempt is
//! taken before its password is checked: a conditional `ADD` that fails once the free
//! attempts are used, so however many requests arrive at once, no more passwords are checked
//! than the limit allows. A success gives the attempts back.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::domain::{
    delay_after, LoginFailures, LoginName, OrgRole, PasswordHash, User, UserId,
    FAILURE_WINDOW_SECONDS, FREE_FAILURES,
};

use super::expression::update_item;
use super::items::{field, number, record, Entity, ENTITY, EXPIRES_AT, MEMBERSHIPS, PASSWORD_HASH};
use super::keys::Key;
use super::sessions::is_condition_failure;
use super::transaction::{Compare, Condition, Item, Update};
use super::{Store, StoreError};

/// What log-in needs to know about a user.
#[derive(Debug)]
pub struct LoginRecord {
    pub user: User,
    pub hash: PasswordHash,
    pub roles: Vec<OrgRole>,
}

/// Whose failures an attempt counts against.
#[derive(Clone, Copy, Debug)]
pub enum Attempter<'a> {
    /// An account, whichever of its names (username, email) was used.
    Account(UserId),
    /// A name no account holds.
    Name(&'a LoginName),
}

impl Attempter<'_> {
    fn key(&self) -> Key {
        match self {
            Self::Account(user) => Key::account_login_failures(*user),
            Self::Name(name) => Key::login_failures(name),
        }
    }
}

/// An attempt to prove a password.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Taken: it is the `n`-th in the current window.
    Taken(u32),
    /// Refused for this many seconds; nothing was counted.
    Refused { retry_after: u64 },
}

const COUNT: &str = "count";
const LAST_AT: &str = "last_at";
const OPEN_AT: &str = "open_at";

impl Store {
    /// The account holding `name`, if any: one strongly consistent `GetItem` of its claim, so a
    /// user can log in the moment sign-up returns.
    pub async fn login_account(&self, name: &LoginName) -> Result<Option<LoginRecord>, StoreError> {
        let Some(item) = self.get_item(&Key::login_name(name)).await? else {
            return Ok(None);
        };
        login_record(&item).map(Some)
    }

    /// The user `id` as log-in knows them (hash and roles): one strongly consistent `GetItem`
    /// of the user item.
    pub async fn account(&self, id: UserId) -> Result<Option<LoginRecord>, StoreError> {
        let Some(item) = self.get_item(&Key::user(id)).await? else {
            return Ok(None);
        };
        login_record(&item).map(Some)
    }

    /// Takes an attempt for `who` at `now`: one conditional `UpdateItem` that counts it, unless
    /// the free attempts are used and the wait is not over. A window that ended (failures
    /// are forgotten after it, though TTL removes records late) starts again at one.
    pub async fn take_login_attempt(
        &self,
        who: &Attempter<'_>,
        now: u64,
    ) -> Result<LoginAttempt, StoreError> {
        let count = Update::new()
            .add(COUNT, number(1))
            .set(LAST_AT, number(now))
            .set(EXPIRES_AT, number(now + FAILURE_WINDOW_SECONDS))
            .set(ENTITY, Entity::LoginFailures.attribute());
        // A first failure, or one within the window while attempts are free or the wait is
        // over.
        let free = Condition::compare(COUNT, Compare::Less, number(u64::from(FREE_FAILURES)))
            .or(Condition::compare(OPEN_AT, Compare::AtMost, number(now)));
        let within = Condition::compare(LAST_AT, Compare::AtLeast, number(window_start(now)));
        let allowed = Condition::absent(COUNT).or(within.and(free));
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(who.key().to_item()));
        let taken = update_item(call, &count, Some(&allowed))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match taken {
            Ok(output) => {
                let counted = output.attributes.unwrap_or_default();
                return Ok(LoginAttempt::Taken(field(&counted, COUNT)?));
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    failures_of(failed.item().cloned().unwrap_or_default())
                }
                _ => return Err(e.into()),
            },
        };
        if old.current(now) == 0 {
            return self.restart_window(who, old, now).await;
        }
        let retry_after = old.refused_for(now).unwrap_or(1);
        Ok(LoginAttempt::Refused { retry_after })
    }

    /// Counts a window's first attempt over a record whose window ended, unless another
    /// attempt did so first (then this one waits like any other).
    async fn restart_window(
        &self,
        who: &Attempter<'_>,
        old: LoginFailures,
        now: u64,
    ) -> Result<LoginAttempt, StoreError> {
        let restart = Update::new()
            .set(COUNT, number(1))
            .set(LAST_AT, number(now))
            .set(EXPIRES_AT, number(now + FAILURE_WINDOW_SECONDS))
            .remove(OPEN_AT);
        let as_read = Condition::equals(LAST_AT, number(old.last_at));
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(who.key().to_item()));
        let restarted = update_item(call, &restart, Some(&as_read)).send().await;
        match restarted {
            Ok(_) => Ok(LoginAttempt::Taken(1)),
            Err(e) if is_condition_failure(&e) => Ok(LoginAttempt::Refused { retry_after: 1 }),
            Err(e) => Err(e.into()),
        }
    }

    /// The `count`-th attempt failed: once past the free ones, the next may be taken only
    /// after the wait that failure earns (one `UpdateItem`, which only ever moves the opening
    /// later). Nothing to write before that: the attempt was counted when it was taken.
    pub async fn record_login_failure(
        &self,
        who: &Attempter<'_>,
        count: u32,
        now: u64,
    ) -> Result<(), StoreError> {
        if count < FREE_FAILURES {
            return Ok(());
        }
        let open = number(now + delay_after(count));
        // Only ever later: a slower failure's wait never shortens a faster one's.
        let later = Condition::exists(COUNT).and(
            Condition::absent(OPEN_AT).or(Condition::compare(OPEN_AT, Compare::Less, open.clone())),
        );
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(who.key().to_item()));
        let opened = update_item(call, &Update::new().set(OPEN_AT, open), Some(&later))
            .send()
            .await;
        match opened {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A success gives the attempts back, and with them the failures before it.
    pub async fn forget_login_failures(&self, who: &Attempter<'_>) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(who.key().to_item()))
            .send()
            .await?;
        Ok(())
    }
}

/// A login item (the user, or a name's claim) read back.
pub(super) fn login_record(item: &Item) -> Result<LoginRecord, StoreError> {
    Ok(LoginRecord {
        user: record(item)?,
        hash: PasswordHash::from_stored(field(item, PASSWORD_HASH)?),
        roles: field(item, MEMBERSHIPS)?,
    })
}

fn window_start(now: u64) -> u64 {
    now.saturating_sub(FAILURE_WINDOW_SECONDS)
}

/// A failure record read back; absent fields read as none.
fn failures_of(item: Item) -> LoginFailures {
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    LoginFailures {
        count: u32::try_from(number(COUNT)).unwrap_or(u32::MAX),
        last_at: number(LAST_AT),
        open_at: number(OPEN_AT),
    }
}

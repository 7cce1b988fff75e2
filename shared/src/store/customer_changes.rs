//! Updating and deleting a customer. Each is one round trip of reads (the record; the user
//! being linked and their profile; the request's idempotency record) and one
//! `TransactWriteItems` that moves every claim with the record: an old claim is deleted only
//! if it still belongs to this customer, a new one is created only if nobody holds it, and
//! the record is written only at the version that was read. So concurrent changes serialize
//! on the record, and nothing is ever left pointing at a customer that is gone.

use crate::domain::{
    unix_now, Customer, CustomerId, CustomerPatch, Idempotency, OrgId, Precondition, ProfileType,
    UserProfile,
};

use super::customers::CustomerItems;
use super::idempotency::{record_item, recorded, Recorded, StoredAnswer};
use super::items::{item, record, string, CUSTOMER_ID};
use super::keys::Key;
use super::transaction::{CommitError, Condition, Transaction};
use super::{Backoff, Store, StoreError};

/// What to do to a customer.
#[derive(Debug)]
pub enum Change {
    Update(Box<CustomerPatch>),
    Delete,
}

#[derive(Debug)]
pub enum Changed {
    Updated(Box<Customer>),
    Deleted,
    /// The request's `Idempotency-Key` was used for this very request before.
    Replayed(StoredAnswer),
}

#[derive(Debug)]
pub enum ChangeError {
    /// No such customer, or not one the caller may see.
    NotFound,
    /// `If-Match` names another version.
    PreconditionFailed,
    /// The patch names another organization: customers do not move.
    OrganizationFixed,
    /// The user being linked does not exist.
    UserNotFound,
    Taken {
        email: bool,
        code: bool,
        user: bool,
    },
    Contended,
    KeyReused,
    InProgress,
    Store(StoreError),
}

impl From<StoreError> for ChangeError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    Record,
    /// The customer record at the version that was read.
    Version,
    /// Items that must still belong to this customer.
    Owned,
    Email,
    Code,
    User,
    Profile,
    Other,
}

impl Store {
    /// Applies `change` to customer `id` if `may_see` its organization and `precondition`
    /// allows its version. Without `If-Match` the change still applies atomically to the
    /// version it read, and a concurrent change makes it read again: the last writer wins.
    pub async fn change_customer(
        &self,
        id: CustomerId,
        change: &Change,
        may_see: impl Fn(OrgId) -> bool,
        precondition: &Precondition,
        idempotency: Option<&Idempotency>,
    ) -> Result<Changed, ChangeError> {
        let mut backoff = Backoff::new();
        loop {
            let now = unix_now();
            let linking = match change {
                Change::Update(patch) => patch.user_id.flatten(),
                Change::Delete => None,
            };
            let mut keys = vec![Key::customer(id)];
            if let Some(user) = linking {
                keys.extend([Key::user(user), Key::profile(user, ProfileType::Customer)]);
            }
            keys.extend(idempotency.map(Key::idempotency));
            let found = self.get_many(&keys, None).await?;
            if let Some(record) = found.record(idempotency, now)? {
                return found_record(record);
            }
            let current: Customer = match found.at(&Key::customer(id)) {
                Some(item) => record(item)?,
                None => return Err(ChangeError::NotFound),
            };
            if !may_see(current.organization) {
                return Err(ChangeError::NotFound);
            }
            if !precondition.allows(current.version) {
                return Err(ChangeError::PreconditionFailed);
            }
            let (mut tx, outcome, answer) = match change {
                Change::Delete => (
                    self.delete_transaction(&current),
                    Changed::Deleted,
                    StoredAnswer {
                        status: 204,
                        body: String::new(),
                    },
                ),
                Change::Update(patch) => {
                    if patch
                        .organization
                        .is_some_and(|org| org != current.organization)
                    {
                        return Err(ChangeError::OrganizationFixed);
                    }
                    let next = patch.apply(&current);
                    let new_user = next.user_id.filter(|user| current.user_id != Some(*user));
                    if let Some(user) = new_user {
                        if found.at(&Key::user(user)).is_none() {
                            return Err(ChangeError::UserNotFound);
                        }
                    }
                    let profile_missing = new_user.is_some_and(|user| {
                        found
                            .at(&Key::profile(user, ProfileType::Customer))
                            .is_none()
                    });
                    let answer = StoredAnswer {
                        status: 200,
                        body: serde_json::to_string(&next).expect("customers serialize"),
                    };
                    (
                        self.update_transaction(&current, &next, profile_missing),
                        Changed::Updated(Box::new(next)),
                        answer,
                    )
                }
            };
            if let Some(record) = idempotency {
                tx.create_unless_live(Guard::Record, record_item(record, &answer, now), now);
            }
            let rejection = match tx.commit(self).await {
                Ok(()) => return Ok(outcome),
                Err(CommitError::Rejected(rejection)) => rejection,
                Err(CommitError::Contended) => {
                    if !backoff.wait().await {
                        return Err(if idempotency.is_some() {
                            ChangeError::InProgress
                        } else {
                            ChangeError::Contended
                        });
                    }
                    continue;
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            };
            if let (Some(item), Some(record)) = (rejection.existing(Guard::Record), idempotency) {
                if let Some(found) = recorded(item, record, now)? {
                    return found_record(found);
                }
            }
            let (email, code, user) = (
                rejection.failed(Guard::Email),
                rejection.failed(Guard::Code),
                rejection.failed(Guard::User),
            );
            if email || code || user {
                return Err(ChangeError::Taken { email, code, user });
            }
            // The record moved on since it was read (or a profile appeared): with If-Match,
            // the version asked for is gone; without, read again and apply to the new one.
            if rejection.failed(Guard::Version) && *precondition != Precondition::Any {
                return Err(ChangeError::PreconditionFailed);
            }
            if !backoff.wait().await {
                return Err(ChangeError::Contended);
            }
        }
    }

    fn update_transaction(
        &self,
        current: &Customer,
        next: &Customer,
        profile_missing: bool,
    ) -> Transaction<Guard> {
        let org = current.organization;
        let new = CustomerItems::of(next);
        let owned = owned_by(current.id);
        let mut tx = Transaction::new(&self.table);
        tx.replace(
            Guard::Version,
            new.record,
            Some(&at_version(current.version)),
        );
        for (old_key, new_key, claim, taken) in [
            (
                Key::customer_email(org, &current.email),
                Key::customer_email(org, &next.email),
                new.email_claim,
                Guard::Email,
            ),
            (
                Key::customer_code(org, &current.code),
                Key::customer_code(org, &next.code),
                new.code_claim,
                Guard::Code,
            ),
        ] {
            if old_key == new_key {
                tx.replace(Guard::Owned, claim, Some(&owned));
            } else {
                tx.delete(Guard::Owned, &old_key, Some(&owned));
                tx.create(taken, claim);
            }
        }
        match (current.user_id, next.user_id, new.user_claim, new.user_link) {
            (Some(old), Some(user), Some(claim), Some(link)) if old == user => {
                tx.replace(Guard::Owned, claim, Some(&owned))
                    .replace(Guard::Other, link, None);
            }
            (old, user, claim, link) => {
                if let Some(old) = old {
                    tx.delete(Guard::Owned, &Key::customer_of_user(org, old), Some(&owned))
                        .delete(Guard::Other, &Key::user_customer(old, current.id), None);
                }
                if let (Some(user), Some(claim), Some(link)) = (user, claim, link) {
                    tx.create(Guard::User, claim).create(Guard::Other, link);
                    if profile_missing {
                        let profile =
                            UserProfile::new(user, ProfileType::Customer, org, &next.updated_at);
                        let key = Key::profile(user, ProfileType::Customer);
                        tx.create(Guard::Profile, item("PROFILE", &key, &profile));
                    }
                }
            }
        }
        tx
    }

    fn delete_transaction(&self, current: &Customer) -> Transaction<Guard> {
        let org = current.organization;
        let owned = owned_by(current.id);
        let mut tx = Transaction::new(&self.table);
        tx.delete(
            Guard::Version,
            &Key::customer(current.id),
            Some(&at_version(current.version)),
        )
        .delete(
            Guard::Owned,
            &Key::customer_email(org, &current.email),
            Some(&owned),
        )
        .delete(
            Guard::Owned,
            &Key::customer_code(org, &current.code),
            Some(&owned),
        );
        if let Some(user) = current.user_id {
            tx.delete(
                Guard::Owned,
                &Key::customer_of_user(org, user),
                Some(&owned),
            )
            .delete(Guard::Other, &Key::user_customer(user, current.id), None);
        }
        tx
    }
}

/// A claim that still belongs to `customer`.
fn owned_by(customer: CustomerId) -> Condition {
    Condition::equals(CUSTOMER_ID, string(&customer.to_string()))
}

/// The record as it was read. Records from before versions have none, and read as 1.
fn at_version(version: u64) -> Condition {
    let value = super::login::number(version);
    let mut condition = Condition::equals("version", value);
    if version == 1 {
        condition.expression = format!("attribute_not_exists(#c) OR {}", condition.expression);
    }
    condition
}

fn found_record(found: Recorded) -> Result<Changed, ChangeError> {
    match found {
        Recorded::Replay(answer) => Ok(Changed::Replayed(answer)),
        Recorded::KeyReused => Err(ChangeError::KeyReused),
    }
}

//! Updating and deleting a customer. Each is one round trip of reads (the record; the user
//! being linked and their profile; the request's idempotency record) and one
//! `TransactWriteItems` that moves every claim with the record: an old claim is deleted only
//! if it still belongs to this customer, a new one is created only if nobody holds it, and
//! the record is written only at the version that was read. So concurrent changes serialize
//! on the record, and nothing is ever left pointing at a customer that is gone.

use crate::auth::{may_reassign, Access, Action};
use crate::domain::{
    Customer, CustomerId, CustomerPatch, Now, OrgId, Precondition, ProfileType, UserId, UserProfile,
};

use super::customers::{is_member, CustomerItems, CustomerRefusal};
use super::idempotency::StoredAnswer;
use super::items::{item, number, record, string, Entity, CUSTOMER_ID, VERSION};
use super::keys::Key;
use super::transaction::{Condition, Item, Rejection, Transaction};
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, Step, WriteError, WritePath};
use super::{Found, Store, StoreError};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Guard {
    /// The customer record at the version that was read.
    Version,
    /// Items that must still belong to this customer.
    Owned,
    Email,
    Code,
    User,
    Profile,
    /// The user's link, which only this customer's writes touch.
    Link,
    /// The customer's rows, filter entries and words, which only its writes touch.
    Index,
}

/// Changing customer `id`, if `access` to its organization allows the change and
/// `precondition` allows its version.
struct ChangeCustomer<'a, F> {
    id: CustomerId,
    caller: UserId,
    change: &'a Change,
    access: F,
    precondition: &'a Precondition,
}

impl<F> ChangeCustomer<'_, F> {
    /// The member a patch makes the owner, if any.
    fn owning(&self) -> Option<UserId> {
        match self.change {
            Change::Update(patch) => patch.owner_id.flatten(),
            Change::Delete => None,
        }
    }

    /// The user a patch links, if any.
    fn linking(&self) -> Option<crate::domain::UserId> {
        match self.change {
            Change::Update(patch) => patch.user_id.flatten(),
            Change::Delete => None,
        }
    }
}

impl<F: Fn(OrgId) -> Access> WritePath for ChangeCustomer<'_, F> {
    type Guard = Guard;
    type Outcome = Changed;
    type Refusal = CustomerRefusal;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        let mut keys = vec![Key::customer(self.id)];
        if let Some(user) = self.linking() {
            keys.extend([Key::user(user), Key::profile(user, ProfileType::Customer)]);
        }
        let owner = self.owning().map(Key::user);
        keys.extend(owner.filter(|key| !keys.contains(key)));
        Reads::items(keys)
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, Changed, CustomerRefusal>, StoreError> {
        let current: Customer = match found.at(&Key::customer(self.id)) {
            Some(item) => record(item)?,
            None => return Ok(Plan::Refuse(CustomerRefusal::NotFound)),
        };
        let role = match (self.access)(current.organization) {
            Access::Allowed(role) => role,
            Access::NotMember => return Ok(Plan::Refuse(CustomerRefusal::NotFound)),
            Access::Lacks(action) => return Ok(Plan::Refuse(CustomerRefusal::Lacks(action))),
            Access::Unlisted => {
                return Ok(Plan::Refuse(CustomerRefusal::Unlisted(
                    current.organization,
                )))
            }
        };
        if !self.precondition.allows(current.version) {
            return Ok(Plan::Refuse(CustomerRefusal::PreconditionFailed));
        }
        let patch = match self.change {
            Change::Delete => return Ok(Plan::Write(deletion(table, &current), Changed::Deleted)),
            Change::Update(patch) => patch,
        };
        if patch
            .organization
            .is_some_and(|org| org != current.organization)
        {
            return Ok(Plan::Refuse(CustomerRefusal::OrganizationFixed));
        }
        let next = patch.apply(&current, &now.timestamp());
        if !may_reassign(role, self.caller, current.owner_id, next.owner_id) {
            return Ok(Plan::Refuse(CustomerRefusal::Lacks(
                Action::AssignCustomers,
            )));
        }
        if let Some(owner) = next.owner_id.filter(|o| current.owner_id != Some(*o)) {
            if !is_member(found, owner, current.organization)? {
                return Ok(Plan::Refuse(CustomerRefusal::OwnerNotMember));
            }
        }
        let new_user = next.user_id.filter(|user| current.user_id != Some(*user));
        if new_user.is_some_and(|user| found.at(&Key::user(user)).is_none()) {
            return Ok(Plan::Refuse(CustomerRefusal::UserNotFound));
        }
        let profile_missing = new_user.is_some_and(|user| {
            found
                .at(&Key::profile(user, ProfileType::Customer))
                .is_none()
        });
        let tx = update(table, &current, &next, profile_missing);
        Ok(Plan::Write(tx, Changed::Updated(Box::new(next))))
    }

    fn decide(
        &self,
        rejection: &Rejection<Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<Step<Changed, CustomerRefusal>, StoreError> {
        let (email, code, user) = (
            rejection.failed(Guard::Email),
            rejection.failed(Guard::Code),
            rejection.failed(Guard::User),
        );
        Ok(if email || code || user {
            Step::Refuse(CustomerRefusal::Taken { email, code, user })
        } else if rejection.failed(Guard::Version) && *self.precondition != Precondition::Any {
            // With If-Match, the version asked for is gone.
            Step::Refuse(CustomerRefusal::PreconditionFailed)
        } else {
            // The record moved on since it was read (or a profile appeared): read again and
            // apply the change to what is there now. The last writer wins.
            Step::LookAgain
        })
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<Changed> {
        Replay::Outcome(Changed::Replayed(answer))
    }
}

impl Store {
    /// Applies `change` to customer `id` if `access` to its organization allows it and `precondition`
    /// allows its version. Without `If-Match` the change still applies atomically to the
    /// version it read, and a concurrent change makes it read again: the last writer wins.
    pub async fn change_customer(
        &self,
        id: CustomerId,
        caller: UserId,
        change: &Change,
        access: impl Fn(OrgId) -> Access + Sync,
        precondition: &Precondition,
        idempotent: Option<&Idempotent<'_, Changed>>,
    ) -> Result<Changed, WriteError<CustomerRefusal>> {
        let path = ChangeCustomer {
            id,
            caller,
            change,
            access,
            precondition,
        };
        self.write(&path, idempotent).await
    }
}

/// The transaction that turns `current` into `next`, moving every claim whose value
/// changed. Pure.
pub(super) fn update(
    table: &str,
    current: &Customer,
    next: &Customer,
    profile_missing: bool,
) -> Transaction<Guard> {
    let org = current.organization;
    let new = CustomerItems::of(next);
    let owned = owned_by(current.id);
    let mut tx = Transaction::new(table);
    move_index(&mut tx, &CustomerItems::of(current), &new);
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
                .replace(Guard::Link, link, None);
        }
        (old, user, claim, link) => {
            if let Some(old) = old {
                tx.delete(Guard::Owned, &Key::customer_of_user(org, old), Some(&owned))
                    .delete(Guard::Link, &Key::user_customer(old, current.id), None);
            }
            if let (Some(user), Some(claim), Some(link)) = (user, claim, link) {
                tx.create(Guard::User, claim).create(Guard::Link, link);
                if profile_missing {
                    let profile =
                        UserProfile::new(user, ProfileType::Customer, org, &next.updated_at);
                    let key = Key::profile(user, ProfileType::Customer);
                    tx.create(Guard::Profile, item(Entity::Profile, &key, &profile));
                }
            }
        }
    }
    tx
}

/// Rewrites the rows (they carry the customer), adds the entries under keys the change
/// brings, and deletes those it takes away; entries under unchanged keys are left alone.
fn move_index(tx: &mut Transaction<Guard>, current: &CustomerItems, next: &CustomerItems) {
    let (old, new) = (current.index_keys(), next.index_keys());
    for key in old.iter().filter(|key| !new.contains(key)) {
        tx.delete(Guard::Index, key, None);
    }
    let unchanged = |entry: &&Item| Key::of_item(entry).is_some_and(|key| old.contains(&key));
    for item in next
        .rows
        .iter()
        .chain(next.entries.iter().filter(|e| !unchanged(e)))
    {
        tx.replace(Guard::Index, item.clone(), None);
    }
}

/// The transaction that removes `current` and every claim it holds. Pure.
fn deletion(table: &str, current: &Customer) -> Transaction<Guard> {
    let org = current.organization;
    let owned = owned_by(current.id);
    let mut tx = Transaction::new(table);
    tx.delete(
        Guard::Version,
        &Key::customer(current.id),
        Some(&at_version(current.version)),
    );
    for claim in [
        Key::customer_email(org, &current.email),
        Key::customer_code(org, &current.code),
    ] {
        tx.delete(Guard::Owned, &claim, Some(&owned));
    }
    if let Some(user) = current.user_id {
        tx.delete(
            Guard::Owned,
            &Key::customer_of_user(org, user),
            Some(&owned),
        )
        .delete(Guard::Link, &Key::user_customer(user, current.id), None);
    }
    for key in CustomerItems::of(current).index_keys() {
        tx.delete(Guard::Index, &key, None);
    }
    tx
}

/// A claim that still belongs to `customer`.
fn owned_by(customer: CustomerId) -> Condition {
    Condition::equals(CUSTOMER_ID, string(&customer.to_string()))
}

/// The record as it was read. Records from before versions have none, and read as 1.
fn at_version(version: u64) -> Condition {
    let condition = Condition::equals(VERSION, number(version));
    match version {
        1 => Condition::absent(VERSION).or(condition),
        _ => condition,
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::tests::every_rejection;
    use super::super::write::tests::now;
    use super::*;

    const GUARDS: [Guard; 8] = [
        Guard::Version,
        Guard::Owned,
        Guard::Email,
        Guard::Code,
        Guard::User,
        Guard::Profile,
        Guard::Link,
        Guard::Index,
    ];

    #[test]
    fn every_cancellation_has_one_meaning() {
        for precondition in [Precondition::Any, Precondition::Versions(vec![1])] {
            let path = ChangeCustomer {
                id: CustomerId::generate(),
                caller: UserId::generate(),
                change: &Change::Delete,
                access: |_| Access::Allowed(crate::domain::Role::Owner),
                precondition: &precondition,
            };
            for (failed, rejection) in every_rejection(&GUARDS) {
                let step = path.decide(&rejection, &Attempt::default(), now()).unwrap();
                let has = |g| failed.contains(&g);
                let taken = (has(Guard::Email), has(Guard::Code), has(Guard::User));
                let expected = if taken != (false, false, false) {
                    Step::Refuse(CustomerRefusal::Taken {
                        email: taken.0,
                        code: taken.1,
                        user: taken.2,
                    })
                } else if has(Guard::Version) && precondition != Precondition::Any {
                    Step::Refuse(CustomerRefusal::PreconditionFailed)
                } else {
                    // Without If-Match, a record that moved on (or a claim or profile that
                    // changed hands) is read again: the last writer wins.
                    Step::LookAgain
                };
                assert!(
                    step_is(&step, &expected),
                    "{failed:?} {precondition:?}: {step:?}"
                );
            }
        }
    }

    fn step_is(
        step: &Step<Changed, CustomerRefusal>,
        expected: &Step<Changed, CustomerRefusal>,
    ) -> bool {
        match (step, expected) {
            (Step::Refuse(a), Step::Refuse(b)) => a == b,
            (Step::LookAgain, Step::LookAgain) => true,
            _ => false,
        }
    }

    /// A change that moves the email deletes the old claim only while it is still this
    /// customer's, and creates the new one only where nobody holds it.
    #[test]
    fn an_update_moves_each_changed_claim() {
        let current = crate::domain::sample_customer_form().to_customer();
        let patch = CustomerPatch {
            email: Some(crate::domain::Email::parse("new@example.com").unwrap()),
            ..CustomerPatch::default()
        };
        let next = patch.apply(&current, &crate::domain::Timestamp::now());
        let tx = update("t", &current, &next, false);
        let roles: Vec<Option<Guard>> = tx
            .actions()
            .map(|(role, _)| role)
            .filter(|role| *role != Some(Guard::Index))
            .collect();
        use Guard::*;
        assert_eq!(roles, [Version, Owned, Email, Owned].map(Some));
        let (_, delete) = tx
            .actions()
            .filter(|(role, _)| *role != Some(Guard::Index))
            .nth(1)
            .unwrap();
        let old = Key::customer_email(current.organization, &current.email);
        assert_eq!(
            delete.delete().map(|d| Key::of_item(d.key())),
            Some(Some(old))
        );
    }

    /// The largest change there is (every claim moved, a new user linked with a new
    /// profile, every filter value, all 20 tags and all indexed words replaced) stays within
    /// DynamoDB's 100 items a transaction, with one left for the idempotency record.
    #[test]
    fn the_largest_change_fits_one_transaction() {
        use crate::domain::{
            CustomerName, CustomerStatus, CustomerType, Email, Tag, UserId, MAX_INDEXED_WORDS,
            MAX_TAGS,
        };
        let tags = |prefix: &str| {
            (0..MAX_TAGS)
                .map(|i| Tag::parse(&format!("{prefix}{i}")).unwrap())
                .collect::<Vec<_>>()
        };
        let name = |prefix: &str| {
            let words: Vec<String> = (0..40).map(|i| format!("{prefix}{i}")).collect();
            CustomerName::parse(&words.join(" ")).unwrap()
        };
        let mut current = crate::domain::sample_customer_form().to_customer();
        current.user_id = Some(UserId::generate());
        current.owner_id = Some(UserId::generate());
        current.tags = tags("old");
        current.name = name("old");
        let patch = CustomerPatch {
            user_id: Some(Some(UserId::generate())),
            owner_id: Some(Some(UserId::generate())),
            email: Some(Email::parse("new@example.com").unwrap()),
            code: Some(crate::domain::CustomerCode::parse("NEW-1").unwrap()),
            name: Some(name("new")),
            status: Some(CustomerStatus::Vip),
            customer_type: Some(CustomerType::Business),
            tags: Some(tags("new")),
            ..CustomerPatch::default()
        };
        let next = patch.apply(&current, &crate::domain::Timestamp::now());
        assert_eq!(next.search_words().len(), MAX_INDEXED_WORDS);
        let tx = update("t", &current, &next, true);
        let actions = tx.actions().count();
        assert!(actions < 100, "{actions} actions");
        assert!(deletion("t", &current).actions().count() < 100);
    }
}

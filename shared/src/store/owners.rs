//! Customers whose owner left the organization become unassigned. Background work, run by
//! the table-stream function (`crate::stream`) for each removed membership: however many
//! customers the member owned, each is its own small transaction, so no transaction grows
//! with them, and the job is safe to run twice or to resume after a crash.

use crate::domain::{Customer, CustomerId, Now, OrgId, UserId};

use super::customer_changes::update;
use super::customers::CustomerRefusal;
use super::idempotency::StoredAnswer;
use super::items::{field, record, CUSTOMER_ID};
use super::keys::Key;
use super::transaction::Rejection;
use super::write::{Attempt, Plan, Reads, Replay, Step, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// What unassigning did to one customer.
#[derive(Debug, PartialEq, Eq)]
pub enum Unassigned {
    /// Its owner was the departed member: now none.
    Done,
    /// Nothing to do: the customer is gone, has another owner, or the member is back.
    Unchanged,
}

/// Unassigning customer `id` from `owner`, who left `org`.
struct UnassignCustomer {
    id: CustomerId,
    org: OrgId,
    owner: UserId,
}

impl WritePath for UnassignCustomer {
    type Guard = super::customer_changes::Guard;
    type Outcome = Unassigned;
    type Refusal = CustomerRefusal;

    /// The record, and the member's membership: one who came back keeps their customers.
    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::items(vec![
            Key::customer(self.id),
            Key::membership(self.org, self.owner),
        ])
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Self::Guard, Unassigned, CustomerRefusal>, StoreError> {
        let current: Customer = match found.at(&Key::customer(self.id)) {
            Some(item) => record(item)?,
            None => return Ok(Plan::Done(Unassigned::Unchanged)),
        };
        let member = found.at(&Key::membership(self.org, self.owner)).is_some();
        if member || current.owner_id != Some(self.owner) {
            return Ok(Plan::Done(Unassigned::Unchanged));
        }
        let mut next = current.clone();
        next.owner_id = None;
        next.updated_at = now.timestamp();
        next.version = current.version + 1;
        Ok(Plan::Write(
            update(table, &current, &next, false),
            Unassigned::Done,
        ))
    }

    /// Whatever failed (the record moved on), read again: the owner may have changed.
    fn decide(
        &self,
        _rejection: &Rejection<Self::Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<Step<Unassigned, CustomerRefusal>, StoreError> {
        Ok(Step::LookAgain)
    }

    fn replayed(&self, _answer: StoredAnswer, _seen: &Found) -> Replay<Unassigned> {
        Replay::KeyReused
    }
}

/// The customers of `org` that `owner` owns, a page at a time.
const PAGE: usize = 100;

impl Store {
    /// Unassigns every customer of `org` that `owner` owns, `owner` having left: pages of
    /// the owner's filter entries (strongly consistent `Query`), each customer then read
    /// with the membership and written alone. Returns how many were unassigned. Idempotent:
    /// a second run finds the entries gone (they moved to `NONE`) or each customer changed.
    pub async fn unassign_departed_owner(
        &self,
        org: OrgId,
        owner: UserId,
    ) -> Result<usize, WriteError<CustomerRefusal>> {
        let facet = crate::domain::Facet::Owner(Some(owner));
        let mut unassigned = 0;
        let mut after: Option<String> = None;
        loop {
            let pk = Key::customer_facet_of(org, &facet);
            let (entries, more) = self.range(pk, None, true, PAGE, after.take()).await?;
            for entry in &entries {
                let id: CustomerId = field(entry, CUSTOMER_ID)?;
                let path = UnassignCustomer { id, org, owner };
                if self.write(&path, None).await? == Unassigned::Done {
                    unassigned += 1;
                }
            }
            match (more, entries.last().and_then(Key::of_item)) {
                (true, Some(last)) => after = Some(last.sk),
                _ => return Ok(unassigned),
            }
        }
    }
}

//! Renaming an organization. Its name is copied where it is read without another call: on
//! each member's `USER_ORG` item (`/users/me`) and on each pending invitation's `INVITEE`
//! item (the invitee's `/users/me`). A rename reads the organization's whole partition (the
//! organization, its memberships, its invitations: one `Query`) and rewrites the name and
//! every copy in one transaction, each on condition that it still stands; a member who joined
//! meanwhile makes it read again. Joining, for its part, deletes the invitation's `INVITEE`
//! item on condition that it still carries the name joining read, so no copy is left stale
//! whichever comes first.
//!
//! One transaction holds 100 items, so an organization with more than
//! [`MAX_RENAMED_COPIES`] members and pending invitations cannot be renamed atomically: it
//! is refused (`TooLarge`), not renamed in part.

use crate::auth::{Action, Authorized};
use crate::domain::{Invitation, Membership, Now, OrgId, OrgName, Organization, UserId};

use super::idempotency::StoredAnswer;
use super::items::{record, string, Entity, ID, NAME, ORGANIZATION};
use super::keys::Key;
use super::members::{admit, hold_caller, Denied};
use super::transaction::{Condition, Path, Transaction, Update};
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// The organization item, the caller's `ConditionCheck`, the idempotency record and the
/// copies: at most 100 in all.
pub const MAX_RENAMED_COPIES: usize = 97;

#[derive(Debug)]
pub enum Renamed {
    Done(Box<Organization>),
    Replayed(StoredAnswer),
}

#[derive(Debug, PartialEq, Eq)]
pub enum RenameRefusal {
    NotFound,
    /// The caller's membership, as stored, does not allow it.
    Denied(Denied),
    /// More copies of the name than one transaction can hold.
    TooLarge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// The organization at the name read.
    Name,
    /// A copy that must still stand.
    Copy,
    /// The caller's own `MEMBER` item, at the role read.
    Caller,
}

struct Rename<'a> {
    org: OrgId,
    name: &'a OrgName,
    caller: UserId,
}

/// The organization's members and pending invitations, among its partition as read: each
/// holds a copy of its name.
fn copies(found: &Found, now: Now) -> Result<(Vec<Membership>, Vec<Invitation>), StoreError> {
    let (mut members, mut invited) = (Vec::new(), Vec::new());
    for item in found.iter() {
        match Entity::of(item) {
            Some(Entity::Member) => members.push(record::<Membership>(item)?),
            Some(Entity::Invitation) => invited.push(record::<Invitation>(item)?),
            _ => {}
        }
    }
    invited.retain(|i| i.pending(now.unix()));
    Ok((members, invited))
}

impl WritePath for Rename<'_> {
    type Guard = Guard;
    type Outcome = Renamed;
    type Refusal = RenameRefusal;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads {
            partition: Some(Key::organization(self.org).pk),
            ..Reads::default()
        }
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, Renamed, RenameRefusal>, StoreError> {
        // The partition holds the caller's own membership: their role as stored decides.
        let role = match admit(found, self.org, self.caller, Action::RenameOrganization)? {
            Ok(role) => role,
            Err(denied) => return Ok(Plan::Refuse(RenameRefusal::Denied(denied))),
        };
        let Some(item) = found.at(&Key::organization(self.org)) else {
            return Ok(Plan::Refuse(RenameRefusal::NotFound));
        };
        let current: Organization = record(item)?;
        let renamed = Organization {
            name: self.name.clone(),
            ..current.clone()
        };
        if current.name == *self.name {
            return Ok(Plan::Done(Renamed::Done(Box::new(renamed))));
        }
        let (members, invited) = copies(found, now)?;
        if members.len() + invited.len() > MAX_RENAMED_COPIES {
            return Ok(Plan::Refuse(RenameRefusal::TooLarge));
        }
        let mut tx = Transaction::new(table);
        let named = |path: &[&str]| Update::new().set(Path::of(path), string(self.name.as_str()));
        let (flat, nested) = (named(&[NAME]), named(&[ORGANIZATION, NAME]));
        let at_name = Condition::equals(NAME, string(current.name.as_str()));
        tx.update(
            Guard::Name,
            &Key::organization(self.org),
            &flat,
            Some(&at_name),
        );
        let standing = Condition::item_exists();
        for member in &members {
            let side = Key::user_organization(member.user_id, self.org);
            tx.update(Guard::Copy, &side, &flat, Some(&standing));
        }
        for invitation in &invited {
            let side = Key::invitee(self.org, &invitation.email);
            let ours = Condition::equals(ID, string(&invitation.id.to_string()));
            tx.update(Guard::Copy, &side, &nested, Some(&ours));
        }
        hold_caller(&mut tx, Guard::Caller, (self.org, self.caller), role);
        Ok(Plan::Write(tx, Renamed::Done(Box::new(renamed))))
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<Renamed> {
        Replay::Outcome(Renamed::Replayed(answer))
    }
}

impl Store {
    /// Renames `org` and every copy of its name, when `caller`'s stored role allows it: one
    /// `Query` of its partition (which holds the caller's membership), then one
    /// `TransactWriteItems` of the organization, its copies (one per member and pending
    /// invitation) and the caller's `ConditionCheck`.
    pub async fn rename_organization(
        &self,
        caller: &Authorized,
        name: &OrgName,
        idempotent: Option<&Idempotent<'_, Renamed>>,
    ) -> Result<Renamed, WriteError<RenameRefusal>> {
        let (org, caller) = (caller.organization(), caller.user());
        self.write(&Rename { org, name, caller }, idempotent).await
    }
}

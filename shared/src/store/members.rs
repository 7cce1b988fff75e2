//! An organization's members: joining, listing, changing a role, leaving or being removed.
//!
//! A membership is kept in five items that change together, in one transaction: the
//! organization's `MEMBER` item, the user's `USER_ORG` item (what `/users/me` lists), and the
//! role list on the user's three log-in items (user, username, email), which log-in and
//! refresh copy into access tokens. The role list is written only at the value that was read,
//! so two changes to one user's memberships serialize.
//!
//! **At least one owner.** The organization item counts its owners (`owners`; absent on
//! organizations from before teams, which had exactly one). A write that takes an owner away
//! decrements it on condition that it stays at least 1, so two owners demoting each other
//! at once cannot leave none: both name the organization item, and the second reads the
//! count again. Only writes that add or take away an owner name that item; customer routes
//! and joining as an admin or employee never do.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::auth::{permits, Action, Authorized};
use crate::domain::{
    Member, MemberNames, Membership, Now, OrgId, OrgMembership, OrgName, OrgRole, ProfileType,
    Role, Timestamp, User, UserId, UserProfile,
};

use super::idempotency::StoredAnswer;
use super::items::{
    attribute, field, item, number, record, string, Entity, EMAIL_VERIFIED, FIRST_NAME, LAST_NAME,
    MEMBERSHIPS, ORGANIZATION, OWNERS, ROLE, UPDATED_AT,
};
use super::keys::{Key, PK, SK};
use super::reads::page_of;
use super::transaction::{Compare, Condition, Operand, Transaction, Update};
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// What to do to a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    Role(Role),
    Remove,
}

#[derive(Debug)]
pub enum MemberChanged {
    Updated(Member),
    Removed,
    /// The request's `Idempotency-Key` was used for this very request before.
    Replayed(StoredAnswer),
}

#[derive(Debug, PartialEq, Eq)]
pub enum MemberRefusal {
    /// The user is not a member (or the organization does not exist).
    NotFound,
    /// Already a member: joining twice.
    AlreadyMember,
    /// The caller's membership, as stored, does not allow what this change needs.
    Denied(Denied),
    /// The change would leave the organization without an owner.
    LastOwner,
}

/// Why a write that grants, changes or removes membership refuses its caller: decided from
/// the caller's `MEMBER` item as stored, never from the roles their token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// Not a member (any more), or no such organization: the stranger's answer.
    NotMember,
    /// A member whose stored role does not allow it.
    Lacks(Action),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Guard {
    /// The caller's own `MEMBER` item, still at the role their permission was decided on.
    Caller,
    /// The `MEMBER` item as it was read (or absent, when joining).
    Member,
    /// The user's role list as it was read.
    Roles,
    /// The owner count stays at least 1.
    Owners,
    /// An invitation (and its invitee's side) still pending, when accepting it.
    Invitation,
    /// The user's employee profile, pointed at the organization they join, or away from the
    /// one they leave.
    Profile,
}

/// The caller's role in `org` as stored: their `MEMBER` item among `found` (read with at
/// least its `role`). Pure.
pub(super) fn stored_role(
    found: &Found,
    org: OrgId,
    caller: UserId,
) -> Result<Option<Role>, StoreError> {
    found
        .at(&Key::membership(org, caller))
        .map(|item| field::<Role>(item, "role"))
        .transpose()
}

/// The caller's stored role in `org`, when it permits `action`. Pure.
pub(super) fn admit(
    found: &Found,
    org: OrgId,
    caller: UserId,
    action: Action,
) -> Result<Result<Role, Denied>, StoreError> {
    Ok(match stored_role(found, org, caller)? {
        None => Err(Denied::NotMember),
        Some(role) if permits(role, action) => Ok(role),
        Some(_) => Err(Denied::Lacks(action)),
    })
}

/// The transaction commits only while the caller's `MEMBER` item still holds `role`: a
/// `ConditionCheck`, so a caller removed or demoted meanwhile writes nothing.
pub(super) fn hold_caller<G: Copy + PartialEq>(
    tx: &mut Transaction<G>,
    guard: G,
    (org, caller): (OrgId, UserId),
    role: Role,
) {
    let at_role = Condition::equals(ROLE, attribute(&role));
    tx.check(guard, &Key::membership(org, caller), &at_role);
}

/// Points `user`'s employee profile at `to` (`None`: at no organization), on condition that
/// it points at `from` as read (`None`: whatever it points at, as long as it exists).
pub(super) fn point_profile(
    tx: &mut Transaction<Guard>,
    user: UserId,
    (from, to): (Option<OrgId>, Option<OrgId>),
    at: &Timestamp,
) {
    let update = Update::new().set(UPDATED_AT, attribute(at));
    let update = match to {
        Some(to) => update.set(ORGANIZATION, attribute(&to)),
        None => update.remove(ORGANIZATION),
    };
    let condition = match from {
        Some(from) => Condition::equals(ORGANIZATION, attribute(&from)),
        None => Condition::item_exists(),
    };
    let key = Key::profile(user, ProfileType::Employee);
    tx.update(Guard::Profile, &key, &update, Some(&condition));
}

/// One page of an organization's members, by user id.
#[derive(Debug)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// The last member on this page, when another page follows.
    pub last: Option<UserId>,
}

/// What a membership write found: the organization, the user and their role list, and the
/// membership, if any.
pub(super) struct Current {
    pub org_name: OrgName,
    owners: u64,
    pub user: User,
    roles: Vec<OrgRole>,
    pub membership: Option<Membership>,
}

impl Current {
    /// The user's roles once their membership of `org` is `after`.
    pub(super) fn roles_after(&self, org: OrgId, after: Option<&Membership>) -> Vec<OrgRole> {
        let others = self.roles.iter().filter(|r| r.organization != org).copied();
        others.chain(after.map(Membership::grant)).collect()
    }
}

pub(super) fn member_reads(org: OrgId, user: UserId) -> Reads {
    Reads::items(vec![
        Key::organization(org),
        Key::user(user),
        Key::membership(org, user),
    ])
}

/// `None` when the organization or the user does not exist.
pub(super) fn current(
    found: &Found,
    org: OrgId,
    user: UserId,
) -> Result<Option<Current>, StoreError> {
    let (Some(org_item), Some(user_item)) = (
        found.at(&Key::organization(org)),
        found.at(&Key::user(user)),
    ) else {
        return Ok(None);
    };
    let owners = match org_item.get(OWNERS) {
        Some(_) => field(org_item, OWNERS)?,
        None => 1,
    };
    Ok(Some(Current {
        org_name: field(org_item, "name")?,
        owners,
        user: record(user_item)?,
        roles: field(user_item, MEMBERSHIPS)?,
        membership: found
            .at(&Key::membership(org, user))
            .map(record)
            .transpose()?,
    }))
}

/// The transaction that moves `user`'s membership of `org` from `before` to `after` (either
/// may be absent) in every item that keeps it. Pure.
pub(super) fn membership_move(
    table: &str,
    current: &Current,
    org: OrgId,
    after: Option<&Membership>,
) -> Transaction<Guard> {
    let mut tx = Transaction::new(table);
    both_sides(&mut tx, current, org, after);
    role_lists(&mut tx, current, &current.roles_after(org, after));
    let before = current.membership.as_ref();
    let was_owner = before.is_some_and(|m| m.role == Role::Owner);
    let is_owner = after.is_some_and(|m| m.role == Role::Owner);
    if was_owner != is_owner {
        owner_count(&mut tx, org, is_owner);
    }
    tx
}

/// The organization's `MEMBER` item, at the role read, and the user's `USER_ORG`.
fn both_sides(
    tx: &mut Transaction<Guard>,
    current: &Current,
    org: OrgId,
    after: Option<&Membership>,
) {
    let user = current.user.id;
    let before = current.membership.as_ref();
    let (member_key, side_key) = (
        Key::membership(org, user),
        Key::user_organization(user, org),
    );
    let as_read = before.map(|m| Condition::equals(ROLE, attribute(&m.role)));
    let Some(membership) = after else {
        tx.delete(Guard::Member, &member_key, as_read.as_ref());
        tx.delete(Guard::Member, &side_key, None);
        return;
    };
    let member = item(Entity::Member, &member_key, membership);
    match &as_read {
        Some(condition) => tx.replace(Guard::Member, member, Some(condition)),
        None => tx.create(Guard::Member, member),
    };
    if before.is_some() {
        // A role change leaves the side's name alone: a rename may have changed it.
        let role = Update::new().set(ROLE, attribute(&membership.role));
        tx.update(
            Guard::Member,
            &side_key,
            &role,
            Some(&Condition::item_exists()),
        );
    } else {
        let side = OrgMembership {
            id: org,
            name: current.org_name.clone(),
            role: membership.role,
        };
        tx.create(Guard::Member, item(Entity::UserOrg, &side_key, &side));
    }
}

/// The user's roles on their three log-in items, written only over the list read.
///
/// The user item also on condition that what memberships copy of it (`MemberNames`) is as
/// read: a copy made here is never older than the user, whatever commits meanwhile.
fn role_lists(tx: &mut Transaction<Guard>, current: &Current, roles: &[OrgRole]) {
    let user = &current.user;
    let update = Update::new().set(MEMBERSHIPS, attribute(&roles));
    let roles_as_read = Condition::equals(MEMBERSHIPS, attribute(&current.roles));
    for key in Key::login_items(user) {
        let as_read = if key == Key::user(user.id) {
            roles_as_read.clone().and(copied_as_read(user))
        } else {
            roles_as_read.clone()
        };
        tx.update(Guard::Roles, &key, &update, Some(&as_read));
    }
}

/// The user item's fields that `MemberNames` copies hold what `user` says.
fn copied_as_read(user: &User) -> Condition {
    let verified = if user.email_verified {
        Condition::equals(EMAIL_VERIFIED, AttributeValue::Bool(true))
    } else {
        Condition::differs(EMAIL_VERIFIED, AttributeValue::Bool(true))
    };
    Condition::equals(FIRST_NAME, string(user.first_name.as_str()))
        .and(Condition::equals(
            LAST_NAME,
            string(user.last_name.as_str()),
        ))
        .and(verified)
}

/// One owner more, or one fewer on condition that one stays.
fn owner_count(tx: &mut Transaction<Guard>, org: OrgId, more: bool) {
    // Absent on organizations from before teams, which had one owner.
    let count = Box::new(Operand::OrElse(OWNERS.into(), number(1)));
    let (count, condition) = if more {
        (Operand::Plus(count, number(1)), Condition::item_exists())
    } else {
        let stays = Condition::compare(OWNERS, Compare::Greater, number(1));
        (Operand::Minus(count, number(1)), stays)
    };
    let update = Update::new().set_to(OWNERS, count);
    tx.update(
        Guard::Owners,
        &Key::organization(org),
        &update,
        Some(&condition),
    );
}

/// A member's role changed, or the member removed, by `caller`: allowed or not by the
/// caller's membership as stored, and committed only while it stands.
struct ChangeMember {
    org: OrgId,
    target: UserId,
    change: MemberChange,
    caller: UserId,
}

impl WritePath for ChangeMember {
    type Guard = Guard;
    type Outcome = MemberChanged;
    type Refusal = MemberRefusal;

    /// Joining's reads for the member, the caller's own membership (the same item when they
    /// change themselves) and, for a removal, the member's employee profile.
    fn reads(&self, _attempt: &Attempt) -> Reads {
        let mut reads = member_reads(self.org, self.target);
        if self.caller != self.target {
            reads.keys.push(Key::membership(self.org, self.caller));
        }
        if self.change == MemberChange::Remove {
            reads
                .keys
                .push(Key::profile(self.target, ProfileType::Employee));
        }
        reads
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, MemberChanged, MemberRefusal>, StoreError> {
        let Some(caller_role) = stored_role(found, self.org, self.caller)? else {
            return Ok(Plan::Refuse(MemberRefusal::Denied(Denied::NotMember)));
        };
        let current = current(found, self.org, self.target)?;
        let Some((current, membership)) =
            current.and_then(|c| c.membership.clone().map(|m| (c, m)))
        else {
            return Ok(Plan::Refuse(MemberRefusal::NotFound));
        };
        let action = match self.change {
            MemberChange::Role(role) => Action::to_change_role(membership.role, role),
            MemberChange::Remove => Action::to_remove(membership.role, self.caller == self.target),
        };
        if !permits(caller_role, action) {
            return Ok(Plan::Refuse(MemberRefusal::Denied(Denied::Lacks(action))));
        }
        let after = match self.change {
            MemberChange::Role(role) => Some(Membership {
                role,
                member: Some(MemberNames::of(&current.user)),
                ..membership.clone()
            }),
            MemberChange::Remove => None,
        };
        let keeps_owner = after.as_ref().is_some_and(|m| m.role == Role::Owner);
        if membership.role == Role::Owner && !keeps_owner && current.owners <= 1 {
            return Ok(Plan::Refuse(MemberRefusal::LastOwner));
        }
        let outcome = match &after {
            Some(after) if after.role == membership.role => {
                return Ok(Plan::Done(MemberChanged::Updated(listed(
                    after,
                    &current.user,
                ))));
            }
            Some(after) => MemberChanged::Updated(listed(after, &current.user)),
            None => MemberChanged::Removed,
        };
        let mut tx = membership_move(table, &current, self.org, after.as_ref());
        // Changing themselves, the member item's own condition holds the caller's role.
        if self.caller != self.target {
            hold_caller(&mut tx, Guard::Caller, (self.org, self.caller), caller_role);
        }
        if after.is_none() {
            self.profile_away(&mut tx, found, &current, &now.timestamp())?;
        }
        Ok(Plan::Write(tx, outcome))
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<MemberChanged> {
        Replay::Outcome(MemberChanged::Replayed(answer))
    }
}

impl ChangeMember {
    /// A removed member's employee profile, if it points at the organization, points at the
    /// oldest organization they still belong to, or at none.
    fn profile_away(
        &self,
        tx: &mut Transaction<Guard>,
        found: &Found,
        current: &Current,
        at: &Timestamp,
    ) -> Result<(), StoreError> {
        let key = Key::profile(self.target, ProfileType::Employee);
        let profile: Option<UserProfile> = found.at(&key).map(record).transpose()?;
        if profile.is_some_and(|p| p.organization == Some(self.org)) {
            let next = current
                .roles_after(self.org, None)
                .first()
                .map(|r| r.organization);
            point_profile(tx, self.target, (Some(self.org), next), at);
        }
        Ok(())
    }
}

pub(super) fn listed(membership: &Membership, user: &User) -> Member {
    Member::of(membership, MemberNames::of(user))
}

impl Store {
    /// Changes `target`'s role in `org`, or removes them, if the caller's stored role allows
    /// what that needs ([`Action::to_change_role`], [`Action::to_remove`]) and an owner
    /// stays: one `BatchGetItem` (the organization, the user, the membership, the caller's
    /// membership; a removal also the employee profile), then one `TransactWriteItems` of
    /// 5 items, one more for the caller's `ConditionCheck` (unless they change themselves),
    /// one more when an owner comes or goes, one more when a removal moves the profile.
    pub async fn change_member(
        &self,
        caller: &Authorized,
        target: UserId,
        change: MemberChange,
        idempotent: Option<&Idempotent<'_, MemberChanged>>,
    ) -> Result<MemberChanged, WriteError<MemberRefusal>> {
        let path = ChangeMember {
            org: caller.organization(),
            target,
            change,
            caller: caller.user(),
        };
        self.write(&path, idempotent).await
    }

    /// Repairs an employee profile that a removal from before removals moved it left pointing
    /// at `org` (`check-table --repair`): points it at the oldest organization `user` belongs
    /// to, or at none, unless it moved meanwhile or the user is a member of `org` again. One
    /// `GetItem` of the user, one `TransactWriteItems` (the profile, and a `ConditionCheck`
    /// that the membership is still absent). `false` when there was nothing to repair.
    pub async fn repair_employee_profile(
        &self,
        user: UserId,
        org: OrgId,
    ) -> Result<bool, StoreError> {
        let Some(user_item) = self.get_item(&Key::user(user)).await? else {
            return Ok(false);
        };
        let roles: Vec<OrgRole> = field(&user_item, MEMBERSHIPS)?;
        if roles.iter().any(|r| r.organization == org) {
            return Ok(false);
        }
        let next = roles.first().map(|r| r.organization);
        let mut tx = Transaction::new(&self.table);
        point_profile(&mut tx, user, (Some(org), next), &self.now().timestamp());
        let absent = Condition::item_absent();
        tx.check(Guard::Member, &Key::membership(org, user), &absent);
        match tx.commit(self).await {
            Ok(()) => Ok(true),
            Err(super::transaction::CommitError::Store(error)) => Err(error),
            Err(_) => Ok(false),
        }
    }

    /// Up to `limit` members of `org` after `after`, by user id: one strongly consistent
    /// `Query` of the organization's partition (and, only for memberships made before they
    /// carried names, one `BatchGetItem` of those users).
    pub async fn members_page(
        &self,
        member: &Authorized,
        limit: usize,
        after: Option<UserId>,
    ) -> Result<MemberPage, StoreError> {
        let org = member.organization();
        let (partition, prefix) = Key::members_of(org);
        // Rebuilt from the organization being read, never taken from the client.
        let start = after.map(|user| Key::membership(org, user).to_item());
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :member)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", AttributeValue::S(partition))
            .expression_attribute_values(":member", AttributeValue::S(prefix))
            .consistent_read(true)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let (memberships, more) = page_of::<Membership>(output.items(), limit)?;
        let members = self.with_names(memberships).await?;
        let last = more.then(|| members.last().map(|m| m.user_id)).flatten();
        Ok(MemberPage { members, last })
    }

    /// Each membership with its member's names, reading the users whose memberships lack them.
    async fn with_names(&self, memberships: Vec<Membership>) -> Result<Vec<Member>, StoreError> {
        let unnamed: Vec<Key> = memberships
            .iter()
            .filter(|m| m.member.is_none())
            .map(|m| Key::user(m.user_id))
            .collect();
        let users = if unnamed.is_empty() {
            Found::default()
        } else {
            self.get_many(&unnamed, None).await?
        };
        memberships
            .iter()
            .map(|m| {
                let names = match &m.member {
                    Some(names) => names.clone(),
                    None => {
                        let user = users.at(&Key::user(m.user_id)).ok_or_else(|| {
                            StoreError::internal("a membership of a user who does not exist")
                        })?;
                        MemberNames::of(&record::<User>(user)?)
                    }
                };
                Ok(Member::of(m, names))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::transaction::Item;
    use super::super::write::tests::now;
    use super::*;
    use crate::domain::Timestamp;

    fn user() -> User {
        User {
            id: UserId::generate(),
            username: crate::domain::Username::parse("jane").unwrap(),
            email: crate::domain::Email::parse("jane@example.com").unwrap(),
            first_name: crate::domain::PersonName::parse("Jane").unwrap(),
            last_name: crate::domain::PersonName::parse("Doe").unwrap(),
            created_at: Timestamp::now(),
            email_verified: false,
        }
    }

    fn current(user: User, org: OrgId, role: Option<Role>, owners: u64) -> Current {
        let membership = role.map(|role| Membership::new(org, &user, role, &Timestamp::now()));
        Current {
            org_name: OrgName::parse("Acme").unwrap(),
            owners,
            roles: membership.iter().map(Membership::grant).collect(),
            user,
            membership,
        }
    }

    fn guards(tx: &Transaction<Guard>) -> Vec<Guard> {
        tx.actions().filter_map(|(guard, _)| guard).collect()
    }

    #[test]
    fn a_move_names_the_member_both_sides_the_three_login_items_and_the_count_only_for_owners() {
        let org = OrgId::generate();
        let joining = current(user(), org, None, 1);
        let employee = Membership::new(org, &joining.user, Role::Employee, &Timestamp::now());
        let tx = membership_move("t", &joining, org, Some(&employee));
        assert_eq!(
            guards(&tx),
            [
                Guard::Member,
                Guard::Member,
                Guard::Roles,
                Guard::Roles,
                Guard::Roles
            ]
        );
        let owner = current(user(), org, Some(Role::Owner), 2);
        let tx = membership_move("t", &owner, org, None);
        assert_eq!(guards(&tx).last(), Some(&Guard::Owners));
        assert_eq!(guards(&tx).len(), 6);
    }

    /// A copy of the user is made from the user as read: the user item's update holds only
    /// while what the copy holds is unchanged; the two claims need not say so.
    #[test]
    fn a_membership_is_made_only_over_the_copied_fields_as_read() {
        let org = OrgId::generate();
        let joining = current(user(), org, None, 1);
        let employee = Membership::new(org, &joining.user, Role::Employee, &Timestamp::now());
        let tx = membership_move("t", &joining, org, Some(&employee));
        let conditioned_on = |key: &Key| {
            let (_, action) = tx
                .actions()
                .find(|(_, a)| a.update().is_some_and(|u| u.key() == &key.to_item()))
                .expect("an update of the item");
            let update = action.update().unwrap();
            let mut names: Vec<&str> = update
                .expression_attribute_names()
                .map(|names| names.values().map(String::as_str).collect())
                .unwrap_or_default();
            names.sort_unstable();
            names.join(" ")
        };
        let on_user = conditioned_on(&Key::user(joining.user.id));
        for field in [FIRST_NAME, LAST_NAME, EMAIL_VERIFIED, MEMBERSHIPS] {
            assert!(on_user.contains(field), "{field}: {on_user}");
        }
        let on_claim = conditioned_on(&Key::username(&joining.user.username));
        assert!(!on_claim.contains(FIRST_NAME), "{on_claim}");
    }

    #[test]
    fn the_last_owner_stays_and_every_cancellation_reads_again() {
        let org = OrgId::generate();
        let owner = current(user(), org, Some(Role::Owner), 1);
        let id = owner.user.id;
        let path = ChangeMember {
            org,
            target: id,
            change: MemberChange::Role(Role::Admin),
            caller: id,
        };
        let found = found_of(&owner, org);
        let plan = path.plan("t", &found, &Attempt::default(), now()).unwrap();
        assert!(matches!(plan, Plan::Refuse(MemberRefusal::LastOwner)));
        for (_, rejection) in super::super::write::tests::every_rejection(&[
            Guard::Member,
            Guard::Roles,
            Guard::Owners,
            Guard::Caller,
            Guard::Profile,
        ]) {
            // What was read moved on (the same member's or user's roles changed, the last
            // other owner left): read again; the plan then refuses or writes anew.
            let step = path.decide(&rejection, &Attempt::default(), now()).unwrap();
            assert!(
                matches!(step, super::super::write::Step::LookAgain),
                "{step:?}"
            );
        }
    }

    fn change(org: OrgId, target: UserId, change: MemberChange, caller: UserId) -> ChangeMember {
        ChangeMember {
            org,
            target,
            change,
            caller,
        }
    }

    /// The caller's stored membership, as the `BatchGetItem` finds it.
    fn caller_item(org: OrgId, caller: &User, role: Role) -> Item {
        let membership = Membership::new(org, caller, role, &Timestamp::now());
        item(
            Entity::Member,
            &Key::membership(org, caller.id),
            &membership,
        )
    }

    #[test]
    fn the_callers_stored_role_decides_whatever_their_token_said() {
        let org = OrgId::generate();
        let member = current(user(), org, Some(Role::Employee), 1);
        let caller = user();
        let promote = change(
            org,
            member.user.id,
            MemberChange::Role(Role::Admin),
            caller.id,
        );
        let remove = change(org, member.user.id, MemberChange::Remove, caller.id);
        // No membership stored: removed since their token was issued.
        let found = found_of(&member, org);
        for path in [&promote, &remove] {
            let plan = path.plan("t", &found, &Attempt::default(), now()).unwrap();
            assert!(matches!(
                plan,
                Plan::Refuse(MemberRefusal::Denied(Denied::NotMember))
            ));
        }
        // Demoted to employee since.
        let mut items: Vec<Item> = found.iter().cloned().collect();
        items.push(caller_item(org, &caller, Role::Employee));
        let plan = promote
            .plan("t", &Found::new(items), &Attempt::default(), now())
            .unwrap();
        assert!(matches!(
            plan,
            Plan::Refuse(MemberRefusal::Denied(Denied::Lacks(Action::ChangeRoles)))
        ));
        // An admin as stored: the write names their membership, at that role.
        let mut items: Vec<Item> = found.iter().cloned().collect();
        items.push(caller_item(org, &caller, Role::Admin));
        let Plan::Write(tx, _) = promote
            .plan("t", &Found::new(items), &Attempt::default(), now())
            .unwrap()
        else {
            panic!("an admin promotes an employee");
        };
        assert_eq!(guards(&tx).last(), Some(&Guard::Caller));
        let (_, check) = tx.actions().last().unwrap();
        let check = check.condition_check().expect("a ConditionCheck");
        assert_eq!(
            check.key()["sk"],
            Key::membership(org, caller.id).to_item()["sk"]
        );
    }

    #[test]
    fn a_removal_points_the_profile_away_and_a_member_changing_themselves_is_not_checked_twice() {
        let org = OrgId::generate();
        let mut member = current(user(), org, Some(Role::Admin), 1);
        let elsewhere = OrgId::generate();
        member.roles.insert(
            0,
            OrgRole {
                organization: elsewhere,
                role: Role::Owner,
            },
        );
        let id = member.user.id;
        let profile = UserProfile::new(id, ProfileType::Employee, org, &Timestamp::now());
        let mut items: Vec<Item> = found_of(&member, org).iter().cloned().collect();
        let profile_key = Key::profile(id, ProfileType::Employee);
        items.push(item(Entity::Profile, &profile_key, &profile));
        let leave = change(org, id, MemberChange::Remove, id);
        let Plan::Write(tx, MemberChanged::Removed) = leave
            .plan("t", &Found::new(items), &Attempt::default(), now())
            .unwrap()
        else {
            panic!("an admin leaves");
        };
        let all = guards(&tx);
        assert!(!all.contains(&Guard::Caller), "{all:?}");
        assert_eq!(all.last(), Some(&Guard::Profile));
        let (_, moved) = tx.actions().last().unwrap();
        let moved = moved.update().unwrap();
        // SET updated_at, organization = the oldest other organization, on condition that
        // it points at the one left.
        assert_eq!(moved.update_expression(), "SET #n0 = :v0, #n1 = :v1");
        assert_eq!(moved.condition_expression(), Some("#n1 = :v2"));
        let names = moved.expression_attribute_names().unwrap();
        assert_eq!(names["#n1"], ORGANIZATION);
        let values = moved.expression_attribute_values().unwrap();
        assert_eq!(values[":v1"], attribute(&elsewhere));
        assert_eq!(values[":v2"], attribute(&org));
    }

    /// The items a `BatchGetItem` would have found for `current`.
    fn found_of(current: &Current, org: OrgId) -> Found {
        let mut org_item = Key::organization(org).to_item();
        org_item.insert("name".to_owned(), attribute(&current.org_name));
        org_item.insert(OWNERS.to_owned(), number(current.owners));
        let mut user_item = item(Entity::User, &Key::user(current.user.id), &current.user);
        user_item.insert(MEMBERSHIPS.to_owned(), attribute(&current.roles));
        let mut items = vec![org_item, user_item];
        items.extend(
            current
                .membership
                .as_ref()
                .map(|m| item(Entity::Member, &Key::membership(org, current.user.id), m)),
        );
        Found::new(items)
    }
}

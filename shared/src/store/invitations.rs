//! Invitations: made, listed and revoked by an organization's owners and admins, accepted by
//! the invitee.
//!
//! An invitation is two items written and deleted together: the `INVITATION` in the
//! organization's partition (listed by it, found by the token's ids) and the `INVITEE` item
//! beside the email's claim, whose key is the (organization, email) pair, so at most one
//! invitation per pair is pending, and which `/users/me` lists for the email. Accepting is
//! joining ([`super::members`]) plus deleting both, on condition that they are still the
//! invitation's and pending, plus pointing the user's employee profile at the organization,
//! in one transaction. No transaction here names the organization item.

use crate::auth::{Action, Authorized, InvitationToken};
use crate::domain::{
    digests_equal, Email, Invitation, InvitationId, InvitationNotice, Mail, MailId, Membership,
    Now, OrgId, OrgName, OrgRef, OrgRole, Role, UserId,
};

use super::idempotency::StoredAnswer;
use super::items::{
    field, item, number, record, string, Entity, EXPIRES_AT, ID, MEMBERSHIPS, NAME, ORGANIZATION,
    ROLE,
};
use super::keys::Key;
use super::members::{self, admit, hold_caller, point_profile, Denied, Guard};
use super::outbox::mail_item;
use super::transaction::{Compare, Condition, Item, Path, Transaction};
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, WriteError, WritePath};
use super::{Found, Store, StoreError};

#[derive(Debug, PartialEq, Eq)]
pub enum InvitationRefusal {
    /// No such organization; or, revoking or accepting, no such pending invitation (unknown,
    /// expired, revoked and used alike).
    NotFound,
    /// A pending invitation for that email exists.
    Pending,
    /// The email is a member's.
    Member,
    /// Accepting: the caller's email is not the invitation's.
    NotYours,
    /// Accepting: the caller's email is the invitation's, but not verified. Whoever signed up
    /// first with an address must prove they read its mail before they join on its behalf.
    Unverified,
    /// The inviter's or revoker's membership, as stored, does not allow it.
    Denied(Denied),
}

#[derive(Debug)]
pub enum Invited {
    New(Box<Invitation>),
    /// The request's `Idempotency-Key` was used for this very request before.
    Replayed(StoredAnswer),
}

#[derive(Debug)]
pub enum Revoked {
    Done,
    Replayed(StoredAnswer),
}

#[derive(Debug)]
pub enum Accepted {
    Joined {
        organization: OrgRef,
        role: Role,
        /// The user's roles now, for their new access token.
        roles: Vec<OrgRole>,
    },
    /// The first answer, and the user's roles as stored now (read in the same call): what a
    /// replay's token carries, never the role the first answer gave.
    Replayed {
        answer: StoredAnswer,
        roles: Vec<OrgRole>,
    },
}

/// "Still pending": the item exists and has not expired.
fn pending_at(now: u64) -> Condition {
    Condition::item_exists().and(Condition::compare(
        EXPIRES_AT,
        Compare::Greater,
        number(now),
    ))
}

/// The invitee's side, made in the same transaction as its invitation.
/// Its `expires_at` is the invitation's, so TTL removes both alike.
fn invitee_item(invitation: &Invitation, notice: &InvitationNotice) -> Item {
    let key = Key::invitee(invitation.organization, &invitation.email);
    item(Entity::Invitee, &key, notice)
}

/// Deletes both items of `invitation`, each on condition that it is still this one's; when
/// joining, the invitee side also on condition that the organization's name is still the one
/// read (`joining_as`): a rename updates that side, so a membership never keeps a stale name.
fn delete_invitation(
    tx: &mut Transaction<Guard>,
    invitation: &Invitation,
    now: u64,
    joining_as: Option<&crate::domain::OrgName>,
) {
    let key = Key::invitation(invitation.organization, invitation.id);
    tx.delete(Guard::Invitation, &key, Some(&pending_at(now)));
    let side = Key::invitee(invitation.organization, &invitation.email);
    let mut ours = Condition::equals(ID, string(&invitation.id.to_string()));
    if let Some(name) = joining_as {
        let named = Path::of(&[ORGANIZATION, NAME]);
        ours = ours.and(Condition::equals(named, string(name.as_str())));
    }
    tx.delete(Guard::Invitation, &side, Some(&ours));
}

/// The pending invitation at `key` among `found`, if any.
fn pending(found: &Found, key: &Key, now: u64) -> Result<Option<Invitation>, StoreError> {
    let invitation: Option<Invitation> = found.at(key).map(record).transpose()?;
    Ok(invitation.filter(|i| i.pending(now)))
}

/// Inviting `invitation.email` into its organization.
struct Invite<'a> {
    invitation: &'a Invitation,
    /// The invitee's mail, put in the outbox with the invitation.
    mail: MailId,
    /// Where the mail's link accepts (the token in it).
    link: &'a str,
}

impl WritePath for Invite<'_> {
    type Guard = Guard;
    type Outcome = Invited;
    type Refusal = InvitationRefusal;

    /// The organization (its name), the email's claim (its user's roles), the invitee's
    /// side (a pending invitation) and the inviter's own membership (their stored role).
    fn reads(&self, _attempt: &Attempt) -> Reads {
        let i = self.invitation;
        Reads {
            keys: vec![
                Key::organization(i.organization),
                Key::user_email(&i.email),
                Key::invitee(i.organization, &i.email),
                Key::membership(i.organization, i.invited_by),
            ],
            attributes: Some(vec![NAME, MEMBERSHIPS, EXPIRES_AT, ROLE]),
            partition: None,
        }
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, Invited, InvitationRefusal>, StoreError> {
        let i = self.invitation;
        let needs = match i.role {
            Role::Admin => Action::InviteAdmins,
            _ => Action::InviteEmployees,
        };
        let inviter = match admit(found, i.organization, i.invited_by, needs)? {
            Ok(role) => role,
            Err(denied) => return Ok(Plan::Refuse(InvitationRefusal::Denied(denied))),
        };
        let Some(org) = found.at(&Key::organization(i.organization)) else {
            return Ok(Plan::Refuse(InvitationRefusal::NotFound));
        };
        if let Some(claim) = found.at(&Key::user_email(&i.email)) {
            let roles: Vec<OrgRole> = field(claim, MEMBERSHIPS)?;
            if roles.iter().any(|r| r.organization == i.organization) {
                return Ok(Plan::Refuse(InvitationRefusal::Member));
            }
        }
        let side = found.at(&Key::invitee(i.organization, &i.email));
        let expires = |item: &Item| field::<u64>(item, EXPIRES_AT);
        if side
            .map(expires)
            .transpose()?
            .is_some_and(|at| now.unix() < at)
        {
            return Ok(Plan::Refuse(InvitationRefusal::Pending));
        }
        let name: OrgName = field(org, NAME)?;
        let mail = Mail::invitation(i, &name, self.link);
        let notice = InvitationNotice::of(i, name);
        let mut tx = Transaction::new(table);
        tx.create(Guard::Invitation, mail_item(self.mail, &mail, now));
        let key = Key::invitation(i.organization, i.id);
        tx.create(Guard::Invitation, item(Entity::Invitation, &key, i));
        // An expired invitation's side may still stand (TTL is late): it is replaced.
        let expired = Condition::compare(EXPIRES_AT, Compare::AtMost, number(now.unix()));
        let gone = Condition::item_absent().or(expired);
        tx.replace(Guard::Invitation, invitee_item(i, &notice), Some(&gone));
        hold_caller(
            &mut tx,
            Guard::Caller,
            (i.organization, i.invited_by),
            inviter,
        );
        Ok(Plan::Write(tx, Invited::New(Box::new(i.clone()))))
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<Invited> {
        Replay::Outcome(Invited::Replayed(answer))
    }
}

/// `caller` revoking invitation `id` of `org`.
struct Revoke {
    org: OrgId,
    id: InvitationId,
    caller: UserId,
}

impl WritePath for Revoke {
    type Guard = Guard;
    type Outcome = Revoked;
    type Refusal = InvitationRefusal;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::items(vec![
            Key::invitation(self.org, self.id),
            Key::membership(self.org, self.caller),
        ])
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, Revoked, InvitationRefusal>, StoreError> {
        let revoker = match admit(found, self.org, self.caller, Action::RevokeInvitations)? {
            Ok(role) => role,
            Err(denied) => return Ok(Plan::Refuse(InvitationRefusal::Denied(denied))),
        };
        let now = now.unix();
        let Some(invitation) = pending(found, &Key::invitation(self.org, self.id), now)? else {
            return Ok(Plan::Refuse(InvitationRefusal::NotFound));
        };
        let mut tx = Transaction::new(table);
        delete_invitation(&mut tx, &invitation, now, None);
        hold_caller(&mut tx, Guard::Caller, (self.org, self.caller), revoker);
        Ok(Plan::Write(tx, Revoked::Done))
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<Revoked> {
        Replay::Outcome(Revoked::Replayed(answer))
    }
}

/// `user` accepting the invitation `token` stands for.
struct Accept<'a> {
    token: &'a InvitationToken,
    user: UserId,
}

impl WritePath for Accept<'_> {
    type Guard = Guard;
    type Outcome = Accepted;
    type Refusal = InvitationRefusal;

    /// Joining's reads (the organization, the user, a membership), and the invitation.
    fn reads(&self, _attempt: &Attempt) -> Reads {
        let mut reads = members::member_reads(self.token.organization, self.user);
        reads.keys.push(Key::invitation(
            self.token.organization,
            self.token.invitation,
        ));
        reads
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, Accepted, InvitationRefusal>, StoreError> {
        let (org, joined_at, now) = (self.token.organization, now.timestamp(), now.unix());
        let key = Key::invitation(org, self.token.invitation);
        let invitation = pending(found, &key, now)?
            .filter(|i| digests_equal(&i.token_digest, &self.token.digest()));
        let (Some(invitation), Some(current)) =
            (invitation, members::current(found, org, self.user)?)
        else {
            return Ok(Plan::Refuse(InvitationRefusal::NotFound));
        };
        if !invitation.is_for(&current.user.email) {
            return Ok(Plan::Refuse(InvitationRefusal::NotYours));
        }
        if !current.user.email_verified {
            return Ok(Plan::Refuse(InvitationRefusal::Unverified));
        }
        if current.membership.is_some() {
            return Ok(Plan::Refuse(InvitationRefusal::Member));
        }
        let membership = Membership::new(org, &current.user, invitation.role, &joined_at);
        let mut tx = members::membership_move(table, &current, org, Some(&membership));
        delete_invitation(&mut tx, &invitation, now, Some(&current.org_name));
        point_profile(&mut tx, self.user, (None, Some(org)), &joined_at);
        let accepted = Accepted::Joined {
            organization: OrgRef {
                id: org,
                name: current.org_name.clone(),
            },
            role: invitation.role,
            roles: current.roles_after(org, Some(&membership)),
        };
        Ok(Plan::Write(tx, accepted))
    }

    /// The user's roles as their user item says now: read with the record, or returned by
    /// the cancellation when this very acceptance committed meanwhile.
    fn replayed(&self, answer: StoredAnswer, seen: &Found) -> Replay<Accepted> {
        let roles = seen
            .at(&Key::user(self.user))
            .map(|user| field::<Vec<OrgRole>>(user, MEMBERSHIPS));
        match roles {
            Some(Ok(roles)) => Replay::Outcome(Accepted::Replayed { answer, roles }),
            Some(Err(_)) | None => Replay::ReadFirst,
        }
    }
}

impl Store {
    /// Invites `invitation.email`, when the inviter's stored role allows inviting that role,
    /// unless it is a member's or has a pending invitation: one `BatchGetItem`, then one
    /// `TransactWriteItems` of the invitation, its invitee side, the invitee's mail (the
    /// outbox; `link` accepts) and the inviter's `ConditionCheck`.
    pub async fn invite(
        &self,
        invitation: &Invitation,
        link: &str,
        idempotent: Option<&Idempotent<'_, Invited>>,
    ) -> Result<Invited, WriteError<InvitationRefusal>> {
        let mail = MailId::generate();
        let path = Invite {
            invitation,
            mail,
            link,
        };
        self.write(&path, idempotent).await
    }

    /// Revokes a pending invitation, when `caller`'s stored role allows it: one
    /// `BatchGetItem` (the invitation, the caller's membership), one `TransactWriteItems`
    /// (the invitation's two items, the caller's `ConditionCheck`).
    pub async fn revoke_invitation(
        &self,
        caller: &Authorized,
        id: InvitationId,
        idempotent: Option<&Idempotent<'_, Revoked>>,
    ) -> Result<Revoked, WriteError<InvitationRefusal>> {
        let (org, caller) = (caller.organization(), caller.user());
        self.write(&Revoke { org, id, caller }, idempotent).await
    }

    /// Accepts the invitation `token` stands for, as `user`: one `BatchGetItem`, then one
    /// `TransactWriteItems` of 8 items (joining's 5, the invitation's 2, the profile). A
    /// replay answers the user's roles as stored now, from the same `BatchGetItem`.
    pub async fn accept_invitation(
        &self,
        token: &InvitationToken,
        user: UserId,
        idempotent: Option<&Idempotent<'_, Accepted>>,
    ) -> Result<Accepted, WriteError<InvitationRefusal>> {
        self.write(&Accept { token, user }, idempotent).await
    }

    /// The pending invitations of `org`, oldest first: one strongly consistent `Query` of its
    /// partition (paged by DynamoDB past 1 MB).
    pub async fn invitations(&self, member: &Authorized) -> Result<Vec<Invitation>, StoreError> {
        let now = self.now().unix();
        let items = self
            .query_partition_prefix(Key::invitations_of(member.organization()))
            .await?;
        let all = items
            .iter()
            .map(record)
            .collect::<Result<Vec<Invitation>, _>>()?;
        Ok(all.into_iter().filter(|i| i.pending(now)).collect())
    }

    /// The pending invitations addressed to `email`: one strongly consistent `Query`.
    pub async fn invitations_to(&self, email: &Email) -> Result<Vec<InvitationNotice>, StoreError> {
        let now = self.now().unix();
        let items = self
            .query_partition_prefix(Key::invitations_to(email))
            .await?;
        let all = items
            .iter()
            .map(record)
            .collect::<Result<Vec<InvitationNotice>, _>>()?;
        Ok(all.into_iter().filter(|n| now < n.expires_at).collect())
    }
}

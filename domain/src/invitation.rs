//! Invitations into an organization. Emails are not verified here, so an invitation is
//! addressed to an email *and* carries a one-time secret (`auth::InvitationToken`): the
//! secret proves the invitee received it, the email stops anyone else using a leaked one.

use serde::{Deserialize, Serialize};

use super::{Email, InvitationId, OrgId, OrgName, Role, Timestamp, UserId};

/// How long an invitation stays pending.
pub const INVITATION_SECONDS: u64 = 7 * 24 * 3600;

/// An invitation as its organization keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub organization: OrgId,
    pub email: Email,
    /// `admin` or `employee`: nobody is invited as owner.
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    /// Unix seconds; DynamoDB's TTL removes it late, so every reader checks it.
    pub expires_at: u64,
    /// SHA-256 (hex) of the token; the token itself is shown once and never kept.
    pub token_digest: String,
}

impl Invitation {
    pub fn pending(&self, now: u64) -> bool {
        now < self.expires_at
    }

    /// Whether `email` is the one invited, compared as emails are everywhere.
    pub fn is_for(&self, email: &Email) -> bool {
        self.email.normalized() == email.normalized()
    }
}

/// An organization by id and name, as an invitee sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    pub id: OrgId,
    pub name: OrgName,
}

/// What the invitee's side keeps of a pending invitation: `/users/me` lists these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationNotice {
    pub id: InvitationId,
    pub organization: OrgRef,
    pub role: Role,
    pub expires_at: u64,
}

impl InvitationNotice {
    pub fn of(invitation: &Invitation, name: OrgName) -> Self {
        Self {
            id: invitation.id,
            organization: OrgRef {
                id: invitation.organization,
                name,
            },
            role: invitation.role,
            expires_at: invitation.expires_at,
        }
    }
}

/// Unix seconds as an RFC 3339 time, as answers show expiries.
pub fn rfc3339(unix: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    humantime::format_rfc3339_seconds(at).to_string()
}

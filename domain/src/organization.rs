//! Organizations, their members and roles, and their vendor records.

use serde::{Deserialize, Serialize};

use super::{
    Email, OrgId, OrgName, PersonName, ProfileId, Timestamp, User, UserId, Username, VendorId,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: OrgName,
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

/// A member's role; what each allows is `auth::permits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    /// `vendor`, a role no route ever granted, is retired: read as the least one.
    #[serde(alias = "vendor")]
    Employee,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Employee];

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "employee" => Ok(Self::Employee),
            _ => Err("must be owner, admin or employee"),
        }
    }
}

/// A user's membership of an organization, as the organization keeps it. It carries a copy
/// of the member's names and whether their email is verified, so listing members reads
/// nothing else; the table-stream function keeps the copy in step with the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub organization: OrgId,
    pub user_id: UserId,
    pub role: Role,
    /// When the user joined.
    pub created_at: Timestamp,
    /// Absent on memberships made before names were carried; the list reads the user then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberNames>,
}

/// What a member is listed by: the user's names, and whether their email is verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberNames {
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Absent on copies made before it was carried: not known to be verified.
    #[serde(default)]
    pub email_verified: bool,
}

impl MemberNames {
    pub fn of(user: &User) -> Self {
        Self {
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email_verified: user.email_verified,
        }
    }
}

impl Membership {
    /// `user` joining `organization` as `role`, now.
    pub fn new(organization: OrgId, user: &User, role: Role, now: &Timestamp) -> Self {
        Self {
            organization,
            user_id: user.id,
            role,
            created_at: now.clone(),
            member: Some(MemberNames::of(user)),
        }
    }

    pub fn grant(&self) -> OrgRole {
        OrgRole {
            organization: self.organization,
            role: self.role,
        }
    }
}

/// A member as their organization lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    #[serde(flatten)]
    pub names: MemberNames,
    pub role: Role,
    pub joined_at: Timestamp,
}

impl Member {
    pub fn of(membership: &Membership, names: MemberNames) -> Self {
        Self {
            user_id: membership.user_id,
            names,
            role: membership.role,
            joined_at: membership.created_at.clone(),
        }
    }
}

/// A user's role in one organization: what the user's own items and access tokens carry,
/// so that authorization needs no read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRole {
    pub organization: OrgId,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vendor {
    pub id: VendorId,
    pub organization: OrgId,
    pub user_id: UserId,
    pub user_profile: ProfileId,
    pub name: OrgName,
    pub email: Email,
    pub created_at: Timestamp,
}

/// What a user sees of an organization they belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembership {
    pub id: OrgId,
    pub name: OrgName,
    pub role: Role,
}

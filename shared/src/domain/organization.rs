//! Organizations, their members and roles, and their vendor records.

use serde::{Deserialize, Serialize};

use super::{Email, OrgId, OrgName, ProfileId, Timestamp, UserId, VendorId};

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
}

/// A user's membership of an organization, as the organization keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub organization: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub created_at: Timestamp,
}

impl Membership {
    pub fn grant(&self) -> OrgRole {
        OrgRole {
            organization: self.organization,
            role: self.role,
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

//! The records the CRM keeps. They serialize to the API's JSON and, with keys added by the
//! store, to DynamoDB items. None of them carries a password hash.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    CompanyName, CustomerCode, CustomerId, CustomerName, CustomerStatus, CustomerType, Email,
    OrgId, OrgName, PersonName, Phone, ProfileId, UserId, Username, VendorId,
};

/// RFC 3339, UTC, millisecond precision: sorts as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn now() -> Self {
        Self(humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Now, in Unix seconds: what expiries (`exp`, `expires_at`) are counted in.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileType {
    Vendor,
    Employee,
    Customer,
}

impl ProfileType {
    pub const ALL: [ProfileType; 3] = [Self::Vendor, Self::Employee, Self::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vendor => "vendor",
            Self::Employee => "employee",
            Self::Customer => "customer",
        }
    }
}

impl fmt::Display for ProfileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub created_at: Timestamp,
}

impl User {
    /// "First Last", the name a person is shown by.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: OrgName,
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Vendor,
    Employee,
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
pub struct UserProfile {
    pub id: ProfileId,
    pub user_id: UserId,
    pub profile_type: ProfileType,
    pub is_primary: bool,
    pub organization: OrgId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UserProfile {
    /// A user's profile of one type, pointing at `organization`. Its id is derived from
    /// (user, type), so it can be named without being read.
    pub fn new(
        user_id: UserId,
        profile_type: ProfileType,
        organization: OrgId,
        now: &Timestamp,
    ) -> Self {
        Self {
            id: ProfileId::of(user_id, profile_type),
            user_id,
            profile_type,
            is_primary: profile_type == ProfileType::Vendor,
            organization,
            created_at: now.clone(),
            updated_at: now.clone(),
        }
    }
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub organization: OrgId,
    pub user_id: Option<UserId>,
    pub user_profile: Option<ProfileId>,
    pub code: CustomerCode,
    pub name: CustomerName,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Email,
    pub phone: Option<Phone>,
    pub customer_type: CustomerType,
    pub status: CustomerStatus,
    pub company_name: Option<CompanyName>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Counts the record's writes; its `ETag`. Records from before versions read as 1.
    #[serde(default = "first_version")]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

/// What a user sees of a customer record that names them, in any organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerLink {
    pub id: CustomerId,
    pub organization: OrgId,
    pub name: CustomerName,
    pub status: CustomerStatus,
}

impl Customer {
    pub fn link(&self) -> CustomerLink {
        CustomerLink {
            id: self.id,
            organization: self.organization,
            name: self.name.clone(),
            status: self.status,
        }
    }
}

/// What a user sees of an organization they belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembership {
    pub id: OrgId,
    pub name: OrgName,
    pub role: Role,
}

//! Users and their profiles. None of these carries a password hash.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Email, OrgId, PersonName, ProfileId, Timestamp, UserId, Username};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub created_at: Timestamp,
    /// Whether the user used the link mailed to `email` (absent on users from before: no).
    #[serde(default)]
    pub email_verified: bool,
}

/// A user's change of their own account (`PATCH /api/users/me`); `None` leaves a field as
/// it is. A new email takes effect only when the link mailed to it is used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChange {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
}

impl User {
    /// `user` with `change`'s names; its email stays until the new one is confirmed.
    pub fn renamed(&self, change: &UserChange) -> Self {
        Self {
            first_name: change.first_name.clone().unwrap_or(self.first_name.clone()),
            last_name: change.last_name.clone().unwrap_or(self.last_name.clone()),
            ..self.clone()
        }
    }

    /// "First Last", the name a person is shown by.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
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
pub struct UserProfile {
    pub id: ProfileId,
    pub user_id: UserId,
    pub profile_type: ProfileType,
    pub is_primary: bool,
    /// The organization the profile acts in. An employee profile follows its user's
    /// memberships: a member who leaves or is removed has it pointed at another organization
    /// they still belong to (their oldest), or at none.
    #[serde(default)]
    pub organization: Option<OrgId>,
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
            organization: Some(organization),
            created_at: now.clone(),
            updated_at: now.clone(),
        }
    }
}

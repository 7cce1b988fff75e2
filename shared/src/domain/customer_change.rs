//! A partial update of a customer, as pure data.

use super::{
    CompanyName, Customer, CustomerCode, CustomerName, CustomerStatus, CustomerType, Email, OrgId,
    PersonName, Phone, ProfileId, ProfileType, Timestamp, UserId,
};

/// Each field: `None` leaves it as it is. Fields that may be empty take `Some(None)` to clear.
#[derive(Clone, Debug, Default)]
pub struct CustomerPatch {
    /// Must name the customer's own organization when sent: customers do not move.
    pub organization: Option<OrgId>,
    pub user_id: Option<Option<UserId>>,
    pub email: Option<Email>,
    pub name: Option<CustomerName>,
    pub first_name: Option<Option<PersonName>>,
    pub last_name: Option<Option<PersonName>>,
    pub phone: Option<Option<Phone>>,
    pub customer_type: Option<CustomerType>,
    pub status: Option<CustomerStatus>,
    pub company_name: Option<Option<CompanyName>>,
    pub code: Option<CustomerCode>,
}

impl CustomerPatch {
    /// `current` with the patch applied, one version on, updated now. A linked user brings
    /// their customer profile along.
    pub fn apply(&self, current: &Customer) -> Customer {
        let mut next = current.clone();
        if let Some(user) = self.user_id {
            next.user_id = user;
            next.user_profile = user.map(|u| ProfileId::of(u, ProfileType::Customer));
        }
        set(&mut next.email, &self.email);
        set(&mut next.name, &self.name);
        set(&mut next.first_name, &self.first_name);
        set(&mut next.last_name, &self.last_name);
        set(&mut next.phone, &self.phone);
        set(&mut next.customer_type, &self.customer_type);
        set(&mut next.status, &self.status);
        set(&mut next.company_name, &self.company_name);
        set(&mut next.code, &self.code);
        next.version = current.version + 1;
        next.updated_at = Timestamp::now();
        next
    }
}

/// `If-Match`: which versions of the record a change may apply to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` (or `*`): whatever version is current.
    Any,
    /// Only these (from `"3"`, `W/"3"`, or a list of them).
    Versions(Vec<u64>),
}

impl Precondition {
    /// An `If-Match` value. A tag that is not one of ours matches nothing, as RFC 9110 has
    /// it for a tag the server never sent.
    pub fn parse(raw: &str) -> Self {
        if raw.trim() == "*" {
            return Self::Any;
        }
        Self::Versions(
            raw.split(',')
                .filter_map(|tag| {
                    let tag = tag.trim();
                    let tag = tag.strip_prefix("W/").unwrap_or(tag);
                    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
                })
                .collect(),
        )
    }

    pub fn allows(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }
}

/// The `ETag` of a record at `version`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn set<T: Clone>(field: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *field = value.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_our_tags_and_star() {
        assert!(Precondition::parse("*").allows(7));
        assert!(Precondition::parse(&etag(3)).allows(3));
        assert!(!Precondition::parse(&etag(3)).allows(4));
        assert!(Precondition::parse("W/\"2\", \"5\"").allows(5));
        assert!(!Precondition::parse("garbage").allows(1));
    }

    fn customer() -> Customer {
        let mut form = crate::domain::new_customer::tests::form();
        form.first_name = Some(PersonName::parse("Pat").unwrap());
        form.to_customer()
    }

    #[test]
    fn only_what_is_sent_changes_and_the_version_moves_on() {
        let before = customer();
        let user = UserId::generate();
        let patch = CustomerPatch {
            status: Some(CustomerStatus::Inactive),
            first_name: Some(None),
            user_id: Some(Some(user)),
            ..CustomerPatch::default()
        };
        let after = patch.apply(&before);
        assert_eq!(after.status, CustomerStatus::Inactive);
        assert_eq!(after.first_name, None);
        assert_eq!(after.email, before.email);
        assert_eq!(after.name, before.name);
        assert_eq!(
            after.user_profile,
            Some(ProfileId::of(user, ProfileType::Customer))
        );
        assert_eq!(
            (after.version, after.created_at.clone()),
            (2, before.created_at.clone())
        );
        let unlinked = CustomerPatch {
            user_id: Some(None),
            ..CustomerPatch::default()
        }
        .apply(&after);
        assert_eq!((unlinked.user_id, unlinked.user_profile), (None, None));
    }
}

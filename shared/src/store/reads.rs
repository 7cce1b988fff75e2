//! Reading customers back. Who may read what is settled from the caller's token before
//! these are called.

use crate::domain::{
    Customer, CustomerCode, CustomerId, CustomerLink, Email, OrgId, OrgMembership, Organization,
    Role, User, UserId, UserProfile,
};

use super::items::{field, record, Entity, CUSTOMER};
use super::keys::Key;
use super::{Store, StoreError};

/// An exact lookup in an organization.
#[derive(Debug)]
pub enum Claimed<'a> {
    Email(&'a Email),
    Code(&'a CustomerCode),
}

/// Everything `/users/me` shows: one user's partition.
#[derive(Debug, serde::Serialize)]
pub struct Me {
    pub user: User,
    pub profiles: Vec<UserProfile>,
    pub organizations: Vec<OrgMembership>,
    pub customers: Vec<CustomerLink>,
}

impl Store {
    pub async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        let item = self.get_item(&Key::customer(id)).await?;
        item.as_ref().map(record).transpose()
    }

    /// An organization: one strongly consistent `GetItem` (a rename is seen at once).
    pub async fn organization(&self, org: OrgId) -> Result<Option<Organization>, StoreError> {
        let item = self.get_item(&Key::organization(org)).await?;
        item.as_ref().map(record).transpose()
    }

    /// `user`'s role in `org`, if they are a member: one strongly consistent `GetItem` of the
    /// membership, for callers whose token leaves `org` out.
    pub async fn member_role(&self, org: OrgId, user: UserId) -> Result<Option<Role>, StoreError> {
        let item = self.get_item(&Key::membership(org, user)).await?;
        item.as_ref().map(|m| field(m, "role")).transpose()
    }

    /// The customer of `org` holding an email or a code, read from the claim (which carries
    /// the whole customer): one strongly consistent `GetItem`.
    pub async fn customer_by(
        &self,
        org: OrgId,
        claimed: Claimed<'_>,
    ) -> Result<Option<Customer>, StoreError> {
        let key = match claimed {
            Claimed::Email(email) => Key::customer_email(org, email),
            Claimed::Code(code) => Key::customer_code(org, code),
        };
        match self.get_item(&key).await? {
            Some(claim) => Ok(Some(field(&claim, CUSTOMER)?)),
            None => Ok(None),
        }
    }

    /// The user, their profiles, their organizations and every customer record that names
    /// them, in all organizations: one strongly consistent `Query` of their partition (paged
    /// by DynamoDB past 1 MB). `None` when the user does not exist.
    pub async fn me(&self, user: UserId) -> Result<Option<Me>, StoreError> {
        let mut found: Option<User> = None;
        let (mut profiles, mut organizations, mut customers) = (Vec::new(), Vec::new(), Vec::new());
        for item in &self.query_partition(Key::user(user).pk, None).await? {
            match Entity::of(item) {
                Some(Entity::User) => found = Some(record(item)?),
                Some(Entity::Profile) => profiles.push(record(item)?),
                Some(Entity::UserOrg) => organizations.push(record(item)?),
                Some(Entity::UserCustomer) => customers.push(record(item)?),
                _ => {}
            }
        }
        Ok(found.map(|user| Me {
            user,
            profiles,
            organizations,
            customers,
        }))
    }
}

/// The records of a page read one item beyond `limit` (so that the last page is known
/// without an empty one after it), and whether another page follows.
pub(super) fn page_of<T: serde::de::DeserializeOwned>(
    items: &[super::transaction::Item],
    limit: usize,
) -> Result<(Vec<T>, bool), StoreError> {
    let mut records = items.iter().map(record).collect::<Result<Vec<T>, _>>()?;
    let more = records.len() > limit;
    records.truncate(limit);
    Ok((records, more))
}

//! Reading customers back. Who may read what is settled from the caller's token before
//! these are called.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    Customer, CustomerCode, CustomerId, CustomerLink, Email, OrgId, OrgMembership, Organization,
    Role, User, UserId, UserProfile,
};

use super::items::{field, record, Entity, CUSTOMER};
use super::keys::{Key, ListKey, GSI1, GSI1_PK, GSI1_SK, PK, SK};
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

/// One page of an organization's customers, newest first.
#[derive(Debug)]
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    /// The last customer on this page, when another page follows.
    pub last: Option<CustomerId>,
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

    /// Up to `limit` customers of `org` created before `after`, newest first: one `Query` on
    /// the organization's list in `gsi1`. One item more than the page is read, so that a
    /// page is known to be the last without an empty page after it.
    pub async fn customers_page(
        &self,
        org: OrgId,
        limit: usize,
        after: Option<CustomerId>,
    ) -> Result<CustomerPage, StoreError> {
        // The start key is rebuilt from the organization being read, never taken from the
        // client, so a cursor cannot lead into another organization's list.
        let start = after.map(|id| {
            let key = Key::customer(id);
            let list = ListKey::customer(org, id);
            [
                (PK, key.pk),
                (SK, key.sk),
                (GSI1_PK, list.pk),
                (GSI1_SK, list.sk),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), AttributeValue::S(value)))
            .collect()
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", AttributeValue::S(ListKey::customers_of(org)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let (customers, more) = page_of::<Customer>(output.items(), limit)?;
        let last = more.then(|| customers.last().map(|c| c.id)).flatten();
        Ok(CustomerPage { customers, last })
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

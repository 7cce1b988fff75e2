//! Reading customers back. Who may read what is settled from the caller's token before
//! these are called.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{Customer, CustomerId, OrgId};

use super::items::record;
use super::keys::{Key, ListKey, GSI1, GSI1_PK, GSI1_SK, PK, SK};
use super::{Store, StoreError};

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
            .await
            .map_err(|e| StoreError::from_sdk(&e))?;
        let mut customers = output
            .items()
            .iter()
            .map(record)
            .collect::<Result<Vec<Customer>, _>>()?;
        let more = customers.len() > limit;
        customers.truncate(limit);
        let last = if more {
            customers.last().map(|c| c.id)
        } else {
            None
        };
        Ok(CustomerPage { customers, last })
    }
}

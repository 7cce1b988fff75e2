//! DynamoDB: the only module that talks to it. One table, single-table design; see
//! `docs/data-model.md`.

mod customers;
mod error;
mod items;
pub mod keys;
mod login;
mod reads;
mod signup;
pub mod table;
mod transaction;

use aws_sdk_dynamodb::Client;

pub use customers::{CreateCustomerError, CustomerCreated};
pub use error::StoreError;
pub use reads::CustomerPage;
pub use signup::SignupError;
pub use transaction::MAX_ATTEMPTS;

/// The DynamoDB client and table every function works with. Built once at cold start.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The item at `key`, read strongly consistently (so a write that just returned is
    /// seen), or only the attributes in `projection` when given.
    async fn get_item(
        &self,
        key: &keys::Key,
        projection: Option<&str>,
    ) -> Result<Option<transaction::Item>, StoreError> {
        let mut get = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true);
        if let Some(attribute) = projection {
            get = get
                .projection_expression("#p")
                .expression_attribute_names("#p", attribute);
        }
        let output = get.send().await.map_err(|e| StoreError::from_sdk(&e))?;
        Ok(output.item)
    }
}

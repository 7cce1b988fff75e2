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
}

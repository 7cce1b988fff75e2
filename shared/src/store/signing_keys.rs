//! The public halves of the keys that sign access tokens (see `crate::auth::tokens`), in one
//! partition of their own: each function that issues tokens puts its key there at cold start,
//! and every function reads them all, at cold start and when a token names one it does not
//! know. Nothing else reads or writes this partition, so these calls share no item with any
//! request's transaction.
//!
//! An item is never changed: a key is published once and stays until an operator deletes it
//! (docs/operations.md, rotating the signing key), after which it stops verifying within
//! [`crate::auth::KEYS_MAX_AGE_SECONDS`].

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use serde::{Deserialize, Serialize};

use super::expression::{put_item, Condition};
use super::items::{item, record, Entity};
use super::keys::Key;
use super::{Store, StoreError};
use crate::auth::PublicKey;

/// The algorithm every published key is for (RFC 8037's JOSE name).
const ALGORITHM: &str = "EdDSA";

#[derive(Serialize, Deserialize)]
struct SigningKeyRecord {
    kid: String,
    /// The 32 bytes, base64url: a JWK's `x`.
    public_key: String,
    algorithm: String,
    published_at: u64,
}

impl Store {
    /// Every published key this code can verify with: one strongly consistent `Query` of the
    /// keys' partition. An item that is not a key of ours (another algorithm, a `kid` that is
    /// not its key's) is left out, and said so in the log.
    pub async fn signing_keys(&self) -> Result<Vec<PublicKey>, StoreError> {
        let items = self.query_partition(Key::signing_keys(), None).await?;
        let mut keys = Vec::with_capacity(items.len());
        for item in &items {
            let record: SigningKeyRecord = record(item)?;
            let key = (record.algorithm == ALGORITHM)
                .then(|| PublicKey::parse(&record.kid, &record.public_key))
                .flatten();
            match key {
                Some(key) => keys.push(key),
                None => {
                    tracing::warn!(kid = %record.kid, "a published signing key left out: not an Ed25519 key of its kid")
                }
            }
        }
        Ok(keys)
    }

    /// Publishes `key`, once: one `PutItem` on condition that it is not there yet (a second
    /// cold start with the same key writes nothing).
    pub async fn publish_signing_key(&self, key: &PublicKey) -> Result<(), StoreError> {
        let record = SigningKeyRecord {
            kid: key.id().to_owned(),
            public_key: key.encoded(),
            algorithm: ALGORITHM.to_owned(),
            published_at: self.now().unix(),
        };
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(
                Entity::SigningKey,
                &Key::signing_key(key.id()),
                &record,
            )));
        match put_item(call, &Condition::item_absent()).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

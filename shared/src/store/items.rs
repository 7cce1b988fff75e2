//! Records to DynamoDB items and back. Each item is its record's attributes plus its keys
//! and an `entity` tag; items read back ignore the attributes their record does not know.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{Key, ListKey, GSI1_PK, GSI1_SK, PK, SK};
use super::transaction::Item;
use super::StoreError;

pub const ENTITY: &str = "entity";
/// On a user's login items: the argon2id PHC string.
pub const PASSWORD_HASH: &str = "password_hash";
/// On a user's login items: their role in each organization, as access tokens carry it.
pub const MEMBERSHIPS: &str = "memberships";
/// On claims: the customer the claim belongs to.
pub const CUSTOMER_ID: &str = "customer_id";
/// On the org#user claim: a copy of the whole customer.
pub const CUSTOMER: &str = "customer";

pub fn item<T: Serialize>(entity: &str, key: &Key, record: &T) -> Item {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(record)
        .expect("records serialize to maps of plain values");
    item.insert(PK.to_owned(), AttributeValue::S(key.pk.clone()));
    item.insert(SK.to_owned(), AttributeValue::S(key.sk.clone()));
    item.insert(ENTITY.to_owned(), AttributeValue::S(entity.to_owned()));
    item
}

/// An item that is only its key: a claim on a unique value.
pub fn bare_item(entity: &str, key: &Key) -> Item {
    let mut item = key.to_item();
    item.insert(ENTITY.to_owned(), AttributeValue::S(entity.to_owned()));
    item
}

pub fn listed_item<T: Serialize>(entity: &str, key: &Key, list: &ListKey, record: &T) -> Item {
    let mut item = item(entity, key, record);
    item.insert(GSI1_PK.to_owned(), AttributeValue::S(list.pk.clone()));
    item.insert(GSI1_SK.to_owned(), AttributeValue::S(list.sk.clone()));
    item
}

pub fn record<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item.clone())
        .map_err(|e| StoreError::Internal(format!("unreadable {} item: {e}", entity_of(item))))
}

fn entity_of(item: &Item) -> &str {
    item.get(ENTITY)
        .and_then(|v| v.as_s().ok())
        .map_or("unknown", String::as_str)
}

pub fn string(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// A value as a DynamoDB attribute (a record as a map, a list as a list).
pub fn attribute<T: Serialize>(value: &T) -> AttributeValue {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
        .expect("records serialize to plain values")
}

/// Attribute `name` of an item read back as `T`.
pub fn field<T: DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let value = item
        .get(name)
        .cloned()
        .ok_or_else(|| StoreError::Internal(format!("{} item without {name}", entity_of(item))))?;
    serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(value)
        .map_err(|e| StoreError::Internal(format!("unreadable {name} on {}: {e}", entity_of(item))))
}

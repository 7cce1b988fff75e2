//! Records to DynamoDB items and back. Each item is its record's attributes plus its keys
//! and an `entity` tag; items read back ignore the attributes their record does not know.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{Key, ListKey, GSI1_PK, GSI1_SK};
use super::transaction::Item;
use super::StoreError;

pub const ENTITY: &str = "entity";

/// What an item is: its `entity` attribute. Every item the table holds is one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    User,
    /// A username's claim, and what log-in by username reads.
    Username,
    /// A username's look (its confusable skeleton): no two users' names look alike.
    UsernameSkeleton,
    /// A user email's claim, and what log-in by email reads.
    Email,
    Org,
    Member,
    Profile,
    Vendor,
    Customer,
    /// The org#user claim: a user is a customer of an organization once.
    CustomerOfUser,
    CustomerEmail,
    CustomerCode,
    /// A customer's place in one of its organization's ordered lists (the whole customer).
    CustomerRow,
    /// A customer under one value of a filter (its id).
    CustomerFacet,
    /// A word a customer is found by (its id).
    CustomerWord,
    /// A customer that names a user, in the user's partition.
    UserCustomer,
    /// An organization a user belongs to, in the user's partition.
    UserOrg,
    Session,
    /// A refresh token its session rotated away (its digest).
    RotatedToken,
    LoginFailures,
    Idempotency,
    /// An invitation, in its organization's partition.
    Invitation,
    /// An invitation seen from its email: one pending per (organization, email).
    Invitee,
    /// A message in the outbox: sent by the table-stream function, then its outcome.
    Mail,
    /// A user's newest password reset (its digest), beside the user.
    PasswordReset,
    /// The resets an email asked for this hour, beside the email's claim.
    ResetRequests,
    /// A user's newest email verification (its digest), beside the user.
    EmailVerification,
    /// The verification mails a user asked for again this hour, beside the user.
    VerificationRequests,
    /// The public half of a key that signs access tokens, in the keys' own partition.
    SigningKey,
}

impl Entity {
    pub const ALL: [Entity; 29] = [
        Self::User,
        Self::Username,
        Self::UsernameSkeleton,
        Self::Email,
        Self::Org,
        Self::Member,
        Self::Profile,
        Self::Vendor,
        Self::Customer,
        Self::CustomerOfUser,
        Self::CustomerEmail,
        Self::CustomerCode,
        Self::CustomerRow,
        Self::CustomerFacet,
        Self::CustomerWord,
        Self::UserCustomer,
        Self::UserOrg,
        Self::Session,
        Self::RotatedToken,
        Self::LoginFailures,
        Self::Idempotency,
        Self::Invitation,
        Self::Invitee,
        Self::Mail,
        Self::PasswordReset,
        Self::ResetRequests,
        Self::EmailVerification,
        Self::VerificationRequests,
        Self::SigningKey,
    ];

    /// The tag as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Username => "USERNAME",
            Self::UsernameSkeleton => "USERNAME_SKELETON",
            Self::Email => "EMAIL",
            Self::Org => "ORG",
            Self::Member => "MEMBER",
            Self::Profile => "PROFILE",
            Self::Vendor => "VENDOR",
            Self::Customer => "CUSTOMER",
            Self::CustomerOfUser => "CUSTOMER_OF_USER",
            Self::CustomerEmail => "CUSTOMER_EMAIL",
            Self::CustomerCode => "CUSTOMER_CODE",
            Self::CustomerRow => "CUSTOMER_ROW",
            Self::CustomerFacet => "CUSTOMER_FACET",
            Self::CustomerWord => "CUSTOMER_WORD",
            Self::UserCustomer => "USER_CUSTOMER",
            Self::UserOrg => "USER_ORG",
            Self::Session => "SESSION",
            Self::RotatedToken => "ROTATED_TOKEN",
            Self::LoginFailures => "LOGIN_FAILURES",
            Self::Idempotency => "IDEMPOTENCY",
            Self::Invitation => "INVITATION",
            Self::Invitee => "INVITEE",
            Self::Mail => "MAIL",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::ResetRequests => "PASSWORD_RESET_REQUESTS",
            Self::EmailVerification => "EMAIL_VERIFICATION",
            Self::VerificationRequests => "EMAIL_VERIFICATION_REQUESTS",
            Self::SigningKey => "SIGNING_KEY",
        }
    }

    /// The entity an item read back says it is.
    pub fn of(item: &Item) -> Option<Self> {
        let tag = item.get(ENTITY)?.as_s().ok()?;
        Self::ALL.into_iter().find(|e| e.as_str() == tag)
    }

    pub fn attribute(self) -> AttributeValue {
        AttributeValue::S(self.as_str().to_owned())
    }
}
/// On a user's login items: the argon2id PHC string.
pub const PASSWORD_HASH: &str = "password_hash";
/// On a user's login items: whether the user used a link mailed to their address (a
/// verification's or a reset's).
pub const EMAIL_VERIFIED: &str = "email_verified";
/// On a user's items: their names.
pub const FIRST_NAME: &str = "first_name";
pub const LAST_NAME: &str = "last_name";
/// On a user's login items: their role in each organization, as access tokens carry it.
pub const MEMBERSHIPS: &str = "memberships";
/// On an organization: how many of its members are owners (absent: 1, as every organization
/// had before teams).
pub const OWNERS: &str = "owners";
/// On claims of a user's (a username's look): the user the claim belongs to.
pub const USER_ID: &str = "user_id";
/// On claims: the customer the claim belongs to.
pub const CUSTOMER_ID: &str = "customer_id";
/// On the org#user claim: a copy of the whole customer.
pub const CUSTOMER: &str = "customer";
/// Record attributes that conditions and updates name (the records' own field names).
pub const ROLE: &str = "role";
pub const ORGANIZATION: &str = "organization";
pub const NAME: &str = "name";
pub const ID: &str = "id";
pub const VERSION: &str = "version";
pub const UPDATED_AT: &str = "updated_at";
/// Items that remove themselves (sessions, failure records, idempotency records): Unix
/// seconds. DynamoDB removes them late, so readers check it too.
pub use super::table::TTL_ATTRIBUTE as EXPIRES_AT;

pub fn item<T: Serialize>(entity: Entity, key: &Key, record: &T) -> Item {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(record)
        .expect("records serialize to maps of plain values");
    item.extend(bare_item(entity, key));
    item
}

/// An item that is only its key: a claim on a unique value.
pub fn bare_item(entity: Entity, key: &Key) -> Item {
    let mut item = key.to_item();
    item.insert(ENTITY.to_owned(), entity.attribute());
    item
}

pub fn listed_item<T: Serialize>(entity: Entity, key: &Key, list: &ListKey, record: &T) -> Item {
    let mut item = item(entity, key, record);
    item.insert(GSI1_PK.to_owned(), AttributeValue::S(list.pk.clone()));
    item.insert(GSI1_SK.to_owned(), AttributeValue::S(list.sk.clone()));
    item
}

pub fn record<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item.clone())
        .map_err(|e| StoreError::caused(format!("unreadable {} item", entity_of(item)), e))
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
        .ok_or_else(|| StoreError::internal(format!("{} item without {name}", entity_of(item))))?;
    serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(value)
        .map_err(|e| StoreError::caused(format!("unreadable {name} on {}", entity_of(item)), e))
}

/// A number attribute (counts, versions, Unix seconds).
pub fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

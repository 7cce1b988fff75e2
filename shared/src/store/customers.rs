//! Customer creation in one `TransactWriteItems` call. The conditions do all the checking:
//! no read comes first, so no race sits between a check and a write.

use std::collections::HashMap;

use crate::domain::{Customer, CustomerForm, ProfileId, ProfileType, Timestamp, UserId};

use super::items::{bare_item, listed_item, record, string};
use super::keys::{Key, ListKey};
use super::transaction::{CommitError, Item, Transaction};
use super::{Store, StoreError};

/// The items one customer is made of.
pub(super) struct CustomerItems {
    pub record: Item,
    /// On the org#user key; carries the whole customer, so that a second attempt to make the
    /// same user a customer gets the first one back from the cancellation reasons.
    pub user_claim: Option<Item>,
    pub email_claim: Item,
    pub code_claim: Item,
}

impl CustomerItems {
    pub fn of(customer: &Customer) -> Self {
        let org = customer.organization;
        let claim = |entity: &str, key: Key| {
            let mut claim = bare_item(entity, &key);
            claim.insert("customer_id".to_owned(), string(&customer.id.to_string()));
            claim
        };
        Self {
            record: listed_item(
                "CUSTOMER",
                &Key::customer(customer.id),
                &ListKey::customer(org, customer.id),
                customer,
            ),
            user_claim: customer.user_id.map(|user| {
                let mut claim = claim("CUSTOMER_OF_USER", Key::customer_of_user(org, user));
                claim.insert(
                    CUSTOMER_ATTRIBUTE.to_owned(),
                    aws_sdk_dynamodb::types::AttributeValue::M(item_body(customer)),
                );
                claim
            }),
            email_claim: claim("CUSTOMER_EMAIL", Key::customer_email(org, &customer.email)),
            code_claim: claim("CUSTOMER_CODE", Key::customer_code(org, &customer.code)),
        }
    }
}

const CUSTOMER_ATTRIBUTE: &str = "customer";

fn item_body(customer: &Customer) -> Item {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(customer).expect("customers serialize to maps")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    Organization,
    Caller,
    Membership,
    User,
    AlreadyCustomer,
    Email,
    Code,
    Other,
}

#[derive(Debug)]
pub enum CustomerCreated {
    /// Written now.
    New(Customer),
    /// The user already was a customer of the organization; nothing was written.
    Existing(Customer),
}

#[derive(Debug)]
pub enum CreateCustomerError {
    OrganizationNotFound,
    /// The token's user no longer exists.
    UnknownCaller,
    /// The caller is not a member of the organization.
    NotMember,
    UserNotFound,
    Taken {
        email: bool,
        code: bool,
    },
    Contended,
    Store(StoreError),
}

/// How many fresh codes to try when a generated one is already in use.
const CODE_ATTEMPTS: usize = 3;

impl Store {
    /// One call on every path: creates the customer, or finds the user's existing one.
    /// `caller` must exist and be a member of the organization; both are conditions of the
    /// same transaction.
    pub async fn create_customer(
        &self,
        form: &CustomerForm,
        caller: UserId,
    ) -> Result<CustomerCreated, CreateCustomerError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let customer = form.to_customer();
            match self
                .customer_transaction(&customer, caller)
                .commit(self)
                .await
            {
                Ok(()) => return Ok(CustomerCreated::New(customer)),
                Err(CommitError::Rejected(rejection)) => {
                    // Precedence: what the caller may know comes before what it asked about.
                    if rejection.failed(Guard::Organization) {
                        return Err(CreateCustomerError::OrganizationNotFound);
                    }
                    let caller_is_user = customer.user_id == Some(caller);
                    if rejection.failed(Guard::Caller)
                        || (caller_is_user && rejection.failed(Guard::User))
                    {
                        return Err(CreateCustomerError::UnknownCaller);
                    }
                    if rejection.failed(Guard::Membership) {
                        return Err(CreateCustomerError::NotMember);
                    }
                    if let Some(existing) = rejection.existing(Guard::AlreadyCustomer) {
                        return existing_customer(existing).map(CustomerCreated::Existing);
                    }
                    if rejection.failed(Guard::User) {
                        return Err(CreateCustomerError::UserNotFound);
                    }
                    let code_generated = form.code.is_none();
                    if code_generated && rejection.only(Guard::Code) && attempt < CODE_ATTEMPTS {
                        tracing::info!(attempt, "generated customer code in use; trying another");
                        continue;
                    }
                    let email = rejection.failed(Guard::Email);
                    let code = rejection.failed(Guard::Code);
                    if email || code {
                        return Err(CreateCustomerError::Taken { email, code });
                    }
                    return Err(CreateCustomerError::Store(StoreError::Internal(
                        "a customer item under a fresh id already existed".into(),
                    )));
                }
                Err(CommitError::Contended) => return Err(CreateCustomerError::Contended),
                Err(CommitError::Store(e)) => return Err(CreateCustomerError::Store(e)),
            }
        }
    }

    fn customer_transaction(&self, customer: &Customer, caller: UserId) -> Transaction<Guard> {
        let org = customer.organization;
        let items = CustomerItems::of(customer);
        let mut tx = Transaction::new(&self.table);
        // Actions run in the order the failures are answered in: 404, 401, 403, then the
        // existing customer, then 400 and 409.
        tx.require(Guard::Organization, &Key::organization(org));
        // A transaction may name an item once: when callers make themselves customers, the
        // check that the named user exists is also the check that the caller does.
        if customer.user_id != Some(caller) {
            tx.require(Guard::Caller, &Key::user(caller));
        }
        tx.require(Guard::Membership, &Key::membership(org, caller));
        if let (Some(user), Some(user_claim)) = (customer.user_id, items.user_claim) {
            tx.create_or_return_existing(Guard::AlreadyCustomer, user_claim)
                .require(Guard::User, &Key::user(user));
            link_customer_profile(&mut tx, user, customer);
        }
        tx.create(Guard::Other, items.record)
            .create(Guard::Email, items.email_claim)
            .create(Guard::Code, items.code_claim);
        tx
    }
}

/// Points the user's customer profile at this organization, creating the profile if the
/// user has none. An update with `if_not_exists` does both without reading the profile, and
/// the profile's id is derived from (user, "customer"), so the customer can name it blind.
fn link_customer_profile(tx: &mut Transaction<Guard>, user: UserId, customer: &Customer) {
    let now: &Timestamp = &customer.updated_at;
    let fields = [
        (
            "id",
            string(&ProfileId::of(user, ProfileType::Customer).to_string()),
        ),
        ("user_id", string(&user.to_string())),
        ("profile_type", string(ProfileType::Customer.as_str())),
        (
            "is_primary",
            aws_sdk_dynamodb::types::AttributeValue::Bool(false),
        ),
        ("created_at", string(now.as_str())),
        ("entity", string("PROFILE")),
    ];
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut set = vec![
        "#organization = :organization".to_owned(),
        "#updated_at = :updated_at".to_owned(),
    ];
    names.insert("#organization".to_owned(), "organization".to_owned());
    names.insert("#updated_at".to_owned(), "updated_at".to_owned());
    values.insert(
        ":organization".to_owned(),
        string(&customer.organization.to_string()),
    );
    values.insert(":updated_at".to_owned(), string(now.as_str()));
    for (name, value) in fields {
        set.push(format!("#{name} = if_not_exists(#{name}, :{name})"));
        names.insert(format!("#{name}"), name.to_owned());
        values.insert(format!(":{name}"), value);
    }
    tx.update(
        Guard::Other,
        &Key::profile(user, ProfileType::Customer),
        &format!("SET {}", set.join(", ")),
        names,
        values,
    );
}

fn existing_customer(claim: &Item) -> Result<Customer, CreateCustomerError> {
    let body = claim
        .get(CUSTOMER_ATTRIBUTE)
        .and_then(|v| v.as_m().ok())
        .ok_or_else(|| {
            CreateCustomerError::Store(StoreError::Internal(
                "org#user claim without its customer".into(),
            ))
        })?;
    record(body).map_err(CreateCustomerError::Store)
}

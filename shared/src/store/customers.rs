//! Customer creation. The conditions of one `TransactWriteItems` do the checking, and the
//! transaction names only items of this customer: its record, its claims, and (when callers
//! make themselves customers) their own profile. Nothing that unrelated requests share, such
//! as the organization or the caller's membership, is named, so concurrent creations in one
//! organization never conflict (see "Contention" in docs/data-model.md).

use std::collections::HashMap;

use crate::domain::{
    unix_now, Customer, CustomerForm, Idempotency, ProfileType, UserId, UserProfile,
};

use super::idempotency::{record_item, recorded, Recorded, StoredAnswer, RECORD_ATTRIBUTES};
use super::items::{attribute, bare_item, field, item, listed_item, string, CUSTOMER, CUSTOMER_ID};
use super::keys::{Key, ListKey, PK, SK};
use super::transaction::{CommitError, Item, Transaction};
use super::{Backoff, Store, StoreError};

/// The items one customer is made of. Every claim carries the whole customer: a second
/// attempt to make the same user a customer gets the first one back from the cancellation
/// reasons, and a lookup by email or code is one read. Every write of the record rewrites
/// them in the same transaction.
pub(super) struct CustomerItems {
    pub record: Item,
    /// On the org#user key.
    pub user_claim: Option<Item>,
    pub email_claim: Item,
    pub code_claim: Item,
    /// In the linked user's partition: what `/users/me` lists.
    pub user_link: Option<Item>,
}

impl CustomerItems {
    pub fn of(customer: &Customer) -> Self {
        let org = customer.organization;
        let claim = |entity: &str, key: Key| {
            let mut claim = bare_item(entity, &key);
            claim.insert(CUSTOMER_ID.to_owned(), string(&customer.id.to_string()));
            claim.insert(CUSTOMER.to_owned(), attribute(customer));
            claim
        };
        Self {
            record: listed_item(
                "CUSTOMER",
                &Key::customer(customer.id),
                &ListKey::customer(org, customer.id),
                customer,
            ),
            user_claim: customer
                .user_id
                .map(|user| claim("CUSTOMER_OF_USER", Key::customer_of_user(org, user))),
            email_claim: claim("CUSTOMER_EMAIL", Key::customer_email(org, &customer.email)),
            code_claim: claim("CUSTOMER_CODE", Key::customer_code(org, &customer.code)),
            user_link: customer.user_id.map(|user| {
                item(
                    "USER_CUSTOMER",
                    &Key::user_customer(user, customer.id),
                    &customer.link(),
                )
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    Record,
    AlreadyCustomer,
    Profile,
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
    /// The request's `Idempotency-Key` was used for this very request before: its first
    /// answer, and nothing written now.
    Replayed(StoredAnswer),
}

#[derive(Debug)]
pub enum CreateCustomerError {
    UserNotFound,
    Taken {
        email: bool,
        code: bool,
    },
    Contended,
    /// The `Idempotency-Key` was used for another request.
    KeyReused,
    /// A request with the same key is still in flight.
    InProgress,
    Store(StoreError),
}

impl From<StoreError> for CreateCustomerError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// How the new customer reaches its user's customer profile.
enum Link {
    /// A standalone customer.
    Standalone,
    /// Callers who make themselves customers move their own profile to the organization.
    Own,
    /// Anyone else's profile is created when missing and otherwise left exactly as it is.
    Other { profile_exists: bool },
}

/// What a look at the named user found.
enum Lookup {
    Recorded(Recorded),
    AlreadyCustomer(Box<Customer>),
    NoSuchUser,
    User { profile_exists: bool },
}

/// How many fresh codes to try when a generated one is already in use.
const CODE_ATTEMPTS: usize = 3;

impl Store {
    /// Creates the customer, or finds the user's existing one. The caller's right to act in
    /// the organization was settled from their token before this is called.
    ///
    /// Calls: a standalone customer, or callers making themselves customers, 1
    /// (`TransactWriteItems`; the existing customer comes back from its cancellation). A
    /// customer for another user: 1 `BatchGetItem` (the org#user claim, the user, their
    /// profile), which alone answers when they already are a customer, then 1
    /// `TransactWriteItems`.
    ///
    /// With an `Idempotency-Key` (`idempotency`), the first answer is recorded in the same
    /// transaction, and a retry is answered from it at the same cost in calls.
    pub async fn create_customer(
        &self,
        form: &CustomerForm,
        caller: UserId,
        idempotency: Option<&Idempotency>,
    ) -> Result<CustomerCreated, CreateCustomerError> {
        let mut backoff = Backoff::new();
        let mut code_attempts = 0;
        // After a conflict the winner may have made this very customer: look before writing.
        let mut look_first = false;
        loop {
            let now = unix_now();
            let customer = form.to_customer();
            // Paths that do not look at the named user look at the record on their own.
            let looks_anyway = customer.user_id.is_some_and(|user| user != caller);
            if let (true, false, Some(record)) = (look_first, looks_anyway, idempotency) {
                if let Some(found) = self.find_record(record, now).await? {
                    return found_record(found);
                }
            }
            let link = match customer.user_id {
                None => Link::Standalone,
                Some(user) if user == caller && !look_first => Link::Own,
                Some(user) => match self.look_up(&customer, user, idempotency, now).await? {
                    Lookup::Recorded(found) => return found_record(found),
                    Lookup::AlreadyCustomer(existing) => {
                        return Ok(CustomerCreated::Existing(*existing))
                    }
                    Lookup::NoSuchUser => return Err(CreateCustomerError::UserNotFound),
                    Lookup::User { .. } if user == caller => Link::Own,
                    Lookup::User { profile_exists } => Link::Other { profile_exists },
                },
            };
            let mut tx = self.customer_transaction(&customer, &link);
            if let Some(record) = idempotency {
                let answer = StoredAnswer {
                    status: 201,
                    body: serde_json::to_string(&customer).expect("customers serialize"),
                };
                tx.create_unless_live(Guard::Record, record_item(record, &answer, now), now);
            }
            let rejection = match tx.commit(self).await {
                Ok(()) => return Ok(CustomerCreated::New(customer)),
                Err(CommitError::Rejected(rejection)) => rejection,
                Err(CommitError::Contended) => {
                    if !backoff.wait().await {
                        return Err(if idempotency.is_some() {
                            CreateCustomerError::InProgress
                        } else {
                            CreateCustomerError::Contended
                        });
                    }
                    look_first = true;
                    continue;
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            };
            if let (Some(item), Some(record)) = (rejection.existing(Guard::Record), idempotency) {
                if let Some(found) = recorded(item, record, now)? {
                    return found_record(found);
                }
            }
            if let Some(existing) = rejection.existing(Guard::AlreadyCustomer) {
                return Ok(CustomerCreated::Existing(existing_customer(existing)?));
            }
            let code_generated = form.code.is_none();
            if code_generated && rejection.only(Guard::Code) && code_attempts + 1 < CODE_ATTEMPTS {
                code_attempts += 1;
                tracing::info!(
                    code_attempts,
                    "generated customer code in use; trying another"
                );
                continue;
            }
            let email = rejection.failed(Guard::Email);
            let code = rejection.failed(Guard::Code);
            if email || code {
                return Err(CreateCustomerError::Taken { email, code });
            }
            if rejection.failed(Guard::Profile) {
                // Another request created the profile since we looked: look again.
                if !backoff.wait().await {
                    return Err(CreateCustomerError::Contended);
                }
                look_first = true;
                continue;
            }
            return Err(CreateCustomerError::Store(StoreError::Internal(
                "a customer item under a fresh id already existed".into(),
            )));
        }
    }

    /// One strongly consistent `BatchGetItem` (with the request's idempotency record, when it
    /// has a key): plain reads never conflict with the transactions in flight on these items.
    async fn look_up(
        &self,
        customer: &Customer,
        user: UserId,
        idempotency: Option<&Idempotency>,
        now: u64,
    ) -> Result<Lookup, StoreError> {
        let claim = Key::customer_of_user(customer.organization, user);
        let user_key = Key::user(user);
        let profile = Key::profile(user, ProfileType::Customer);
        let mut keys = vec![claim.clone(), user_key.clone(), profile.clone()];
        keys.extend(idempotency.map(Key::idempotency));
        let mut attributes = vec![CUSTOMER];
        attributes.extend(RECORD_ATTRIBUTES);
        let found = self.get_many(&keys, Some(&attributes)).await?;
        if let Some(found) = found.record(idempotency, now)? {
            return Ok(Lookup::Recorded(found));
        }
        if let Some(claim) = found.at(&claim) {
            return existing_customer(claim).map(|c| Lookup::AlreadyCustomer(Box::new(c)));
        }
        if found.at(&user_key).is_none() {
            return Ok(Lookup::NoSuchUser);
        }
        Ok(Lookup::User {
            profile_exists: found.at(&profile).is_some(),
        })
    }

    fn customer_transaction(&self, customer: &Customer, link: &Link) -> Transaction<Guard> {
        let items = CustomerItems::of(customer);
        let mut tx = Transaction::new(&self.table);
        if let (Some(user), Some(user_claim), Some(user_link)) =
            (customer.user_id, items.user_claim, items.user_link)
        {
            tx.create_or_return_existing(Guard::AlreadyCustomer, user_claim);
            tx.create(Guard::Other, user_link);
            let profile = UserProfile::new(
                user,
                ProfileType::Customer,
                customer.organization,
                &customer.updated_at,
            );
            let key = Key::profile(user, ProfileType::Customer);
            match link {
                Link::Own => {
                    let (expression, names, values) = move_profile(&profile);
                    tx.update(Guard::Other, &key, &expression, names, values);
                }
                Link::Other {
                    profile_exists: false,
                } => {
                    tx.create(Guard::Profile, item("PROFILE", &key, &profile));
                }
                Link::Other {
                    profile_exists: true,
                }
                | Link::Standalone => {}
            }
        }
        tx.create(Guard::Other, items.record)
            .create(Guard::Email, items.email_claim)
            .create(Guard::Code, items.code_claim);
        tx
    }
}

/// The update that points a user's own customer profile at `profile.organization`, creating
/// the profile when it is missing: every other attribute is written only if absent
/// (`if_not_exists`), so an existing profile keeps its id and creation time. Derived from
/// the record, so the update and the record cannot drift apart.
fn move_profile(profile: &UserProfile) -> (String, HashMap<String, String>, Item) {
    const MOVED: [&str; 2] = ["organization", "updated_at"];
    let mut record = item(
        "PROFILE",
        &Key::profile(profile.user_id, profile.profile_type),
        profile,
    );
    record.remove(PK);
    record.remove(SK);
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut sets = Vec::new();
    let mut attributes: Vec<_> = record.into_iter().collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, value)) in attributes.into_iter().enumerate() {
        let (n, v) = (format!("#a{i}"), format!(":a{i}"));
        sets.push(if MOVED.contains(&name.as_str()) {
            format!("{n} = {v}")
        } else {
            format!("{n} = if_not_exists({n}, {v})")
        });
        names.insert(n, name);
        values.insert(v, value);
    }
    (format!("SET {}", sets.join(", ")), names, values)
}

fn found_record(found: Recorded) -> Result<CustomerCreated, CreateCustomerError> {
    match found {
        Recorded::Replay(answer) => Ok(CustomerCreated::Replayed(answer)),
        Recorded::KeyReused => Err(CreateCustomerError::KeyReused),
    }
}

/// The customer an org#user claim carries.
fn existing_customer(claim: &Item) -> Result<Customer, StoreError> {
    field(claim, CUSTOMER)
}

//! Customer creation. The conditions of one `TransactWriteItems` do the checking, and the
//! transaction names only items of this customer: its record, its claims, and (when callers
//! make themselves customers) their own profile. Nothing that unrelated requests share, such
//! as the organization or the caller's membership, is named, so concurrent creations in one
//! organization never conflict (see "Contention" in docs/data-model.md).

use crate::auth::Action;
use crate::domain::{
    Customer, CustomerForm, CustomerId, CustomerOrder, Now, OrgId, OrgRole, ProfileType, UserId,
    UserProfile,
};

use super::idempotency::StoredAnswer;
use super::items::{
    attribute, bare_item, field, item, number, record, string, Entity, CUSTOMER, CUSTOMER_ID,
    MEMBERSHIPS, ORGANIZATION, UPDATED_AT, VERSION,
};
use super::keys::{Key, PK, SK};
use super::transaction::{Condition, Item, Operand, Rejection, Transaction, Update};
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, Step, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// The items one customer is made of. Every claim, and every row of the ordered lists,
/// carries the whole customer: a second attempt to make the same user a customer gets the
/// first one back from the cancellation reasons, a lookup by email or code is one read, and
/// a page of a list is one `Query`. Every write of the record rewrites them in the same
/// transaction, so every list and search reads its own writes (see "Finding customers" in
/// docs/data-model.md).
pub(super) struct CustomerItems {
    pub record: Item,
    /// On the org#user key.
    pub user_claim: Option<Item>,
    pub email_claim: Item,
    pub code_claim: Item,
    /// In the linked user's partition: what `/users/me` lists.
    pub user_link: Option<Item>,
    /// One per order, each the whole customer.
    pub rows: Vec<Item>,
    /// One per filter value and per word: the customer's id only, so they change only when
    /// their key does.
    pub entries: Vec<Item>,
}

impl CustomerItems {
    pub fn of(customer: &Customer) -> Self {
        let org = customer.organization;
        let id = string(&customer.id.to_string());
        let claim = |entity: Entity, key: Key| {
            let mut claim = bare_item(entity, &key);
            claim.insert(CUSTOMER_ID.to_owned(), id.clone());
            claim.insert(CUSTOMER.to_owned(), attribute(customer));
            claim
        };
        let entry = |entity: Entity, key: Key| {
            let mut entry = bare_item(entity, &key);
            entry.insert(CUSTOMER_ID.to_owned(), id.clone());
            entry
        };
        let facets = customer.facets().into_iter().map(|facet| {
            entry(
                Entity::CustomerFacet,
                Key::customer_facet(org, &facet, customer.id),
            )
        });
        let words = customer.search_words().into_iter().map(|word| {
            entry(
                Entity::CustomerWord,
                Key::customer_word(org, &word, customer.id),
            )
        });
        Self {
            record: item(Entity::Customer, &Key::customer(customer.id), customer),
            user_claim: customer
                .user_id
                .map(|user| claim(Entity::CustomerOfUser, Key::customer_of_user(org, user))),
            email_claim: claim(
                Entity::CustomerEmail,
                Key::customer_email(org, &customer.email),
            ),
            code_claim: claim(
                Entity::CustomerCode,
                Key::customer_code(org, &customer.code),
            ),
            user_link: customer.user_id.map(|user| {
                item(
                    Entity::UserCustomer,
                    &Key::user_customer(user, customer.id),
                    &customer.link(),
                )
            }),
            rows: CustomerOrder::ALL
                .into_iter()
                .map(|order| claim(Entity::CustomerRow, Key::customer_row(order, customer)))
                .collect(),
            entries: facets.chain(words).collect(),
        }
    }

    /// The keys of the rows and entries.
    pub fn index_keys(&self) -> Vec<Key> {
        self.rows
            .iter()
            .chain(&self.entries)
            .filter_map(Key::of_item)
            .collect()
    }
}

/// What each guarded action of a customer's creation stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Guard {
    /// The org#user claim: the user already is a customer here.
    AlreadyCustomer,
    /// Another user's customer profile, created because it was missing when read.
    Profile,
    Email,
    Code,
    /// Items under fresh ids, and updates that cannot fail.
    Fresh,
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

/// Why a customer is not created or changed as asked; nothing was written.
#[derive(Debug, PartialEq, Eq)]
pub enum CustomerRefusal {
    /// No such customer, or not one the caller may see.
    NotFound,
    /// The caller's role in the customer's organization does not allow the change.
    Lacks(Action),
    /// `If-Match` names another version.
    PreconditionFailed,
    /// The patch names another organization: customers do not move.
    OrganizationFixed,
    /// The user being linked does not exist.
    UserNotFound,
    /// The owner named is not a member of the customer's organization.
    OwnerNotMember,
    /// Another customer of the organization holds these.
    Taken { email: bool, code: bool, user: bool },
    /// The customer is linked to another user than the one named: a link is made once and
    /// never moved by an import.
    LinkedElsewhere,
    /// The caller's token leaves the customer's organization out: their membership must be
    /// read before the change can be decided.
    Unlisted(crate::domain::OrgId),
}

/// How the new customer reaches its user's customer profile.
#[derive(Debug, PartialEq, Eq)]
enum Link {
    /// A standalone customer.
    Standalone,
    /// Callers who make themselves customers move their own profile to the organization.
    Own,
    /// Anyone else's profile is created when missing and otherwise left exactly as it is.
    Other { profile_exists: bool },
}

/// How many fresh codes to try when a generated one is already in use.
const CODE_ATTEMPTS: u32 = 3;

/// Creating the customer `form` describes, for `caller`, whose right to act in the
/// organization was settled from their token.
pub(super) struct CreateCustomer<'a> {
    pub form: &'a CustomerForm,
    pub caller: UserId,
}

impl CreateCustomer<'_> {
    /// A user other than the caller is read first (reads never conflict); so is the caller
    /// after another writer was in the way.
    fn looks_at_user(&self, attempt: &Attempt) -> Option<UserId> {
        self.form
            .user_id
            .filter(|user| *user != self.caller || attempt.look_first)
    }
}

impl WritePath for CreateCustomer<'_> {
    type Guard = Guard;
    type Outcome = CustomerCreated;
    type Refusal = CustomerRefusal;

    fn reads(&self, attempt: &Attempt) -> Reads {
        let mut keys = Vec::new();
        if let Some(user) = self.looks_at_user(attempt) {
            keys.extend([
                Key::customer_of_user(self.form.organization, user),
                Key::user(user),
                Key::profile(user, ProfileType::Customer),
            ]);
        }
        let owner = self.form.owner_id.map(Key::user);
        keys.extend(owner.filter(|key| !keys.contains(key)));
        if keys.is_empty() {
            return Reads::none();
        }
        Reads {
            keys,
            attributes: Some(vec![CUSTOMER, MEMBERSHIPS]),
            partition: None,
        }
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Guard, CustomerCreated, CustomerRefusal>, StoreError> {
        if let Some(owner) = self.form.owner_id {
            if !is_member(found, owner, self.form.organization)? {
                return Ok(Plan::Refuse(CustomerRefusal::OwnerNotMember));
            }
        }
        let link = match (self.form.user_id, self.looks_at_user(attempt)) {
            (None, _) => Link::Standalone,
            (Some(_), None) => Link::Own,
            (Some(_), Some(user)) => {
                let claim = Key::customer_of_user(self.form.organization, user);
                if let Some(claim) = found.at(&claim) {
                    return Ok(Plan::Done(CustomerCreated::Existing(field(
                        claim, CUSTOMER,
                    )?)));
                }
                if found.at(&Key::user(user)).is_none() {
                    return Ok(Plan::Refuse(CustomerRefusal::UserNotFound));
                }
                if user == self.caller {
                    Link::Own
                } else {
                    let profile = Key::profile(user, ProfileType::Customer);
                    Link::Other {
                        profile_exists: found.at(&profile).is_some(),
                    }
                }
            }
        };
        let customer = self.form.to_customer_at(&now.timestamp());
        let tx = creation(table, &customer, &link);
        Ok(Plan::Write(tx, CustomerCreated::New(customer)))
    }

    fn decide(
        &self,
        rejection: &Rejection<Guard>,
        attempt: &Attempt,
        _now: Now,
    ) -> Result<Step<CustomerCreated, CustomerRefusal>, StoreError> {
        if let Some(existing) = rejection.existing(Guard::AlreadyCustomer) {
            return Ok(Step::Done(CustomerCreated::Existing(field(
                existing, CUSTOMER,
            )?)));
        }
        let code_generated = self.form.code.is_none();
        if code_generated && rejection.only(Guard::Code) && attempt.regenerated + 1 < CODE_ATTEMPTS
        {
            tracing::info!(
                attempt.regenerated,
                "generated customer code in use; trying another"
            );
            return Ok(Step::Regenerate);
        }
        let (email, code) = (
            rejection.failed(Guard::Email),
            rejection.failed(Guard::Code),
        );
        Ok(if email || code {
            Step::Refuse(CustomerRefusal::Taken {
                email,
                code,
                user: false,
            })
        } else if rejection.failed(Guard::Profile) {
            // Another request created the profile since we looked.
            Step::LookAgain
        } else {
            Step::Impossible("a customer item under a fresh id already existed")
        })
    }

    fn replayed(&self, answer: StoredAnswer, _seen: &Found) -> Replay<CustomerCreated> {
        Replay::Outcome(CustomerCreated::Replayed(answer))
    }
}

impl Store {
    /// Creates the customer, or finds the user's existing one. The caller's right to act in
    /// the organization was settled from their token before this is called.
    ///
    /// Calls: a standalone customer, or callers making themselves customers, 1
    /// (`TransactWriteItems`; the existing customer comes back from its cancellation). A
    /// customer for another user: 1 `BatchGetItem` (the org#user claim, the user, their
    /// profile), which alone answers when they already are a customer, then 1
    /// `TransactWriteItems`. With an `Idempotency-Key`, the first answer is kept in the same
    /// transaction, and a retry is answered from it at the same cost in calls.
    pub async fn create_customer(
        &self,
        form: &CustomerForm,
        caller: UserId,
        idempotent: Option<&Idempotent<'_, CustomerCreated>>,
    ) -> Result<CustomerCreated, WriteError<CustomerRefusal>> {
        self.write(&CreateCustomer { form, caller }, idempotent)
            .await
    }
}

/// Whether `user` (whose `USER` item, if any, is among `found`, with its memberships) is a
/// member of `org`. The user's item carries their roles, kept equal to their `MEMBER` items
/// by every membership change; reading it needs no organization, which a change of a
/// customer learns only from the record it reads in the same call.
pub(super) fn is_member(found: &Found, user: UserId, org: OrgId) -> Result<bool, StoreError> {
    let Some(item) = found.at(&Key::user(user)) else {
        return Ok(false);
    };
    let roles: Vec<OrgRole> = match item.get(MEMBERSHIPS) {
        Some(_) => field(item, MEMBERSHIPS)?,
        None => Vec::new(),
    };
    Ok(roles.iter().any(|role| role.organization == org))
}

/// Filing a customer written before search under its rows, filters and words (the
/// backfill, `make backfill-customer-index`).
struct RefileCustomer {
    id: CustomerId,
}

/// What a refiling did.
#[derive(Debug, PartialEq, Eq)]
pub enum Refiled {
    /// Its rows and entries are written (again: the same keys, the same values).
    Filed,
    /// No such customer (deleted meanwhile).
    Gone,
}

impl WritePath for RefileCustomer {
    type Guard = Guard;
    type Outcome = Refiled;
    type Refusal = CustomerRefusal;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::items(vec![Key::customer(self.id)])
    }

    /// Every row and entry put, on condition that the record is still at the version read:
    /// a change meanwhile (which files the customer itself) makes it read again.
    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<Plan<Guard, Refiled, CustomerRefusal>, StoreError> {
        let Some(item) = found.at(&Key::customer(self.id)) else {
            return Ok(Plan::Done(Refiled::Gone));
        };
        let customer: Customer = record(item)?;
        let items = CustomerItems::of(&customer);
        let mut tx = Transaction::new(table);
        let at_version =
            Condition::equals(VERSION, number(customer.version)).or(Condition::absent(VERSION));
        tx.check(Guard::Fresh, &Key::customer(self.id), &at_version);
        for index in items.rows.into_iter().chain(items.entries) {
            tx.replace(Guard::Fresh, index, None);
        }
        Ok(Plan::Write(tx, Refiled::Filed))
    }

    fn replayed(&self, _answer: StoredAnswer, _seen: &Found) -> Replay<Refiled> {
        Replay::KeyReused
    }
}

impl Store {
    /// Files customer `id` under its rows, filters and words: one consistent `GetItem`
    /// (through `BatchGetItem`) and one `TransactWriteItems`. Safe while the API serves and
    /// safe to run again.
    pub async fn refile_customer(
        &self,
        id: CustomerId,
    ) -> Result<Refiled, WriteError<CustomerRefusal>> {
        self.write(&RefileCustomer { id }, None).await
    }
}

/// The transaction that creates `customer`, linked as `link` says. Pure.
fn creation(table: &str, customer: &Customer, link: &Link) -> Transaction<Guard> {
    let items = CustomerItems::of(customer);
    let mut tx = Transaction::new(table);
    if let (Some(user), Some(user_claim), Some(user_link)) =
        (customer.user_id, items.user_claim, items.user_link)
    {
        tx.create_or_return_existing(Guard::AlreadyCustomer, user_claim);
        tx.create(Guard::Fresh, user_link);
        let profile = UserProfile::new(
            user,
            ProfileType::Customer,
            customer.organization,
            &customer.updated_at,
        );
        let key = Key::profile(user, ProfileType::Customer);
        match link {
            Link::Own => {
                tx.update(Guard::Fresh, &key, &move_profile(&profile), None);
            }
            Link::Other {
                profile_exists: false,
            } => {
                tx.create(Guard::Profile, item(Entity::Profile, &key, &profile));
            }
            Link::Other {
                profile_exists: true,
            }
            | Link::Standalone => {}
        }
    }
    tx.create(Guard::Fresh, items.record)
        .create(Guard::Email, items.email_claim)
        .create(Guard::Code, items.code_claim);
    for index in items.rows.into_iter().chain(items.entries) {
        tx.replace(Guard::Fresh, index, None);
    }
    tx
}

/// The update that points a user's own customer profile at `profile.organization`, creating
/// the profile when it is missing: every other attribute is written only if absent
/// (`if_not_exists`), so an existing profile keeps its id and creation time. Derived from
/// the record, so the update and the record cannot drift apart.
fn move_profile(profile: &UserProfile) -> Update {
    const MOVED: [&str; 2] = [ORGANIZATION, UPDATED_AT];
    let mut record = item(
        Entity::Profile,
        &Key::profile(profile.user_id, profile.profile_type),
        profile,
    );
    record.remove(PK);
    record.remove(SK);
    let mut attributes: Vec<_> = record.into_iter().collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    attributes
        .into_iter()
        .fold(Update::new(), |update, (name, value)| {
            if MOVED.contains(&name.as_str()) {
                update.set(name.as_str(), value)
            } else {
                let kept = Operand::OrElse(name.as_str().into(), value);
                update.set_to(name.as_str(), kept)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::super::write::tests::every_rejection;
    use super::super::write::tests::now;
    use super::*;
    use crate::domain::sample_customer_form;

    const GUARDS: [Guard; 5] = [
        Guard::AlreadyCustomer,
        Guard::Profile,
        Guard::Email,
        Guard::Code,
        Guard::Fresh,
    ];

    /// Every combination of cancelled guards, for a generated and a chosen code, at every
    /// number of codes tried so far.
    #[test]
    fn every_cancellation_has_one_meaning() {
        let existing = sample_customer_form().to_customer();
        for chosen_code in [false, true] {
            let mut form = sample_customer_form();
            form.code = chosen_code.then(|| existing.code.clone());
            let path = CreateCustomer {
                form: &form,
                caller: UserId::generate(),
            };
            for regenerated in 0..CODE_ATTEMPTS {
                let attempt = Attempt {
                    look_first: false,
                    regenerated,
                };
                for (failed, rejection) in every_rejection(&GUARDS) {
                    let rejection = with_claim_item(failed.clone(), &existing, rejection);
                    let step = path.decide(&rejection, &attempt, now()).unwrap();
                    let has = |g| failed.contains(&g);
                    let (email, code) = (has(Guard::Email), has(Guard::Code));
                    let expected = if has(Guard::AlreadyCustomer) {
                        "existing"
                    } else if failed == [Guard::Code] && !chosen_code && regenerated < 2 {
                        "regenerate"
                    } else if email || code {
                        "taken"
                    } else if has(Guard::Profile) {
                        "look again"
                    } else {
                        "impossible"
                    };
                    let got = match &step {
                        Step::Done(CustomerCreated::Existing(c)) if *c == existing => "existing",
                        Step::Regenerate => "regenerate",
                        Step::Refuse(CustomerRefusal::Taken {
                            email: e,
                            code: c,
                            user: false,
                        }) if (*e, *c) == (email, code) => "taken",
                        Step::LookAgain => "look again",
                        Step::Impossible(_) => "impossible",
                        _ => "something else",
                    };
                    assert_eq!(
                        got, expected,
                        "{failed:?}, chosen code {chosen_code}, {attempt:?}"
                    );
                }
            }
        }
    }

    /// The org#user claim comes back with the customer that holds it.
    fn with_claim_item(
        failed: Vec<Guard>,
        existing: &Customer,
        rejection: Rejection<Guard>,
    ) -> Rejection<Guard> {
        if !failed.contains(&Guard::AlreadyCustomer) {
            return rejection;
        }
        let mut claim = bare_item(Entity::CustomerOfUser, &Key::customer(existing.id));
        claim.insert(CUSTOMER.to_owned(), attribute(existing));
        Rejection::of(
            failed
                .into_iter()
                .map(|g| (g, (g == Guard::AlreadyCustomer).then(|| claim.clone())))
                .collect(),
        )
    }

    /// A creation names the customer's own items and the linked user's, never an item that
    /// other requests in the organization share.
    #[test]
    fn a_creation_names_only_its_own_items() {
        let mut form = sample_customer_form();
        let user = UserId::generate();
        form.user_id = Some(user);
        let customer = form.to_customer();
        let org = customer.organization;
        let tx = creation(
            "t",
            &customer,
            &Link::Other {
                profile_exists: false,
            },
        );
        let roles: Vec<Option<Guard>> = tx.actions().map(|(role, _)| role).collect();
        use Guard::*;
        assert_eq!(
            roles[..6],
            [AlreadyCustomer, Fresh, Profile, Fresh, Email, Code].map(Some)
        );
        assert!(roles[6..].iter().all(|role| *role == Some(Fresh)));
        let index = CustomerItems::of(&customer).index_keys();
        assert_eq!(roles.len(), 6 + index.len(), "the rows, filters and words");
        let mut own = vec![
            Key::customer_of_user(org, user),
            Key::user_customer(user, customer.id),
            Key::profile(user, ProfileType::Customer),
            Key::customer(customer.id),
            Key::customer_email(org, &customer.email),
            Key::customer_code(org, &customer.code),
        ];
        own.extend(index);
        for (_, action) in tx.actions() {
            let key = action
                .put()
                .and_then(|put| Key::of_item(put.item()))
                .expect("every action of a creation is a put");
            assert!(own.contains(&key), "{key:?} is not the customer's own");
        }
    }
}

//! Every cross-item invariant of `docs/data-model.md`, checked over a whole table's items.
//!
//! Pure: items in, violations out. `check-table` scans a table (local or real) and prints
//! them; every race and fault test ends by asserting there are none. Keys are rebuilt with
//! the production `Key` builders, so a key format that drifts shows up here too.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use shared::domain::{
    Customer, CustomerLink, CustomerOrder, Membership, OrgId, OrgMembership, OrgRole, Organization,
    ProfileId, ProfileType, Role, User, UserId, UserProfile, Vendor,
};
use shared::store::keys::{Key, ListKey, GSI1_PK, GSI1_SK, PK, SK};
use shared::store::Entity;

pub type Item = HashMap<String, AttributeValue>;

/// What a check found: a count of items per entity and every violation, each naming the
/// item it is about.
#[derive(Debug, Default)]
pub struct Report {
    pub entities: BTreeMap<String, usize>,
    pub violations: Vec<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Attributes that are the item's place in the table, not its record.
const PLACE: [&str; 5] = [PK, SK, GSI1_PK, GSI1_SK, "entity"];

pub fn check(items: &[Item]) -> Report {
    let table = Table::index(items);
    let mut report = Report::default();
    for item in items {
        let entity = text(item, "entity").unwrap_or("<none>").to_owned();
        *report.entities.entry(entity.clone()).or_default() += 1;
        let key = Key::of_item(item);
        let label = match &key {
            Some(k) => format!("{entity} {}/{}", k.pk, k.sk),
            None => format!("{entity} without a key"),
        };
        let Some(key) = key else {
            report.violations.push(label);
            continue;
        };
        let mut problems = Vec::new();
        match Entity::of(item) {
            Some(Entity::User) => table.user(item, &key, &mut problems),
            Some(claim @ (Entity::Username | Entity::Email)) => {
                table.login_claim(item, claim, &mut problems);
            }
            Some(Entity::UsernameSkeleton) => table.username_skeleton(item, &key, &mut problems),
            Some(Entity::Org) => table.organization(item, &key, &mut problems),
            Some(Entity::Member) => table.membership(item, &key, &mut problems),
            Some(Entity::Profile) => table.profile(item, &key, &mut problems),
            Some(Entity::Vendor) => table.vendor(item, &key, &mut problems),
            Some(Entity::Customer) => table.customer(item, &key, &mut problems),
            Some(
                claim @ (Entity::CustomerOfUser | Entity::CustomerEmail | Entity::CustomerCode),
            ) => {
                table.customer_claim(item, &key, claim, &mut problems);
            }
            Some(Entity::CustomerRow | Entity::CustomerFacet | Entity::CustomerWord) => {
                table.customer_index_entry(item, &key, &mut problems);
            }
            Some(Entity::Session) => table.session(item, &key, &mut problems),
            Some(Entity::RotatedToken) => rotated_token(item, &key, &mut problems),
            Some(Entity::UserCustomer) => table.user_customer(item, &key, &mut problems),
            Some(Entity::UserOrg) => table.user_organization(item, &key, &mut problems),
            Some(Entity::LoginFailures) => login_failures(item, &key, &mut problems),
            Some(Entity::Idempotency) => idempotency_record(item, &key, &mut problems),
            Some(Entity::Invitation) => table.invitation(item, &key, &mut problems),
            Some(Entity::Invitee) => table.invitee(item, &key, &mut problems),
            Some(Entity::Mail) => mail(item, &key, &mut problems),
            Some(Entity::PasswordReset) => table.password_reset(item, &key, &mut problems),
            Some(Entity::ResetRequests) => hourly(item, &key, "EMAIL#", &mut problems),
            Some(Entity::EmailVerification) => table.email_verification(item, &key, &mut problems),
            Some(Entity::VerificationRequests) => hourly(item, &key, "USER#", &mut problems),
            Some(Entity::SigningKey) => signing_key(item, &key, &mut problems),
            None => problems.push(format!("unknown entity {entity:?}")),
        }
        report
            .violations
            .extend(problems.into_iter().map(|p| format!("{label}: {p}")));
    }
    report
}

/// Employee profiles that point at an organization their user is not a member of, as
/// (user, organization): what `check-table --repair` mends. Left by removals made before
/// removals moved the profile away.
pub fn dangling_employee_profiles(items: &[Item]) -> Vec<(UserId, OrgId)> {
    let table = Table::index(items);
    items
        .iter()
        .filter(|item| Entity::of(item) == Some(Entity::Profile))
        .filter_map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item::<UserProfile>(item.clone()).ok()
        })
        .filter(|p| p.profile_type == ProfileType::Employee)
        .filter_map(|p| p.organization.map(|org| (p.user_id, org)))
        .filter(|(user, org)| table.get(&Key::membership(*org, *user)).is_none())
        .collect()
}

/// (organization, user) for every member who left while owning customers there: what the
/// table-stream function's job unassigns, and `check-table --repair` runs again (after a
/// batch that ended in the failure queue, say).
pub fn departed_owners(items: &[Item]) -> Vec<(OrgId, UserId)> {
    let table = Table::index(items);
    let mut departed: Vec<(OrgId, UserId)> = items
        .iter()
        .filter(|item| Entity::of(item) == Some(Entity::Customer))
        .filter_map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item::<Customer>(item.clone()).ok()
        })
        .filter_map(|c| c.owner_id.map(|owner| (c.organization, owner)))
        .filter(|(org, owner)| table.get(&Key::membership(*org, *owner)).is_none())
        .collect();
    departed.sort_by_key(|(org, owner)| (org.to_string(), owner.to_string()));
    departed.dedup();
    departed
}

/// Users whose memberships list them by a copy that is not what their user item says now
/// (names, `email_verified`): what the table-stream function's copy job brings in step
/// within seconds of a change, and `check-table --repair` runs again. Not a violation: a
/// table being written to has some for those seconds.
pub fn stale_member_copies(items: &[Item]) -> Vec<UserId> {
    let table = Table::index(items);
    let mut stale: Vec<UserId> = items
        .iter()
        .filter(|item| Entity::of(item) == Some(Entity::Member))
        .filter_map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item::<Membership>(item.clone()).ok()
        })
        .filter(|membership| {
            let user = table.get(&Key::user(membership.user_id));
            let user = user
                .and_then(|u| serde_dynamo::aws_sdk_dynamodb_1::from_item::<User>(u.clone()).ok());
            match (&membership.member, user) {
                (Some(copy), Some(user)) => *copy != shared::domain::MemberNames::of(&user),
                _ => false,
            }
        })
        .map(|membership| membership.user_id)
        .collect();
    stale.sort_by_key(ToString::to_string);
    stale.dedup();
    stale
}

struct Table<'a> {
    by_key: HashMap<(String, String), &'a Item>,
    /// user id to the roles their MEMBER items give them.
    roles: HashMap<String, HashSet<(String, String)>>,
    /// organization id to how many of its MEMBER items are owners.
    owners: HashMap<String, u64>,
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn parse<T: DeserializeOwned>(item: &Item, problems: &mut Vec<String>) -> Option<T> {
    match serde_dynamo::aws_sdk_dynamodb_1::from_item(item.clone()) {
        Ok(record) => Some(record),
        Err(e) => {
            problems.push(format!("unreadable record: {e}"));
            None
        }
    }
}

/// The record part of an item: everything but its place in the table (and `extras`).
fn record_of(item: &Item, extras: &[&str]) -> Item {
    item.iter()
        .filter(|(name, _)| !PLACE.contains(&name.as_str()) && !extras.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn expect_key(actual: &Key, expected: &Key, problems: &mut Vec<String>) {
    if actual != expected {
        problems.push(format!(
            "stored under {}/{}, its record says {}/{}",
            actual.pk, actual.sk, expected.pk, expected.sk
        ));
    }
}

fn expect_list(item: &Item, expected: &ListKey, problems: &mut Vec<String>) {
    let actual = (text(item, GSI1_PK), text(item, GSI1_SK));
    if actual != (Some(expected.pk.as_str()), Some(expected.sk.as_str())) {
        problems.push(format!(
            "listed under {actual:?}, expected {}/{}",
            expected.pk, expected.sk
        ));
    }
}

impl<'a> Table<'a> {
    fn index(items: &'a [Item]) -> Self {
        let mut by_key = HashMap::new();
        let mut roles: HashMap<String, HashSet<(String, String)>> = HashMap::new();
        let mut owners: HashMap<String, u64> = HashMap::new();
        for item in items {
            if let Some(key) = Key::of_item(item) {
                by_key.insert((key.pk, key.sk), item);
            }
            if Entity::of(item) == Some(Entity::Member) {
                if let (Some(user), Some(org), Some(role)) = (
                    text(item, "user_id"),
                    text(item, "organization"),
                    text(item, "role"),
                ) {
                    roles
                        .entry(user.to_owned())
                        .or_default()
                        .insert((org.to_owned(), role.to_owned()));
                    if role == "owner" {
                        *owners.entry(org.to_owned()).or_default() += 1;
                    }
                }
            }
        }
        Self {
            by_key,
            roles,
            owners,
        }
    }

    fn get(&self, key: &Key) -> Option<&'a Item> {
        self.by_key.get(&(key.pk.clone(), key.sk.clone())).copied()
    }

    fn require(&self, what: &str, key: &Key, problems: &mut Vec<String>) -> Option<&'a Item> {
        let found = self.get(key);
        if found.is_none() {
            problems.push(format!("{what} {}/{} is missing", key.pk, key.sk));
        }
        found
    }

    fn user(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(user) = parse::<User>(item, problems) else {
            return;
        };
        expect_key(key, &Key::user(user.id), problems);
        for (what, claim_key) in [
            ("username claim", Key::username(&user.username)),
            ("email claim", Key::user_email(&user.email)),
        ] {
            let Some(claim) = self.require(what, &claim_key, problems) else {
                continue;
            };
            if record_of(claim, &[]) != record_of(item, &[]) {
                problems.push(format!(
                    "{what} does not carry the same user, hash and roles"
                ));
            }
        }
        let carried: HashSet<(String, String)> = item
            .get("memberships")
            .and_then(|v| {
                serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value::<Vec<OrgRole>>(v.clone())
                    .ok()
            })
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.organization.to_string(), role_name(r.role)))
            .collect();
        let kept = self
            .roles
            .get(&user.id.to_string())
            .cloned()
            .unwrap_or_default();
        if carried != kept {
            problems.push(format!(
                "carries roles {carried:?}, its organizations keep {kept:?}"
            ));
        }
        if text(item, "password_hash").is_none_or(|h| !h.starts_with("$argon2id$")) {
            problems.push("no argon2id password hash".into());
        }
        // A name that looks like another user's would share their claim.
        let look = self.require(
            "username look claim",
            &Key::username_skeleton(&user.username),
            problems,
        );
        if let Some(holder) = look.and_then(|look| text(look, "user_id")) {
            if holder != user.id.to_string() {
                problems.push(format!("username look claim is user {holder}'s"));
            }
        }
        for profile_type in ProfileType::ALL {
            self.require("profile", &Key::profile(user.id, profile_type), problems);
        }
    }

    /// A username's look belongs to a user whose username looks so.
    fn username_skeleton(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(user) = text(item, "user_id").and_then(|u| shared::domain::UserId::parse(u).ok())
        else {
            problems.push("no user".into());
            return;
        };
        let Some(record) = self.require("user", &Key::user(user), problems) else {
            return;
        };
        if let Some(user) = parse::<User>(record, problems) {
            expect_key(key, &Key::username_skeleton(&user.username), problems);
        }
    }

    fn login_claim(&self, item: &Item, entity: Entity, problems: &mut Vec<String>) {
        let Some(user) = parse::<User>(item, problems) else {
            return;
        };
        let expected = if entity == Entity::Username {
            Key::username(&user.username)
        } else {
            Key::user_email(&user.email)
        };
        if let Some(key) = Key::of_item(item) {
            expect_key(&key, &expected, problems);
        }
        self.require("user", &Key::user(user.id), problems);
    }

    fn organization(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(org) = parse::<Organization>(item, problems) else {
            return;
        };
        expect_key(key, &Key::organization(org.id), problems);
        // `owners` counts the owner memberships; absent on organizations from before teams,
        // which had exactly one.
        let counted = match item.get("owners") {
            Some(n) => n.as_n().ok().and_then(|n| n.parse::<u64>().ok()),
            None => Some(1),
        };
        let owners = self.owners.get(&org.id.to_string()).copied().unwrap_or(0);
        if owners == 0 {
            problems.push("no owner".into());
        }
        if counted != Some(owners) {
            problems.push(format!("counts {counted:?} owners, has {owners}"));
        }
    }

    fn membership(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(membership) = parse::<Membership>(item, problems) else {
            return;
        };
        expect_key(
            key,
            &Key::membership(membership.organization, membership.user_id),
            problems,
        );
        self.require(
            "organization",
            &Key::organization(membership.organization),
            problems,
        );
        self.require("user", &Key::user(membership.user_id), problems);
        let side = self.require(
            "user's side of the membership",
            &Key::user_organization(membership.user_id, membership.organization),
            problems,
        );
        if side.is_some_and(|s| text(s, "role") != Some(role_name(membership.role).as_str())) {
            problems.push("its user's side has another role".into());
        }
    }

    fn profile(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(profile) = parse::<UserProfile>(item, problems) else {
            return;
        };
        expect_key(
            key,
            &Key::profile(profile.user_id, profile.profile_type),
            problems,
        );
        if profile.id != ProfileId::of(profile.user_id, profile.profile_type) {
            problems.push("its id is not the one derived from (user, type)".into());
        }
        if profile.is_primary != (profile.profile_type == ProfileType::Vendor) {
            problems.push("only the vendor profile is primary".into());
        }
        self.require("user", &Key::user(profile.user_id), problems);
        // The employee profile acts for its user in an organization: one they belong to.
        // (The vendor profile names the organization its user founded, the customer profile
        // one they are a customer of: neither is a membership.)
        if profile.profile_type == ProfileType::Employee {
            if let Some(org) = profile.organization {
                let member = Key::membership(org, profile.user_id);
                if self.get(&member).is_none() {
                    problems.push(format!(
                        "points at organization {org}, which its user is not a member of"
                    ));
                }
            }
        }
    }

    fn vendor(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(vendor) = parse::<Vendor>(item, problems) else {
            return;
        };
        expect_key(key, &Key::vendor(vendor.id), problems);
        expect_list(
            item,
            &ListKey::vendor(vendor.organization, vendor.id),
            problems,
        );
        self.require(
            "organization",
            &Key::organization(vendor.organization),
            problems,
        );
        if vendor.user_profile != ProfileId::of(vendor.user_id, ProfileType::Vendor) {
            problems.push("not linked to its user's vendor profile".into());
        }
        self.require(
            "vendor profile",
            &Key::profile(vendor.user_id, ProfileType::Vendor),
            problems,
        );
    }

    fn customer(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(customer) = parse::<Customer>(item, problems) else {
            return;
        };
        let org = customer.organization;
        expect_key(key, &Key::customer(customer.id), problems);
        self.require("organization", &Key::organization(org), problems);
        if let Some(owner) = customer.owner_id {
            // Once the stream is drained: a departed member's customers are unassigned.
            self.require("owner's membership", &Key::membership(org, owner), problems);
        }
        let id = customer.id.to_string();
        let mut claims = vec![
            ("email claim", Key::customer_email(org, &customer.email)),
            ("code claim", Key::customer_code(org, &customer.code)),
        ];
        claims.extend(CustomerOrder::ALL.map(|order| {
            (
                "row of an ordered list",
                Key::customer_row(order, &customer),
            )
        }));
        for entry in index_entries(&customer) {
            let found = self.require("filter or word entry", &entry, problems);
            if found.is_some_and(|found| text(found, "customer_id") != Some(id.as_str())) {
                problems.push(format!(
                    "its entry {}/{} belongs to another customer",
                    entry.pk, entry.sk
                ));
            }
        }
        match customer.user_id {
            Some(user) => {
                claims.push(("org#user claim", Key::customer_of_user(org, user)));
                if customer.user_profile != Some(ProfileId::of(user, ProfileType::Customer)) {
                    problems.push("not linked to its user's customer profile".into());
                }
                self.require("user", &Key::user(user), problems);
                self.require(
                    "customer profile",
                    &Key::profile(user, ProfileType::Customer),
                    problems,
                );
                let link = self.require(
                    "the user's side of the link",
                    &Key::user_customer(user, customer.id),
                    problems,
                );
                if link.is_some_and(|link| {
                    parse::<CustomerLink>(link, &mut Vec::new()) != Some(customer.link())
                }) {
                    problems.push("the user's side of the link differs from the record".into());
                }
            }
            None if customer.user_profile.is_some() => {
                problems.push("a profile without a user".into());
            }
            None => {}
        }
        for (what, claim_key) in claims {
            let Some(claim) = self.require(what, &claim_key, problems) else {
                continue;
            };
            if text(claim, "customer_id") != Some(id.as_str()) {
                problems.push(format!(
                    "its {what} belongs to {:?}",
                    text(claim, "customer_id")
                ));
            }
            let copy = claim.get("customer").and_then(|v| v.as_m().ok());
            if copy != Some(&record_of(item, &[])) {
                problems.push(format!("its {what}'s copy differs from the record"));
            }
        }
    }

    /// A claim points at an existing customer whose own claim is this very item: nothing
    /// is orphaned, whatever a cancelled or half-understood write left behind.
    fn customer_claim(&self, item: &Item, key: &Key, entity: Entity, problems: &mut Vec<String>) {
        let Some(id) = text(item, "customer_id") else {
            problems.push("no customer_id".into());
            return;
        };
        let Ok(customer_id) = shared::domain::CustomerId::parse(id) else {
            problems.push(format!("customer_id {id:?} is not an id"));
            return;
        };
        let Some(record) = self.require("customer", &Key::customer(customer_id), problems) else {
            return;
        };
        let Some(customer) = parse::<Customer>(record, &mut Vec::new()) else {
            problems.push("its customer is unreadable".into());
            return;
        };
        let org = customer.organization;
        let expected = match entity {
            Entity::CustomerEmail => Some(Key::customer_email(org, &customer.email)),
            Entity::CustomerCode => Some(Key::customer_code(org, &customer.code)),
            _ => customer
                .user_id
                .map(|user| Key::customer_of_user(org, user)),
        };
        if expected.as_ref() != Some(key) {
            problems.push(format!(
                "orphaned: its customer {id} does not claim this key"
            ));
        }
    }
}

impl Table<'_> {
    /// A user's reset (or verification): beside an existing user, naming them, a digest
    /// (never the token), expiring.
    fn password_reset(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(user) = text(item, "user_id").and_then(|u| shared::domain::UserId::parse(u).ok())
        else {
            problems.push("no user".into());
            return;
        };
        if *key != Key::password_reset(user) && *key != Key::email_verification(user) {
            problems.push("not beside its user".into());
        }
        self.require("user", &Key::user(user), problems);
        let digest = text(item, "digest").unwrap_or_default();
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.push("its token is not stored as a SHA-256 digest".into());
        }
        if number(item, "expires_at").is_none() {
            problems.push("no expires_at: it would never be removed".into());
        }
    }

    /// A user's email verification: beside an existing user, a digest (never the token), for
    /// an address that is still the user's unless verified since, expiring.
    fn email_verification(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        self.password_reset(item, key, problems);
        let user = text(item, "user_id").and_then(|u| shared::domain::UserId::parse(u).ok());
        let Some(user) = user.and_then(|u| self.by_key.get(&(Key::user(u).pk, "USER".into())))
        else {
            return;
        };
        let mine = text(user, "email").map(str::to_lowercase);
        let address = text(item, "email").map(str::to_lowercase);
        if address == mine {
            return;
        }
        // Another address: an email change, pending. Once it moved the email, its
        // verification is gone; a claim of that address by the same user says it is not.
        let claimed_by = address
            .and_then(|a| shared::domain::Email::parse(&a).ok())
            .map(|a| Key::user_email(&a))
            .and_then(|claim| self.by_key.get(&(claim.pk, claim.sk)))
            .and_then(|claim| text(claim, "id"));
        if claimed_by.is_some() && claimed_by == text(user, "id") {
            problems.push("an email change kept after it moved the email".into());
        }
    }

    /// A row, filter entry or word names an existing customer whose index has this very
    /// key: no entry outlives its customer or a change of what it was filed under.
    fn customer_index_entry(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(customer_id) =
            text(item, "customer_id").and_then(|id| shared::domain::CustomerId::parse(id).ok())
        else {
            problems.push("no customer_id".into());
            return;
        };
        let Some(record) = self.require("customer", &Key::customer(customer_id), problems) else {
            return;
        };
        let Some(customer) = parse::<Customer>(record, &mut Vec::new()) else {
            problems.push("its customer is unreadable".into());
            return;
        };
        let filed = CustomerOrder::ALL
            .iter()
            .map(|order| Key::customer_row(*order, &customer))
            .chain(index_entries(&customer))
            .any(|expected| expected == *key);
        if !filed {
            problems.push(format!(
                "outlived: its customer {customer_id} is not filed under this key"
            ));
        }
    }
}

/// The filter entries and words a customer is filed under.
fn index_entries(customer: &Customer) -> Vec<Key> {
    crate::customer_index_keys(customer)
        .into_iter()
        .skip(CustomerOrder::ALL.len())
        .collect()
}

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// Beside an account (known names) or a username or email claim's key (names no account
/// holds), counting.
fn login_failures(item: &Item, key: &Key, problems: &mut Vec<String>) {
    let beside = ["USERNAME#", "EMAIL#", "USER#"];
    if !beside.iter().any(|p| key.pk.starts_with(p)) || key.sk != "LOGIN_FAILURES" {
        problems.push("not beside an account or a log-in name".into());
    }
    if number(item, "count").is_none_or(|n| n == 0) || number(item, "last_at").is_none() {
        problems.push("no count or time of the last failure".into());
    }
    if number(item, "expires_at").is_none() {
        problems.push("no expires_at: it would never be removed".into());
    }
}

/// A message of the outbox: under its own id, pending (with its text) or done (sent with
/// SES's id, or refused with a reason) without it, so no secret outlives the sending;
/// expiring.
fn mail(item: &Item, key: &Key, problems: &mut Vec<String>) {
    if text(item, "id").is_none_or(|id| key.pk != format!("MAIL#{id}") || key.sk != "MAIL") {
        problems.push("not under its own id".into());
    }
    let has_text = text(item, "text").is_some();
    match text(item, "status") {
        Some("pending") if has_text => {}
        Some("sent") if !has_text && text(item, "ses_message_id").is_some() => {}
        Some("refused") if !has_text && text(item, "refusal").is_some() => {}
        other => problems.push(format!("status {other:?} with text {has_text}")),
    }
    if text(item, "to").is_none() || number(item, "expires_at").is_none() {
        problems.push("no recipient or no expires_at: it would never be removed".into());
    }
}

/// Requests counted this hour (resets of an email, verification mails of a user): beside
/// what they count for, at most the limit, expiring when the hour ends.
fn hourly(item: &Item, key: &Key, beside: &str, problems: &mut Vec<String>) {
    if !key.pk.starts_with(beside) || !key.sk.ends_with("_REQUESTS") {
        problems.push(format!("not beside an {beside} item"));
    }
    let max = u64::from(shared::store::MAX_PER_HOUR);
    if number(item, "count").is_none_or(|n| n == 0 || n > max) {
        problems.push(format!("a count outside 1..={max}"));
    }
    let (start, expires) = (number(item, "window_start"), number(item, "expires_at"));
    if start.zip(expires).is_none_or(|(s, e)| e != s + 3600) {
        problems.push("no window_start, or expires_at not an hour after it".into());
    }
}

/// A published public key: in the keys' partition under its own `kid`, an Ed25519 key whose
/// id is that `kid`, with the time it was published.
fn signing_key(item: &Item, key: &Key, problems: &mut Vec<String>) {
    let kid = text(item, "kid").unwrap_or_default();
    if *key != Key::signing_key(kid) {
        problems.push(format!("not at its kid's key ({kid:?})"));
    }
    let public = text(item, "public_key").unwrap_or_default();
    if text(item, "algorithm") != Some("EdDSA")
        || shared::auth::PublicKey::parse(kid, public).is_none()
    {
        problems.push("not an Ed25519 public key whose id is its kid".into());
    }
    if number(item, "published_at").is_none() {
        problems.push("no published_at".into());
    }
}

/// A token a session rotated away: only its digest, beside its session, expiring.
fn rotated_token(item: &Item, key: &Key, problems: &mut Vec<String>) {
    let hex64 = |s: &str| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    if !key.pk.starts_with("SESSION#") || !key.sk.strip_prefix("ROTATED#").is_some_and(hex64) {
        problems.push("not a digest beside a session".into());
    }
    if text(item, "user_id").is_none() || number(item, "expires_at").is_none() {
        problems.push("no user or no expires_at: it would never be removed".into());
    }
}

/// A first answer kept for replays: a success, JSON, with no token or secret, expiring.
fn idempotency_record(item: &Item, key: &Key, problems: &mut Vec<String>) {
    let hex64 = |s: &str| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    if !key.pk.strip_prefix("IDEMPOTENCY#").is_some_and(hex64) || key.sk != "IDEMPOTENCY" {
        problems.push("not under a digest key".into());
    }
    if !text(item, "fingerprint").is_some_and(hex64) {
        problems.push("its fingerprint is not a SHA-256 digest".into());
    }
    if !number(item, "status").is_some_and(|s| (200..300).contains(&s)) {
        problems.push("keeps an answer that was not a success".into());
    }
    let no_content = number(item, "status") == Some(204);
    match text(item, "answer").map(serde_json::from_str::<serde_json::Value>) {
        _ if no_content => {
            if text(item, "answer") != Some("") {
                problems.push("a 204 with a body".into());
            }
        }
        Some(Ok(answer)) => {
            for secret in ["access_token", "refresh_token", "password", "password_hash"] {
                if has_field(&answer, secret) {
                    problems.push(format!("its answer keeps {secret}"));
                }
            }
        }
        _ => problems.push("its answer is not JSON".into()),
    }
    if number(item, "expires_at").is_none() {
        problems.push("no expires_at: it would never be removed".into());
    }
}

fn has_field(value: &serde_json::Value, name: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            map.contains_key(name) || map.values().any(|v| has_field(v, name))
        }
        serde_json::Value::Array(items) => items.iter().any(|v| has_field(v, name)),
        _ => false,
    }
}

impl Table<'_> {
    /// The user's side of a customer link: its customer exists and names this user.
    fn user_customer(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(link) = parse::<CustomerLink>(item, problems) else {
            return;
        };
        let Some(record) = self.require("customer", &Key::customer(link.id), problems) else {
            return;
        };
        let owner = parse::<Customer>(record, &mut Vec::new()).and_then(|c| c.user_id);
        if owner.map(|user| Key::user_customer(user, link.id)).as_ref() != Some(key) {
            problems.push("orphaned: its customer does not name this user".into());
        }
    }

    /// The user's side of a membership: the membership exists with this role, and the
    /// organization with this name.
    fn user_organization(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(membership) = parse::<OrgMembership>(item, problems) else {
            return;
        };
        let Some(user) = key
            .pk
            .strip_prefix("USER#")
            .and_then(|u| shared::domain::UserId::parse(u).ok())
        else {
            problems.push("not in a user's partition".into());
            return;
        };
        let kept = self.require(
            "membership",
            &Key::membership(membership.id, user),
            problems,
        );
        if kept.is_some_and(|m| text(m, "role") != Some(role_name(membership.role).as_str())) {
            problems.push("its role differs from the membership's".into());
        }
        let org = self.require("organization", &Key::organization(membership.id), problems);
        if org.is_some_and(|o| text(o, "name") != Some(membership.name.as_str())) {
            problems.push("its name differs from the organization's".into());
        }
    }

    /// A session belongs to an existing user, keeps only a digest, and expires.
    fn session(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(user) = text(item, "user_id").and_then(|u| shared::domain::UserId::parse(u).ok())
        else {
            problems.push("no user".into());
            return;
        };
        if !key.pk.starts_with("SESSION#") || key.sk != "SESSION" {
            problems.push("not under a session key".into());
        }
        self.require("user", &Key::user(user), problems);
        let digest = text(item, "current").unwrap_or_default();
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.push("its current token is not stored as a SHA-256 digest".into());
        }
        if number(item, "expires_at").is_none() {
            problems.push("no expires_at: it would never be removed".into());
        }
    }
}

impl Table<'_> {
    /// A pending invitation has its invitee side, which names it (so at most one is pending
    /// per organization and email), invites no owner, and is not to a member's email.
    fn invitation(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(invitation) = parse::<shared::domain::Invitation>(item, problems) else {
            return;
        };
        expect_key(
            key,
            &Key::invitation(invitation.organization, invitation.id),
            problems,
        );
        if invitation.role == Role::Owner {
            problems.push("invites an owner".into());
        }
        if invitation.token_digest.len() != 64 {
            problems.push("keeps no SHA-256 digest of its token".into());
        }
        self.require(
            "organization",
            &Key::organization(invitation.organization),
            problems,
        );
        if !invitation.pending(shared::domain::unix_now()) {
            return;
        }
        let side_key = Key::invitee(invitation.organization, &invitation.email);
        let side = self.require("invitee side", &side_key, problems);
        if side.is_some_and(|s| text(s, "id") != Some(invitation.id.to_string().as_str())) {
            problems.push("its invitee side names another invitation".into());
        }
        let member = self
            .get(&Key::user_email(&invitation.email))
            .and_then(|claim| parse::<User>(claim, &mut Vec::new()))
            .and_then(|user| self.get(&Key::membership(invitation.organization, user.id)));
        if member.is_some() {
            problems.push("pending for an email that is a member's".into());
        }
    }

    /// A pending invitee side names a pending invitation to its email.
    fn invitee(&self, item: &Item, key: &Key, problems: &mut Vec<String>) {
        let Some(notice) = parse::<shared::domain::InvitationNotice>(item, problems) else {
            return;
        };
        if shared::domain::unix_now() >= notice.expires_at {
            return;
        }
        let at = Key::invitation(notice.organization.id, notice.id);
        let Some(record) = self.require("invitation", &at, problems) else {
            return;
        };
        if let Some(invitation) = parse::<shared::domain::Invitation>(record, problems) {
            expect_key(
                key,
                &Key::invitee(invitation.organization, &invitation.email),
                problems,
            );
        }
    }
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

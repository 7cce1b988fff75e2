//! `Idempotency-Key` (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a retried
//! POST has one effect and gets the first answer.

use super::digest::sha256_hex;
use super::{CustomerId, OrgId, UserId};
use serde_json::{Map, Value};

/// A client's key: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters but the comma: API Gateway joins a header sent
    /// twice into one value with commas, so a comma would let two keys pass as one.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty()
            || raw.len() > 255
            || !raw.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err("must be sent once: 1 to 255 visible ASCII characters, without a comma");
        }
        Ok(Self(raw.to_owned()))
    }
}

/// What a key is scoped to: a caller on authenticated routes, the route alone on sign-up
/// (where the request fingerprint tells a retry from another use of the key).
#[derive(Clone, Copy, Debug)]
pub enum IdempotencyScope {
    Signup,
    CreateCustomer(UserId),
    /// PATCH of one customer by one caller.
    UpdateCustomer(UserId, CustomerId),
    /// DELETE of one customer by one caller: the same record as its PATCH, so that one key
    /// used for both is a key reused, not two first answers.
    DeleteCustomer(UserId, CustomerId),
    /// PATCH or DELETE of one member of one organization by one caller (one record for both,
    /// as for customers).
    ChangeMember(UserId, OrgId, UserId),
    /// Invitations into one organization by one caller.
    Invite(UserId, OrgId),
    /// Revoking one invitation, by one caller.
    Revoke(UserId, crate::InvitationId),
    /// Accepting invitations, by one caller.
    Accept(UserId),
    /// Renaming one organization, by one caller.
    Rename(UserId, OrgId),
    /// Batches of customers into one organization, by one caller.
    ImportCustomers(UserId, OrgId),
}

/// One request's idempotency: which record it owns, and the fingerprint of its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    /// SHA-256 (hex) of scope and key: fixed length, and nothing the client wrote reaches a
    /// table key as such.
    pub id: String,
    /// SHA-256 (hex) of the canonical body without its secret fields. Never the body, and
    /// never a fast hash of a password: a replayed sign-up proves the password against the
    /// account's argon2 hash instead.
    pub fingerprint: String,
}

/// Fields left out of fingerprints.
const SECRET_FIELDS: [&str; 2] = ["password", "password_confirm"];

impl Idempotency {
    /// The record is the scope's; the fingerprint covers the body and, where one record
    /// serves several operations (PATCH and DELETE of a customer), which one it was.
    pub fn new(scope: IdempotencyScope, key: &IdempotencyKey, body: &Map<String, Value>) -> Self {
        let (record, operation) = match scope {
            IdempotencyScope::Signup => ("signup".to_owned(), ""),
            IdempotencyScope::CreateCustomer(user) => (format!("create-customer\n{user}"), ""),
            IdempotencyScope::UpdateCustomer(user, customer) => {
                (format!("change-customer\n{user}\n{customer}"), "PATCH\n")
            }
            IdempotencyScope::DeleteCustomer(user, customer) => {
                (format!("change-customer\n{user}\n{customer}"), "DELETE\n")
            }
            IdempotencyScope::ChangeMember(user, org, member) => {
                (format!("change-member\n{user}\n{org}\n{member}"), "")
            }
            IdempotencyScope::Invite(user, org) => (format!("invite\n{user}\n{org}"), ""),
            IdempotencyScope::Revoke(user, id) => (format!("revoke\n{user}\n{id}"), ""),
            IdempotencyScope::Accept(user) => (format!("accept\n{user}"), ""),
            IdempotencyScope::Rename(user, org) => (format!("rename\n{user}\n{org}"), ""),
            IdempotencyScope::ImportCustomers(user, org) => {
                (format!("import-customers\n{user}\n{org}"), "")
            }
        };
        let canonical = canonical_object(body, &SECRET_FIELDS);
        Self {
            id: sha256_hex(format!("{record}\n{}", key.0).as_bytes()),
            fingerprint: sha256_hex(format!("{operation}{canonical}").as_bytes()),
        }
    }
}

/// How long a first answer is kept for replays.
pub const IDEMPOTENCY_SECONDS: u64 = 24 * 3600;

/// An object's canonical JSON, `leave_out` fields left out (at this depth only).
fn canonical_object(map: &Map<String, Value>, leave_out: &[&str]) -> String {
    let mut keys: Vec<&String> = map
        .keys()
        .filter(|k| !leave_out.contains(&k.as_str()))
        .collect();
    keys.sort();
    let fields: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// JSON with object keys sorted at every depth, so that key order and spacing do not make
/// the same request look like another.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => canonical_object(map, &[]),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        for ok in ["a", "4b8e-…".trim_end_matches('…'), &"k".repeat(255), "!~#"] {
            assert!(IdempotencyKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", " ", "a b", "é", "a\tb", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn fingerprints_ignore_key_order_and_scopes_separate_callers() {
        let key = IdempotencyKey::parse("k-1").unwrap();
        let scope = IdempotencyScope::CreateCustomer(UserId::generate());
        let a = Idempotency::new(
            scope,
            &key,
            &body(json!({"a": 1, "b": {"y": [1, {"q": 2, "p": 3}], "x": null}})),
        );
        let b = Idempotency::new(
            scope,
            &key,
            &body(json!({"b": {"x": null, "y": [1, {"p": 3, "q": 2}]}, "a": 1})),
        );
        assert_eq!(a, b);
        let changed = Idempotency::new(scope, &key, &body(json!({"a": 2})));
        assert_eq!(a.id, changed.id);
        assert_ne!(a.fingerprint, changed.fingerprint);
        let other_caller = Idempotency::new(
            IdempotencyScope::CreateCustomer(UserId::generate()),
            &key,
            &Map::new(),
        );
        assert_ne!(a.id, other_caller.id);
        assert_ne!(
            a.id,
            Idempotency::new(IdempotencyScope::Signup, &key, &Map::new()).id
        );
    }

    #[test]
    fn one_key_for_a_patch_and_a_delete_of_a_customer_is_a_key_reused() {
        let key = IdempotencyKey::parse("k").unwrap();
        let (user, customer) = (UserId::generate(), CustomerId::generate());
        let empty = Map::new();
        let patch = Idempotency::new(
            IdempotencyScope::UpdateCustomer(user, customer),
            &key,
            &empty,
        );
        let delete = Idempotency::new(
            IdempotencyScope::DeleteCustomer(user, customer),
            &key,
            &empty,
        );
        assert_eq!(patch.id, delete.id, "one record");
        assert_ne!(patch.fingerprint, delete.fingerprint, "two requests");
    }

    #[test]
    fn passwords_never_reach_a_fingerprint() {
        let key = IdempotencyKey::parse("k").unwrap();
        let with = |password: &str| {
            Idempotency::new(
                IdempotencyScope::Signup,
                &key,
                &body(json!({"u": 1, "password": password, "password_confirm": password})),
            )
        };
        assert_eq!(with("a").fingerprint, with("b").fingerprint);
        let other = Idempotency::new(IdempotencyScope::Signup, &key, &body(json!({"u": 2})));
        assert_ne!(with("a").fingerprint, other.fingerprint);
    }
}

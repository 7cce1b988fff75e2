//! Every key format in the table, and nothing else builds keys.
//!
//! Keys are made only from server-generated ids and from validated, normalised values
//! (`Username`, `Email`, `CustomerCode`), none of which can hold `#` or a control
//! character, so no input can forge a key of another shape.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    sha256_hex, Customer, CustomerCode, CustomerId, CustomerOrder, Email, Facet, Idempotency,
    InvitationId, LoginName, MailId, OrgId, ProfileType, SessionId, User, UserId, Username,
    VendorId,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";

/// A primary key: partition key and sort key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

/// A GSI1 key: the item's place in a list of its organization's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListKey {
    pub pk: String,
    pub sk: String,
}

const MEMBER: &str = "MEMBER#";
/// The partition key of the token signing keys (IAM policies name it: `template.yaml`).
pub const SIGNING_KEYS: &str = "SIGNING_KEY";
const INVITATION: &str = "INVITATION#";

fn key(pk: String, sk: &str) -> Key {
    Key {
        pk,
        sk: sk.to_owned(),
    }
}

impl Key {
    /// The partition of the public keys that verify access tokens (`store::signing_keys`);
    /// IAM lets every function read it, and the issuing functions write it, alone.
    pub fn signing_keys() -> String {
        SIGNING_KEYS.to_owned()
    }

    /// One published public key, by its `kid` (hex, made by `auth::PublicKey`).
    pub fn signing_key(kid: &str) -> Self {
        key(SIGNING_KEYS.to_owned(), &format!("KID#{kid}"))
    }

    pub fn user(user: UserId) -> Self {
        key(format!("USER#{user}"), "USER")
    }

    /// The three items that carry a user's log-in record (the user, and the username and
    /// email claims log-in reads): what every change of it writes alike.
    pub fn login_items(user: &User) -> [Self; 3] {
        [
            Self::user(user.id),
            Self::username(&user.username),
            Self::user_email(&user.email),
        ]
    }

    /// Claims a username, case-insensitively. Also what log-in reads.
    pub fn username(username: &Username) -> Self {
        key(format!("USERNAME#{}", username.normalized()), "USERNAME")
    }

    /// Claims a username's look: its UTS #39 confusable skeleton, by digest (a skeleton may
    /// hold any character), so that two names that look alike cannot both be taken.
    pub fn username_skeleton(username: &Username) -> Self {
        key(
            format!(
                "USERNAME_SKELETON#{}",
                sha256_hex(username.skeleton().as_bytes())
            ),
            "USERNAME_SKELETON",
        )
    }

    /// Claims a user's email, case-insensitively. Also what log-in reads.
    pub fn user_email(email: &Email) -> Self {
        key(format!("EMAIL#{}", email.normalized()), "EMAIL")
    }

    /// Failed log-ins under a name no account holds, beside the name's claim.
    pub fn login_failures(name: &LoginName) -> Self {
        Key {
            pk: Self::login_name(name).pk,
            sk: "LOGIN_FAILURES".to_owned(),
        }
    }

    /// Failed log-ins of an account, whichever of its names was used: beside the user.
    pub fn account_login_failures(user: UserId) -> Self {
        Key {
            pk: Self::user(user).pk,
            sk: "LOGIN_FAILURES".to_owned(),
        }
    }

    /// The claim log-in reads for a name.
    pub fn login_name(name: &LoginName) -> Self {
        match name {
            LoginName::Username(username) => Self::username(username),
            LoginName::Email(email) => Self::user_email(email),
        }
    }

    /// The first answer to a request with an `Idempotency-Key`; the id is a digest.
    pub fn idempotency(record: &Idempotency) -> Self {
        key(format!("IDEMPOTENCY#{}", record.id), "IDEMPOTENCY")
    }

    /// A user's password reset: the digest of the newest link, beside the user.
    pub fn password_reset(user: UserId) -> Self {
        key(format!("USER#{user}"), "PASSWORD_RESET")
    }

    /// A user's email verification: the digest of the newest link, beside the user.
    pub fn email_verification(user: UserId) -> Self {
        key(format!("USER#{user}"), "EMAIL_VERIFICATION")
    }

    /// How many verification mails a user asked for again in the current hour.
    pub fn verification_requests(user: UserId) -> Self {
        key(format!("USER#{user}"), "EMAIL_VERIFICATION_REQUESTS")
    }

    /// How many resets an email asked for in the current hour, beside the email's claim
    /// (whether or not an account has it).
    pub fn reset_requests(email: &Email) -> Self {
        Key {
            pk: Self::user_email(email).pk,
            sk: "PASSWORD_RESET_REQUESTS".to_owned(),
        }
    }

    /// A message in the outbox: its own partition, so no two writes share it.
    pub fn mail(id: MailId) -> Self {
        key(format!("MAIL#{id}"), "MAIL")
    }

    /// A log-in session: the one item of a refresh-token family.
    pub fn session(session: SessionId) -> Self {
        key(format!("SESSION#{session}"), "SESSION")
    }

    /// A token its session rotated away, by its digest (hex): kept until the session would
    /// expire, so that only a secret the session really issued counts as reuse.
    pub fn rotated_token(session: SessionId, digest: &str) -> Self {
        Key {
            pk: Self::session(session).pk,
            sk: format!("ROTATED#{digest}"),
        }
    }

    pub fn organization(org: OrgId) -> Self {
        key(format!("ORG#{org}"), "ORG")
    }

    pub fn membership(org: OrgId, user: UserId) -> Self {
        Key {
            pk: format!("ORG#{org}"),
            sk: format!("{MEMBER}{user}"),
        }
    }

    /// Where an organization's memberships are: its partition, and their sort keys' prefix.
    pub fn members_of(org: OrgId) -> (String, String) {
        (Self::organization(org).pk, MEMBER.to_owned())
    }

    /// An invitation, in its organization's partition.
    pub fn invitation(org: OrgId, id: InvitationId) -> Self {
        Key {
            pk: Self::organization(org).pk,
            sk: format!("{INVITATION}{id}"),
        }
    }

    /// Where an organization's invitations are: its partition, and their sort keys' prefix.
    pub fn invitations_of(org: OrgId) -> (String, String) {
        (Self::organization(org).pk, INVITATION.to_owned())
    }

    /// The invitee's side of an invitation, beside the email's claim: one pending invitation
    /// per (organization, email), and what `/users/me` lists for the email.
    pub fn invitee(org: OrgId, email: &Email) -> Self {
        Key {
            pk: Self::user_email(email).pk,
            sk: format!("{INVITATION}{org}"),
        }
    }

    /// Where the invitations to an email are: beside its claim.
    pub fn invitations_to(email: &Email) -> (String, String) {
        (Self::user_email(email).pk, INVITATION.to_owned())
    }

    /// One per (user, profile type): the key itself is the constraint.
    pub fn profile(user: UserId, profile_type: ProfileType) -> Self {
        Key {
            pk: format!("USER#{user}"),
            sk: format!("PROFILE#{profile_type}"),
        }
    }

    pub fn vendor(vendor: VendorId) -> Self {
        key(format!("VENDOR#{vendor}"), "VENDOR")
    }

    pub fn customer(customer: CustomerId) -> Self {
        key(format!("CUSTOMER#{customer}"), "CUSTOMER")
    }

    /// A customer record that names `user`, seen from the user's side (`/users/me`).
    pub fn user_customer(user: UserId, customer: CustomerId) -> Self {
        Key {
            pk: format!("USER#{user}"),
            sk: format!("CUSTOMER#{customer}"),
        }
    }

    /// An organization `user` belongs to, seen from the user's side (`/users/me`).
    pub fn user_organization(user: UserId, org: OrgId) -> Self {
        Key {
            pk: format!("USER#{user}"),
            sk: format!("ORG#{org}"),
        }
    }

    /// The org#user key: a user is a customer of an organization at most once.
    pub fn customer_of_user(org: OrgId, user: UserId) -> Self {
        key(format!("ORG#{org}#USER#{user}"), "CUSTOMER")
    }

    /// A customer email is unique per organization, case-insensitively.
    pub fn customer_email(org: OrgId, email: &Email) -> Self {
        key(
            format!("ORG#{org}#EMAIL#{}", email.normalized()),
            "CUSTOMER_EMAIL",
        )
    }

    /// A customer code is unique per organization.
    pub fn customer_code(org: OrgId, code: &CustomerCode) -> Self {
        key(format!("ORG#{org}#CODE#{code}"), "CUSTOMER_CODE")
    }

    /// A customer's row in one of its organization's ordered lists: each row carries the
    /// whole customer, so a page of a list is one `Query`.
    pub fn customer_row(order: CustomerOrder, customer: &Customer) -> Self {
        let id = customer.id;
        Key {
            pk: Self::customer_rows_of(customer.organization, order),
            sk: match order {
                CustomerOrder::Created => id.to_string(),
                CustomerOrder::Name => format!("{}#{id}", customer.name_key()),
                CustomerOrder::Updated => format!("{}#{id}", customer.updated_at.as_str()),
            },
        }
    }

    /// The partition of an organization's list in `order`.
    pub fn customer_rows_of(org: OrgId, order: CustomerOrder) -> String {
        let order = match order {
            CustomerOrder::Created => "CREATED",
            CustomerOrder::Name => "NAME",
            CustomerOrder::Updated => "UPDATED",
        };
        format!("ORG#{org}#CUSTOMERS#{order}")
    }

    /// A customer under one value of a filter, newest last.
    pub fn customer_facet(org: OrgId, facet: &Facet, customer: CustomerId) -> Self {
        Key {
            pk: Self::customer_facet_of(org, facet),
            sk: customer.to_string(),
        }
    }

    /// The partition of the customers with one value of a filter. A tag is named by the
    /// digest of its fold (a tag may hold any character, `#` included).
    pub fn customer_facet_of(org: OrgId, facet: &Facet) -> String {
        match facet {
            Facet::Status(status) => format!("ORG#{org}#STATUS#{}", status.as_str()),
            Facet::Type(kind) => format!("ORG#{org}#TYPE#{}", kind.as_str()),
            Facet::Owner(Some(user)) => format!("ORG#{org}#OWNER#{user}"),
            Facet::Owner(None) => format!("ORG#{org}#OWNER#NONE"),
            Facet::Tag(folded) => format!("ORG#{org}#TAG#{}", sha256_hex(folded.as_bytes())),
        }
    }

    /// A word a customer is found by (letters and digits only, folded), beside every other
    /// customer's words: one partition per organization, whose sort keys spread by word.
    pub fn customer_word(org: OrgId, word: &str, customer: CustomerId) -> Self {
        Key {
            pk: Self::customer_words_of(org),
            sk: format!("{word}#{customer}"),
        }
    }

    pub fn customer_words_of(org: OrgId) -> String {
        format!("ORG#{org}#WORDS")
    }

    /// The key of an item read back.
    pub fn of_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let part = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Some(Key {
            pk: part(PK)?,
            sk: part(SK)?,
        })
    }

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

impl ListKey {
    /// Customers of an organization; the sort key is the UUIDv7 id, so newest sorts last.
    pub fn customer(org: OrgId, customer: CustomerId) -> Self {
        ListKey {
            pk: Self::customers_of(org),
            sk: customer.to_string(),
        }
    }

    pub fn customers_of(org: OrgId) -> String {
        format!("ORG#{org}#CUSTOMERS")
    }

    pub fn vendor(org: OrgId, vendor: VendorId) -> Self {
        ListKey {
            pk: format!("ORG#{org}#VENDORS"),
            sk: vendor.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_variants_claim_the_same_key() {
        let a = Username::parse("JaneDoe").unwrap();
        let b = Username::parse("janedoe").unwrap();
        assert_eq!(Key::username(&a), Key::username(&b));
        let a = Email::parse("Jane@Example.com").unwrap();
        let b = Email::parse("jane@example.COM").unwrap();
        assert_eq!(Key::user_email(&a), Key::user_email(&b));
        let org = OrgId::generate();
        assert_eq!(Key::customer_email(org, &a), Key::customer_email(org, &b));
    }

    #[test]
    fn keys_of_different_kinds_never_meet() {
        let org = OrgId::generate();
        let user = UserId::generate();
        let email = Email::parse("x@example.com").unwrap();
        let code = CustomerCode::parse("X").unwrap();
        let keys = [
            Key::user(user),
            Key::organization(org),
            Key::membership(org, user),
            Key::profile(user, ProfileType::Customer),
            Key::customer_of_user(org, user),
            Key::customer_email(org, &email),
            Key::customer_code(org, &code),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            Key::customer_of_user(org, user).pk,
            format!("ORG#{org}#USER#{user}")
        );
    }
}

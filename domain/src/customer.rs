//! Customers: the record, its values, the form that creates one and the patch that changes
//! one, with the preconditions (`If-Match`) a change is held to.
//!
//! The client-settable fields are listed in [`CUSTOMER_FIELDS`]; the record, the form, the
//! patch and their parsers are written so that a new field fails to compile, or fails a
//! test, everywhere it must be added.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    Address, CompanyName, CustomerId, CustomerName, Email, OrgId, PersonName, Phone, ProfileId,
    ProfileType, Tag, Timestamp, UserId,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    #[default]
    Individual,
    Business,
}

impl CustomerType {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.trim() {
            "individual" => Ok(Self::Individual),
            "business" => Ok(Self::Business),
            _ => Err("must be \"individual\" or \"business\""),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Business => "business",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerStatus {
    #[default]
    Active,
    Inactive,
    Prospect,
    Vip,
}

impl CustomerStatus {
    pub const ALL: [Self; 4] = [Self::Active, Self::Inactive, Self::Prospect, Self::Vip];

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.trim() {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "prospect" => Ok(Self::Prospect),
            "vip" => Ok(Self::Vip),
            _ => Err("must be \"active\", \"inactive\", \"prospect\" or \"vip\""),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Prospect => "prospect",
            Self::Vip => "vip",
        }
    }
}

/// A customer's code, unique within its organization. Codes are identifiers, not prose:
/// upper-cased so `ab-1` and `AB-1` cannot coexist, and limited to `A-Z 0-9 - _`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerCode(String);

/// Crockford's base32: no I, L, O or U, so generated codes read aloud without confusion.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl CustomerCode {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.trim();
        if code.is_empty() || code.len() > 32 {
            return Err("must be 1 to 32 characters");
        }
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("may contain only letters, digits, - and _");
        }
        Ok(Self(code.to_ascii_uppercase()))
    }

    /// `CUS-` and eight base32 characters: 40 random bits, so a clash inside one
    /// organization is rare, and the conditional write catches the rare one.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        let suffix: String = bytes
            .iter()
            .map(|b| CROCKFORD[usize::from(b % 32)] as char)
            .collect();
        Self(format!("CUS-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub organization: OrgId,
    pub user_id: Option<UserId>,
    pub user_profile: Option<ProfileId>,
    pub code: CustomerCode,
    pub name: CustomerName,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Email,
    pub phone: Option<Phone>,
    pub customer_type: CustomerType,
    pub status: CustomerStatus,
    pub company_name: Option<CompanyName>,
    /// The member responsible for the customer. Records from before owners have none.
    #[serde(default)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub address: Address,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Counts the record's writes; its `ETag`. Records from before versions read as 1.
    #[serde(default = "first_version")]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

/// What a user sees of a customer record that names them, in any organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerLink {
    pub id: CustomerId,
    pub organization: OrgId,
    pub name: CustomerName,
    pub status: CustomerStatus,
}

impl Customer {
    pub fn link(&self) -> CustomerLink {
        CustomerLink {
            id: self.id,
            organization: self.organization,
            name: self.name.clone(),
            status: self.status,
        }
    }
}

/// The fields a client sets on a customer, by their JSON names: what creation reads and
/// what PATCH accepts (`organization` only to name the customer's own). The rest of the
/// record (`id`, `user_profile`, `created_at`, `updated_at`, `version`) is the server's.
pub const CUSTOMER_FIELDS: [&str; 14] = [
    "organization",
    "user_id",
    "email",
    "name",
    "first_name",
    "last_name",
    "phone",
    "customer_type",
    "status",
    "company_name",
    "code",
    "owner_id",
    "tags",
    "address",
];

/// A customer-creation request that passed validation.
#[derive(Clone, Debug)]
pub struct CustomerForm {
    pub organization: OrgId,
    pub user_id: Option<UserId>,
    pub email: Email,
    pub name: Option<CustomerName>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub phone: Option<Phone>,
    pub customer_type: CustomerType,
    pub status: CustomerStatus,
    pub company_name: Option<CompanyName>,
    /// `None`: the server generates one.
    pub code: Option<CustomerCode>,
    pub owner_id: Option<UserId>,
    pub tags: Vec<Tag>,
    pub address: Address,
}

impl CustomerForm {
    /// The customer this form would create now by the system's clock: for tests.
    #[cfg(any(test, feature = "test-support"))]
    pub fn to_customer(&self) -> Customer {
        self.to_customer_at(&Timestamp::now())
    }

    /// The customer this form would create at `now`, linked to the user's customer profile
    /// when a user is named. Each call gives a new id (and, if none was asked for, a new
    /// code).
    pub fn to_customer_at(&self, now: &Timestamp) -> Customer {
        let Self {
            organization,
            user_id,
            email,
            name,
            first_name,
            last_name,
            phone,
            customer_type,
            status,
            company_name,
            code,
            owner_id,
            tags,
            address,
        } = self.clone();
        Customer {
            id: CustomerId::generate(),
            organization,
            user_id,
            user_profile: user_id.map(|user| ProfileId::of(user, ProfileType::Customer)),
            code: code.unwrap_or_else(CustomerCode::generate),
            name: name.unwrap_or_else(|| self.default_name()),
            first_name,
            last_name,
            email,
            phone,
            customer_type,
            status,
            company_name,
            owner_id,
            tags,
            address,
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        }
    }

    /// Company name, else "first last", else the email's local part.
    fn default_name(&self) -> CustomerName {
        if let Some(company) = &self.company_name {
            return CustomerName::truncated(company.as_str());
        }
        let full: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(|n| n.as_str())
            .collect();
        if full.is_empty() {
            CustomerName::truncated(self.email.local_part())
        } else {
            CustomerName::truncated(&full.join(" "))
        }
    }
}

/// A partial update. Each field: `None` leaves it as it is; fields that may be empty take
/// `Some(None)` to clear.
#[derive(Clone, Debug, Default)]
pub struct CustomerPatch {
    /// Must name the customer's own organization when sent: customers do not move.
    pub organization: Option<OrgId>,
    pub user_id: Option<Option<UserId>>,
    pub email: Option<Email>,
    pub name: Option<CustomerName>,
    pub first_name: Option<Option<PersonName>>,
    pub last_name: Option<Option<PersonName>>,
    pub phone: Option<Option<Phone>>,
    pub customer_type: Option<CustomerType>,
    pub status: Option<CustomerStatus>,
    pub company_name: Option<Option<CompanyName>>,
    pub code: Option<CustomerCode>,
    pub owner_id: Option<Option<UserId>>,
    /// Replaces the whole list.
    pub tags: Option<Vec<Tag>>,
    /// Replaces the whole address.
    pub address: Option<Address>,
}

impl CustomerPatch {
    /// `current` with the patch applied, one version on, updated now. A linked user brings
    /// their customer profile along. Both structs are taken apart field by field, so a
    /// field added to either does not compile until it is handled here.
    pub fn apply(&self, current: &Customer, at: &Timestamp) -> Customer {
        let Self {
            organization: _,
            user_id: new_user,
            email: new_email,
            name: new_name,
            first_name: new_first_name,
            last_name: new_last_name,
            phone: new_phone,
            customer_type: new_customer_type,
            status: new_status,
            company_name: new_company_name,
            code: new_code,
            owner_id: new_owner,
            tags: new_tags,
            address: new_address,
        } = self.clone();
        let Customer {
            id,
            organization,
            user_id,
            user_profile,
            code,
            name,
            first_name,
            last_name,
            email,
            phone,
            customer_type,
            status,
            company_name,
            owner_id,
            tags,
            address,
            created_at,
            updated_at: _,
            version,
        } = current.clone();
        let (user_id, user_profile) = match new_user {
            Some(user) => (user, user.map(|u| ProfileId::of(u, ProfileType::Customer))),
            None => (user_id, user_profile),
        };
        Customer {
            id,
            organization,
            user_id,
            user_profile,
            code: new_code.unwrap_or(code),
            name: new_name.unwrap_or(name),
            first_name: new_first_name.unwrap_or(first_name),
            last_name: new_last_name.unwrap_or(last_name),
            email: new_email.unwrap_or(email),
            phone: new_phone.unwrap_or(phone),
            customer_type: new_customer_type.unwrap_or(customer_type),
            status: new_status.unwrap_or(status),
            company_name: new_company_name.unwrap_or(company_name),
            owner_id: new_owner.unwrap_or(owner_id),
            tags: new_tags.unwrap_or(tags),
            address: new_address.unwrap_or(address),
            created_at,
            updated_at: at.clone(),
            version: version + 1,
        }
    }
}

/// `If-Match`: which versions of the record a change may apply to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`, or `*`: whatever version is current.
    Any,
    /// Only these: the strong entity tags of the list that are ETags this API gives.
    Versions(Vec<u64>),
}

impl Precondition {
    /// An `If-Match` value, as RFC 9110 (§13.1.1) has it: `*`, or a comma-separated list of
    /// entity tags. The comparison is strong, so a weak tag (`W/"2"`) never matches, and an
    /// opaque tag matches only as written (`"03"` is not version 3). Anything else is
    /// malformed and refused, never read as "any version".
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const MALFORMED: &str = "must be * or a comma-separated list of entity tags (\"3\")";
        if raw.trim() == "*" {
            return Ok(Self::Any);
        }
        let mut versions = Vec::new();
        let mut tags = 0;
        // Empty list elements are allowed (RFC 9110 §5.6.1); a list of none is not.
        for element in list_elements(raw).filter(|e| !e.is_empty()) {
            tags += 1;
            let (weak, tag) = match element.strip_prefix("W/") {
                Some(tag) => (true, tag),
                None => (false, element),
            };
            let opaque = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| t.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)))
                .ok_or(MALFORMED)?;
            if let (false, Ok(version)) = (weak, opaque.parse::<u64>()) {
                if etag(version) == tag {
                    versions.push(version);
                }
            }
        }
        if tags == 0 {
            return Err(MALFORMED);
        }
        Ok(Self::Versions(versions))
    }

    pub fn allows(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }
}

/// The trimmed elements of a comma-separated header list; a comma inside a quoted entity tag
/// (`"a,b"`) separates nothing.
fn list_elements(raw: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    raw.split(move |c| {
        if c == '"' {
            quoted = !quoted;
        }
        c == ',' && !quoted
    })
    .map(str::trim)
}

/// The `ETag` of a record at `version`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A valid form with no user, name or code: what tests start from.
#[cfg(any(test, feature = "test-support"))]
pub fn sample_form() -> CustomerForm {
    CustomerForm {
        organization: OrgId::generate(),
        user_id: None,
        email: Email::parse("pat.lee@example.com").unwrap(),
        name: None,
        first_name: None,
        last_name: None,
        phone: None,
        customer_type: CustomerType::Individual,
        status: CustomerStatus::Active,
        company_name: None,
        code: None,
        owner_id: None,
        tags: Vec::new(),
        address: Address::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> CustomerForm {
        sample_form()
    }

    #[test]
    fn the_client_fields_are_the_records_fields_less_the_servers() {
        let server = ["id", "user_profile", "created_at", "updated_at", "version"];
        let record = serde_json::to_value(form().to_customer()).unwrap();
        let mut names: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|name| !server.contains(name))
            .collect();
        names.sort_unstable();
        let mut fields = CUSTOMER_FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(
            names, fields,
            "CUSTOMER_FIELDS must list every client field"
        );
    }

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(CustomerCode::parse(" ab-1_x ").unwrap().as_str(), "AB-1_X");
        for bad in ["", "a b", "a#b", "ä", &"x".repeat(33)] {
            assert!(CustomerCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_codes_are_valid_and_vary() {
        let a = CustomerCode::generate();
        let b = CustomerCode::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 12);
        assert_eq!(CustomerCode::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn enums_parse_their_wire_names() {
        assert_eq!(CustomerType::parse("business"), Ok(CustomerType::Business));
        assert!(CustomerType::parse("Business").is_err());
        assert_eq!(
            CustomerStatus::parse("inactive"),
            Ok(CustomerStatus::Inactive)
        );
        assert!(CustomerStatus::parse("gone").is_err());
    }

    #[test]
    fn default_name_prefers_company_then_person_then_email() {
        assert_eq!(form().to_customer().name.as_str(), "pat.lee");
        let mut f = form();
        f.first_name = Some(PersonName::parse("Pat").unwrap());
        assert_eq!(f.to_customer().name.as_str(), "Pat");
        f.last_name = Some(PersonName::parse("Lee").unwrap());
        assert_eq!(f.to_customer().name.as_str(), "Pat Lee");
        f.company_name = Some(CompanyName::parse("Lee & Co").unwrap());
        assert_eq!(f.to_customer().name.as_str(), "Lee & Co");
    }

    #[test]
    fn a_named_user_links_to_their_customer_profile() {
        let mut f = form();
        assert_eq!(f.to_customer().user_profile, None);
        let user = UserId::generate();
        f.user_id = Some(user);
        let customer = f.to_customer();
        assert_eq!(customer.user_id, Some(user));
        assert_eq!(
            customer.user_profile,
            Some(ProfileId::of(user, ProfileType::Customer))
        );
    }

    #[test]
    fn if_match_takes_star_and_strong_tags_as_written() {
        let parse = |raw: &str| Precondition::parse(raw).unwrap();
        assert!(parse("*").allows(7));
        assert!(parse(&etag(3)).allows(3));
        assert!(!parse(&etag(3)).allows(4));
        assert!(parse("W/\"2\", \"5\"").allows(5));
        assert!(
            parse("\"1\", , \"2\"").allows(2),
            "empty list elements are skipped"
        );
        for never in ["W/\"2\"", "\"03\"", "\"+4\"", "\"x\""] {
            assert_eq!(parse(never), Precondition::Versions(vec![]), "{never}");
        }
        for malformed in [
            "",
            " ",
            ",",
            "garbage",
            "3",
            "\"1é\"",
            "\"a\"b\"",
            "\"1\" \"2\"",
        ] {
            assert!(Precondition::parse(malformed).is_err(), "{malformed:?}");
        }
    }

    fn customer() -> Customer {
        let mut form = form();
        form.first_name = Some(PersonName::parse("Pat").unwrap());
        form.to_customer()
    }

    #[test]
    fn only_what_is_sent_changes_and_the_version_moves_on() {
        let before = customer();
        let user = UserId::generate();
        let patch = CustomerPatch {
            status: Some(CustomerStatus::Inactive),
            first_name: Some(None),
            user_id: Some(Some(user)),
            ..CustomerPatch::default()
        };
        let after = patch.apply(&before, &Timestamp::now());
        assert_eq!(after.status, CustomerStatus::Inactive);
        assert_eq!(after.first_name, None);
        assert_eq!(after.email, before.email);
        assert_eq!(after.name, before.name);
        assert_eq!(
            after.user_profile,
            Some(ProfileId::of(user, ProfileType::Customer))
        );
        assert_eq!(
            (after.version, after.created_at.clone()),
            (2, before.created_at.clone())
        );
        let unlinked = CustomerPatch {
            user_id: Some(None),
            ..CustomerPatch::default()
        }
        .apply(&after, &Timestamp::now());
        assert_eq!((unlinked.user_id, unlinked.user_profile), (None, None));
    }
}

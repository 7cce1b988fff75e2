//! A customer's fields as a client sends them (a JSON object), read into a creation or a
//! patch with one message per bad field: the API's bodies, a batch's rows, and the `crm`
//! tool's `--dry-run` all read them here.

use serde_json::{Map, Value};

use super::{
    Address, CompanyName, Customer, CustomerCode, CustomerForm, CustomerName, CustomerPatch,
    CustomerStatus, CustomerType, Email, FieldErrors, Form, OrgId, PersonName, Phone, Tag, UserId,
    CUSTOMER_FIELDS,
};

impl CustomerForm {
    /// A creation's fields. The struct literal names every field of [`CustomerForm`], so a new
    /// field does not compile until it is read here.
    pub fn from_fields(object: Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut form = Form::new(object);
        let organization = form.required("organization", OrgId::parse);
        let user_id = form.optional("user_id", UserId::parse);
        let email = form.required("email", Email::parse);
        let name = form.optional("name", CustomerName::parse);
        let first_name = form.optional("first_name", PersonName::parse);
        let last_name = form.optional("last_name", PersonName::parse);
        let phone = form.optional("phone", Phone::parse);
        let customer_type = form.optional("customer_type", CustomerType::parse);
        let status = form.optional("status", CustomerStatus::parse);
        let company_name = form.optional("company_name", CompanyName::parse);
        let code = form.optional("code", CustomerCode::parse);
        let owner_id = form.optional("owner_id", UserId::parse);
        let tags = form.value("tags", Tag::parse_list);
        let address = form.value("address", Address::parse);
        let fields = organization
            .zip(email)
            .map(|(organization, email)| CustomerForm {
                organization,
                user_id,
                email,
                name,
                first_name,
                last_name,
                phone,
                customer_type: customer_type.unwrap_or_default(),
                status: status.unwrap_or_default(),
                company_name,
                code,
                owner_id,
                tags: tags.unwrap_or_default(),
                address: address.unwrap_or_default(),
            });
        form.finish(fields)
    }
}

impl CustomerPatch {
    /// A patch's fields: every client field of a customer ([`CUSTOMER_FIELDS`]) and nothing else.
    /// The struct literal names every field of [`CustomerPatch`], so a new field does not
    /// compile until it is read here.
    pub fn from_fields(object: Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut form = Form::new(object);
        form.only(&CUSTOMER_FIELDS);
        let patch = CustomerPatch {
            organization: form.settable("organization", OrgId::parse),
            user_id: form.nullable("user_id", UserId::parse),
            email: form.settable("email", Email::parse),
            name: form.settable("name", CustomerName::parse),
            first_name: form.nullable("first_name", PersonName::parse),
            last_name: form.nullable("last_name", PersonName::parse),
            phone: form.nullable("phone", Phone::parse),
            customer_type: form.settable("customer_type", CustomerType::parse),
            status: form.settable("status", CustomerStatus::parse),
            company_name: form.nullable("company_name", CompanyName::parse),
            code: form.settable("code", CustomerCode::parse),
            owner_id: form.nullable("owner_id", UserId::parse),
            tags: form.value("tags", Tag::parse_list),
            address: form.value("address", Address::parse),
        };
        form.finish(Some(patch))
    }
}

/// One row of a batch upsert (POST /api/customers/batch), keyed by its email: what to create
/// when no customer of the organization has the email, and what to change when one has.
/// In a row, a field left out, null or blank is left as it is; every other field is checked
/// as a creation checks it, and a field no customer has is refused.
#[derive(Clone, Debug)]
pub struct CustomerUpsert {
    pub form: CustomerForm,
    /// The row's fields, less its email and organization: what an existing customer gets.
    pub patch: CustomerPatch,
}

impl CustomerUpsert {
    pub fn from_fields(
        organization: OrgId,
        mut object: Map<String, Value>,
    ) -> Result<Self, FieldErrors> {
        object.retain(|_, value| match value {
            Value::Null => false,
            Value::String(text) => !text.trim().is_empty(),
            _ => true,
        });
        let mut errors = FieldErrors::new();
        let named = object.get("organization").and_then(Value::as_str);
        if named.is_some_and(|named| OrgId::parse(named).ok() != Some(organization)) {
            errors.insert(
                "organization".to_owned(),
                "must be the batch's organization (or left out)".to_owned(),
            );
        }
        object.insert(
            "organization".to_owned(),
            Value::String(organization.to_string()),
        );
        let form = CustomerForm::from_fields(object.clone());
        object.remove("email");
        object.remove("organization");
        let patch = CustomerPatch::from_fields(object);
        match (form, patch) {
            (Ok(form), Ok(patch)) if errors.is_empty() => Ok(Self { form, patch }),
            (form, patch) => {
                // Both read the same values with the same parsers; the creation's message
                // wins where both name a field.
                for found in [form.err(), patch.err()].into_iter().flatten() {
                    for (field, message) in found {
                        errors.entry(field).or_insert(message);
                    }
                }
                Err(errors)
            }
        }
    }

    /// Whether the row would change `current` (whose email it shares).
    pub fn changes(&self, current: &Customer) -> bool {
        let mut next = self.patch.apply(current, &current.updated_at);
        next.version = current.version;
        next != *current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_takes_every_client_field_of_a_customer_and_nothing_else() {
        const UNKNOWN: &str = "is not a field of this request";
        let mut every: Map<String, Value> = CUSTOMER_FIELDS
            .iter()
            .map(|name| ((*name).to_owned(), Value::Null))
            .collect();
        every.insert("version".to_owned(), Value::Null);
        let Err(errors) = CustomerPatch::from_fields(every) else {
            panic!("a server field is refused");
        };
        assert_eq!(errors["version"], UNKNOWN);
        for name in CUSTOMER_FIELDS {
            assert_ne!(
                errors.get(name).map(String::as_str),
                Some(UNKNOWN),
                "{name}"
            );
        }
    }

    fn upsert(fields: Value) -> Result<CustomerUpsert, FieldErrors> {
        let Value::Object(object) = fields else {
            panic!("an object")
        };
        CustomerUpsert::from_fields(OrgId::generate(), object)
    }

    #[test]
    fn a_row_leaves_out_what_is_blank_and_names_every_bad_field() {
        let row = upsert(serde_json::json!({
            "email": "pat@example.com", "name": "Pat", "phone": " ", "company_name": null
        }))
        .unwrap();
        assert!(row.patch.email.is_none(), "the email is the row's key");
        assert!(row.patch.phone.is_none() && row.patch.company_name.is_none());
        assert!(row.patch.name.is_some());
        let errors = upsert(serde_json::json!({
            "email": "not an email", "status": "gone", "colour": "red",
            "organization": OrgId::generate().to_string()
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["colour", "email", "organization", "status"]);
        let errors = upsert(serde_json::json!({"name": "Pat"})).unwrap_err();
        assert_eq!(errors["email"], "is required");
    }

    #[test]
    fn a_row_changes_a_customer_only_when_a_value_differs() {
        let current = crate::sample_customer_form().to_customer();
        let same = upsert(serde_json::json!({"email": current.email.to_string()})).unwrap();
        assert!(!same.changes(&current));
        let named = upsert(serde_json::json!({
            "email": current.email.to_string(), "status": "vip"
        }))
        .unwrap();
        assert!(named.changes(&current));
        let mut vip = current.clone();
        vip.status = CustomerStatus::Vip;
        assert!(!named.changes(&vip));
    }
}

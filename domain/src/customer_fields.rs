//! A customer's fields as a client sends them (a JSON object), read into a creation or a
//! patch with one message per bad field: the API's bodies, a batch's rows, and the `crm`
//! tool's `--dry-run` all read them here.

use serde_json::{Map, Value};

use super::{
    Address, CompanyName, CustomerCode, CustomerForm, CustomerName, CustomerPatch, CustomerStatus,
    CustomerType, Email, FieldErrors, Form, OrgId, PersonName, Phone, Tag, UserId, CUSTOMER_FIELDS,
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
}

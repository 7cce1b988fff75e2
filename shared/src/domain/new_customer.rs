//! Customer creation as pure data.

use super::{
    CompanyName, Customer, CustomerCode, CustomerId, CustomerName, CustomerStatus, CustomerType,
    Email, OrgId, PersonName, Phone, ProfileId, ProfileType, Timestamp, UserId,
};

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
}

impl CustomerForm {
    /// The customer this form would create, linked to the user's customer profile when a
    /// user is named. Each call gives a new id (and, if none was asked for, a new code).
    pub fn to_customer(&self) -> Customer {
        let now = Timestamp::now();
        Customer {
            id: CustomerId::generate(),
            organization: self.organization,
            user_id: self.user_id,
            user_profile: self
                .user_id
                .map(|user| ProfileId::of(user, ProfileType::Customer)),
            code: self.code.clone().unwrap_or_else(CustomerCode::generate),
            name: self.name.clone().unwrap_or_else(|| self.default_name()),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            customer_type: self.customer_type,
            status: self.status,
            company_name: self.company_name.clone(),
            created_at: now.clone(),
            updated_at: now,
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A valid form with no user, name or code: what domain tests start from.
    pub(in crate::domain) fn form() -> CustomerForm {
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
        }
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
}

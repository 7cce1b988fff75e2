//! Sign-up as pure data: validated input in, every record it creates out.

use super::{
    Address, Customer, CustomerForm, CustomerName, CustomerStatus, CustomerType, Email, Membership,
    OrgId, OrgName, Organization, Password, PersonName, ProfileId, ProfileType, Role, Timestamp,
    User, UserId, UserProfile, Username, Vendor, VendorId,
};

/// A sign-up request that passed validation.
#[derive(Debug)]
pub struct SignupForm {
    pub email: Email,
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub password: Password,
    pub organization_name: Option<OrgName>,
}

/// Everything one sign-up writes.
#[derive(Clone, Debug)]
pub struct Signup {
    pub user: User,
    pub organization: Organization,
    pub membership: Membership,
    pub profiles: [UserProfile; 3],
    pub vendor: Vendor,
    pub customer: Customer,
}

impl Signup {
    /// Every record of a sign-up made `now`.
    pub fn assemble(form: SignupForm, now: Timestamp) -> Self {
        let user_id = UserId::generate();
        let org_id = OrgId::generate();
        let user = User {
            id: user_id,
            username: form.username,
            email: form.email,
            first_name: form.first_name,
            last_name: form.last_name,
            created_at: now.clone(),
            email_verified: false,
        };
        let org_name = form
            .organization_name
            .unwrap_or_else(|| OrgName::truncated(&format!("{}'s Organization", user.first_name)));
        let organization = Organization {
            id: org_id,
            name: org_name,
            owner_id: user_id,
            created_at: now.clone(),
        };
        let membership = Membership::new(org_id, &user, Role::Owner, &now);
        let profiles = ProfileType::ALL
            .map(|profile_type| UserProfile::new(user_id, profile_type, org_id, &now));
        let vendor = Vendor {
            id: VendorId::generate(),
            organization: org_id,
            user_id,
            user_profile: ProfileId::of(user_id, ProfileType::Vendor),
            name: organization.name.clone(),
            email: user.email.clone(),
            created_at: now.clone(),
        };
        let customer = own_customer(&user, org_id).to_customer_at(&now);
        Self {
            user,
            organization,
            membership,
            profiles,
            vendor,
            customer,
        }
    }
}

/// The new user as the first customer of their own organization.
fn own_customer(user: &User, organization: OrgId) -> CustomerForm {
    CustomerForm {
        organization,
        user_id: Some(user.id),
        email: user.email.clone(),
        name: Some(CustomerName::truncated(&user.full_name())),
        first_name: Some(user.first_name.clone()),
        last_name: Some(user.last_name.clone()),
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

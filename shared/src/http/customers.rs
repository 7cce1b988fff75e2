//! POST /api/customers/: create a customer, or find the user's existing one.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{
    CompanyName, CustomerCode, CustomerForm, CustomerName, CustomerStatus, CustomerType, Email,
    OrgId, PersonName, Phone, UserId,
};
use crate::store::{CreateCustomerError, CustomerCreated};

use super::form::Form;
use super::{json_response, respond, ApiError, FieldErrors};

pub async fn handle_create(
    app: &App,
    request: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    respond(create(app, request).await)
}

async fn create(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let form = parse(super::body::json_object(&request, Method::POST, "POST")?)?;
    match app.store.create_customer(&form).await {
        Ok(CustomerCreated::New(customer)) => {
            tracing::info!(customer_id = %customer.id, organization = %customer.organization, "customer created");
            Ok(json_response(StatusCode::CREATED, &customer))
        }
        Ok(CustomerCreated::Existing(customer)) => Ok(json_response(StatusCode::OK, &customer)),
        Err(CreateCustomerError::OrganizationNotFound) => {
            Err(ApiError::NotFound("The organization does not exist."))
        }
        Err(CreateCustomerError::UserNotFound) => {
            Err(ApiError::field("user_id", "no user has this id"))
        }
        Err(CreateCustomerError::Taken { email, code }) => {
            let mut fields = FieldErrors::new();
            if email {
                fields.insert(
                    "email".into(),
                    "is already used by a customer of this organization".into(),
                );
            }
            if code {
                fields.insert(
                    "code".into(),
                    "is already used by a customer of this organization".into(),
                );
            }
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            Err(ApiError::Conflict {
                message: format!(
                    "A customer with this {} already exists in the organization.",
                    names.join(" and ")
                ),
                fields,
            })
        }
        Err(CreateCustomerError::Contended) => Err(ApiError::Contended),
        Err(CreateCustomerError::Store(e)) => Err(e.into()),
    }
}

fn parse(object: Map<String, Value>) -> Result<CustomerForm, ApiError> {
    let mut form = Form::new(object);
    let organization = form.required("organization", OrgId::parse);
    let user_id = form.optional("user_id", UserId::parse);
    let email = form.required("email", Email::parse);
    let name = form.optional("name", CustomerName::parse);
    let first_name = form.optional("first_name", PersonName::parse);
    let last_name = form.optional("last_name", PersonName::parse);
    let phone = form.optional("phone", Phone::parse);
    let customer_type = form
        .optional("customer_type", CustomerType::parse)
        .unwrap_or_default();
    let status = form
        .optional("status", CustomerStatus::parse)
        .unwrap_or_default();
    let company_name = form.optional("company_name", CompanyName::parse);
    let code = form.optional("code", CustomerCode::parse);
    match (organization, email) {
        (Some(organization), Some(email)) if !form.has_errors() => Ok(CustomerForm {
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
        }),
        _ => Err(form.into_error()),
    }
}

//! PATCH and DELETE /api/customers/{id}/: correct or remove a customer, moving every claim
//! with it. Non-members get 404, as on GET.

use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{
    CompanyName, CustomerCode, CustomerId, CustomerName, CustomerPatch, CustomerStatus,
    CustomerType, Email, IdempotencyScope, OrgId, PersonName, Phone, Precondition, UserId,
};
use crate::store::{Change, ChangeError, Changed};

use super::auth::caller;
use super::body::json_object;
use super::customers::{customer_response, replayed_customer};
use super::form::Form;
use super::{idempotency, respond, ApiError};

const NOT_FOUND: &str = "No such customer.";

/// Every field creation takes; `organization` only to say the customer's own.
const FIELDS: [&str; 11] = [
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
];

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    respond(change(app, request).await)
}

async fn change(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let (change, body) = match *request.method() {
        Method::PATCH => (None, json_object(&request)?),
        Method::DELETE => (Some(Change::Delete), Map::new()),
        _ => {
            return Err(ApiError::MethodNotAllowed {
                allow: "PATCH, DELETE",
            })
        }
    };
    let caller = caller(app, &request)?;
    let id = request
        .path_parameters()
        .first("id")
        .and_then(|raw| CustomerId::parse(raw).ok())
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    let scope = IdempotencyScope::ChangeCustomer(caller.user, id);
    let idempotency = idempotency::of(&request, scope, &body)?;
    let change = match change {
        Some(delete) => delete,
        None => Change::Update(Box::new(parse(body)?)),
    };
    let precondition = request
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map_or(Precondition::Any, Precondition::parse);
    let changed = app
        .store
        .change_customer(
            id,
            &change,
            |org| caller.role_in(org).is_some(),
            &precondition,
            idempotency.as_ref(),
        )
        .await
        .map_err(|error| match error {
            ChangeError::NotFound => ApiError::NotFound(NOT_FOUND),
            ChangeError::PreconditionFailed => ApiError::PreconditionFailed,
            ChangeError::OrganizationFixed => ApiError::field(
                "organization",
                "a customer stays in its organization; create one in the other",
            ),
            ChangeError::UserNotFound => ApiError::field("user_id", "no user has this id"),
            ChangeError::Taken { email, code, user } => ApiError::taken(
                &[("email", email), ("code", code), ("user_id", user)],
                "customer of this organization",
            ),
            ChangeError::Contended => ApiError::Contended,
            ChangeError::KeyReused => ApiError::IdempotencyKeyReused,
            ChangeError::InProgress => ApiError::IdempotencyInProgress,
            ChangeError::Store(e) => e.into(),
        })?;
    match changed {
        Changed::Updated(customer) => {
            tracing::info!(customer_id = %customer.id, version = customer.version, "customer updated");
            Ok(customer_response(StatusCode::OK, &customer))
        }
        Changed::Deleted => {
            tracing::info!(customer_id = %id, "customer deleted");
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        Changed::Replayed(answer) => replayed_customer(&answer),
    }
}

fn parse(object: Map<String, Value>) -> Result<CustomerPatch, ApiError> {
    let mut form = Form::new(object);
    form.only(&FIELDS);
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
    };
    if form.has_errors() {
        Err(form.into_error())
    } else {
        Ok(patch)
    }
}

//! /api/customers/: create (POST), read one (GET /{id}/), list an organization's (GET).

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::domain::etag;
use crate::domain::{
    CompanyName, Customer, CustomerCode, CustomerForm, CustomerId, CustomerName, CustomerStatus,
    CustomerType, Email, IdempotencyScope, OrgId, PersonName, Phone, UserId,
};
use crate::store::{Claimed, CreateCustomerError, CustomerCreated, StoredAnswer};

use super::auth::caller;
use super::body::{expect_method, json_object};
use super::form::Form;
use super::{cursor, idempotency, json_response, respond, ApiError, FieldErrors};

const NOT_FOUND: &str = "No such customer.";
const NOT_MEMBER: &str = "You are not a member of this organization.";
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub async fn handle_create(
    app: &App,
    request: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    respond(create(app, request).await)
}

/// Both reads: GET /api/customers/{id}/ and GET /api/customers/?organization=….
pub async fn handle_read(
    app: &App,
    request: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    respond(read(app, request).await)
}

async fn create(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    expect_method(&request, Method::POST)?;
    let caller = caller(app, &request)?;
    let body = json_object(&request)?;
    let idempotency = idempotency::of(
        &request,
        IdempotencyScope::CreateCustomer(caller.user),
        &body,
    )?;
    let form = parse(body)?;
    // Unknown and foreign organizations get the same answer: a stranger learns nothing.
    if caller.role_in(form.organization).is_none() {
        return Err(ApiError::Forbidden(NOT_MEMBER));
    }
    match app
        .store
        .create_customer(&form, caller.user, idempotency.as_ref())
        .await
    {
        Ok(CustomerCreated::New(customer)) => {
            tracing::info!(customer_id = %customer.id, organization = %customer.organization, "customer created");
            Ok(customer_response(StatusCode::CREATED, &customer))
        }
        Ok(CustomerCreated::Existing(customer)) => Ok(customer_response(StatusCode::OK, &customer)),
        Ok(CustomerCreated::Replayed(answer)) => replayed_customer(&answer),
        Err(CreateCustomerError::KeyReused) => Err(ApiError::IdempotencyKeyReused),
        Err(CreateCustomerError::InProgress) => Err(ApiError::IdempotencyInProgress),
        Err(CreateCustomerError::UserNotFound) => {
            Err(ApiError::field("user_id", "no user has this id"))
        }
        Err(CreateCustomerError::Taken { email, code }) => Err(ApiError::taken(
            &[("email", email), ("code", code)],
            "customer of this organization",
        )),
        Err(CreateCustomerError::Contended) => Err(ApiError::Contended),
        Err(CreateCustomerError::Store(e)) => Err(e.into()),
    }
}

async fn read(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    expect_method(&request, Method::GET)?;
    let caller = caller(app, &request)?;
    match customer_id_in_path(&request) {
        Some(raw) => get_one(app, &caller, &raw).await,
        None => list(app, &caller, &request).await,
    }
}

/// The `{id}` of /api/customers/{id}/, as the route's path parameter (API Gateway and
/// `cargo lambda watch` both fill it in); the list route has none.
fn customer_id_in_path(request: &Request) -> Option<String> {
    request.path_parameters().first("id").map(str::to_owned)
}

/// 404 alike for a malformed id, a missing customer and another organization's customer:
/// a caller learns nothing about customers it may not see.
async fn get_one(app: &App, caller: &Caller, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = CustomerId::parse(raw_id).map_err(|_| ApiError::NotFound(NOT_FOUND))?;
    let customer = app
        .store
        .customer(id)
        .await?
        .filter(|customer| caller.role_in(customer.organization).is_some())
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(customer_response(StatusCode::OK, &customer))
}

/// A customer answer: the record, and its version as `ETag` for `If-Match`.
pub(super) fn customer_response(status: StatusCode, customer: &Customer) -> Response<Body> {
    let mut response = json_response(status, customer);
    if let Ok(tag) = HeaderValue::from_str(&etag(customer.version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// A replayed customer answer, with its `ETag` as the first time.
pub(super) fn replayed_customer(answer: &StoredAnswer) -> Result<Response<Body>, ApiError> {
    if answer.body.is_empty() {
        return Ok(idempotency::replay(answer));
    }
    let customer: Customer = serde_json::from_str(&answer.body).map_err(|_| ApiError::Internal)?;
    let status = StatusCode::from_u16(answer.status).map_err(|_| ApiError::Internal)?;
    let mut response = customer_response(status, &customer);
    response
        .headers_mut()
        .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    Ok(response)
}

enum Exact {
    Email(Email),
    Code(CustomerCode),
}

#[derive(Serialize)]
struct Page {
    customers: Vec<Customer>,
    next_cursor: Option<String>,
}

async fn list(app: &App, caller: &Caller, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = request.query_string_parameters();
    let mut errors = FieldErrors::new();
    let org = match query.first("organization").map(OrgId::parse) {
        Some(Ok(org)) => Some(org),
        Some(Err(e)) => {
            errors.insert("organization".into(), e.into());
            None
        }
        None => {
            errors.insert("organization".into(), "is required".into());
            None
        }
    };
    let limit = match query.first("limit") {
        None => DEFAULT_PAGE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errors.insert(
                    "limit".into(),
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                );
                DEFAULT_PAGE
            }
        },
    };
    let after = match (org, query.first("cursor")) {
        (Some(org), Some(raw)) if !raw.is_empty() => match cursor::decode(org, raw) {
            Ok(last) => Some(last),
            Err(e) => {
                errors.insert("cursor".into(), e.into());
                None
            }
        },
        _ => None,
    };
    let exact = |name: &str| {
        query.first(name).map(|raw| match name {
            "email" => Email::parse(raw).map(Exact::Email),
            _ => CustomerCode::parse(raw).map(Exact::Code),
        })
    };
    let exact = match (exact("email"), exact("code")) {
        (Some(Ok(email)), None) => Some(email),
        (None, Some(Ok(code))) => Some(code),
        (Some(_), Some(_)) => {
            errors.insert("code".into(), "use email or code, not both".into());
            None
        }
        (Some(Err(e)), None) => {
            errors.insert("email".into(), e.into());
            None
        }
        (None, Some(Err(e))) => {
            errors.insert("code".into(), e.into());
            None
        }
        (None, None) => None,
    };
    let Some(org) = org.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    if caller.role_in(org).is_none() {
        return Err(ApiError::Forbidden(NOT_MEMBER));
    }
    if let Some(exact) = exact {
        // One read of the claim, which carries the customer; the list shape, 0 or 1 long.
        let claimed = match &exact {
            Exact::Email(email) => Claimed::Email(email),
            Exact::Code(code) => Claimed::Code(code),
        };
        let found = app.store.customer_by(org, claimed).await?;
        return Ok(json_response(
            StatusCode::OK,
            &Page {
                customers: found.into_iter().collect(),
                next_cursor: None,
            },
        ));
    }
    let page = app.store.customers_page(org, limit, after).await?;
    Ok(json_response(
        StatusCode::OK,
        &Page {
            next_cursor: page.last.map(|last| cursor::encode(org, last)),
            customers: page.customers,
        },
    ))
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

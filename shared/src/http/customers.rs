//! Customers: create (POST /api/customers), read one (GET /api/customers/{id}) and list or
//! look up an organization's (GET /api/customers?organization=…). Non-members get 403 on
//! creation and lists, and 404 for a customer they may not see.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::app::App;
use crate::auth::{may_reassign, Action};
use crate::domain::{
    etag, Customer, CustomerCode, CustomerForm, CustomerId, CustomerQuery, CustomerStatus,
    CustomerType, Driver, Email, IdempotencyScope, OrgId, SearchQuery, Sort, Tag, UserId,
};
use crate::store::{Claimed, CustomerCreated, Idempotent, StoredAnswer};

use super::auth::Admission;
use super::body::json_object;
use super::error::NO_SUCH_CUSTOMER;
use super::{cursor, idempotency, json_response, located, ApiError};
use crate::domain::Form;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub(super) async fn create(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let caller = admission.caller();
    let body = json_object(&request)?;
    let idempotency = idempotency::of(
        &request,
        IdempotencyScope::CreateCustomer(caller.user),
        &body,
    )?;
    let form = CustomerForm::from_fields(body)?;
    let authorized = admission.admit(app, form.organization).await?;
    if !may_reassign(authorized.role(), caller.user, None, form.owner_id) {
        return Err(ApiError::Lacks(Action::AssignCustomers));
    }
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &created_answer,
    });
    match app
        .store
        .create_customer(&form, caller.user, idempotent.as_ref())
        .await?
    {
        CustomerCreated::New(customer) => {
            tracing::info!(customer_id = %customer.id, organization = %customer.organization, "customer created");
            Ok(customer_response(StatusCode::CREATED, &customer))
        }
        CustomerCreated::Existing(customer) => Ok(customer_response(StatusCode::OK, &customer)),
        CustomerCreated::Replayed(answer) => replayed_customer(&answer),
    }
}

/// What a creation's first answer is kept as: only new customers are written, so only they
/// are kept.
fn created_answer(created: &CustomerCreated) -> StoredAnswer {
    match created {
        CustomerCreated::New(customer) => customer_answer(StatusCode::CREATED, customer),
        CustomerCreated::Existing(customer) => customer_answer(StatusCode::OK, customer),
        CustomerCreated::Replayed(answer) => answer.clone(),
    }
}

pub(super) fn customer_answer(status: StatusCode, customer: &Customer) -> StoredAnswer {
    StoredAnswer {
        status: status.as_u16(),
        body: serde_json::to_string(customer).expect("customers serialize"),
    }
}

/// 404 alike for a malformed id, a missing customer and another organization's customer:
/// a caller learns nothing about customers it may not see.
pub(super) async fn get_one(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let id = customer_id_in_path(&request).ok_or(ApiError::NotFound(NO_SUCH_CUSTOMER))?;
    let customer = app
        .store
        .customer(id)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CUSTOMER))?;
    let org = customer.organization;
    match admission.admit(app, org).await {
        Ok(_) => {}
        Err(ApiError::Forbidden(_) | ApiError::Lacks(_)) => {
            return Err(ApiError::NotFound(NO_SUCH_CUSTOMER))
        }
        Err(other) => return Err(other),
    }
    Ok(customer_response(StatusCode::OK, &customer))
}

/// The `{id}` of /api/customers/{id}, when it is one.
pub(super) fn customer_id_in_path(request: &Request) -> Option<CustomerId> {
    request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("id"))
        .and_then(|raw| CustomerId::parse(raw).ok())
}

/// A customer answer: the record, its version as `ETag` for `If-Match`, and on a 201 its
/// `Location`.
pub(super) fn customer_response(status: StatusCode, customer: &Customer) -> Response<Body> {
    let mut response = json_response(status, customer);
    if let Ok(tag) = HeaderValue::from_str(&etag(customer.version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    located(response, &format!("/api/customers/{}/", customer.id))
}

/// A replayed customer answer, with its `ETag` as the first time.
pub(super) fn replayed_customer(answer: &StoredAnswer) -> Result<Response<Body>, ApiError> {
    if answer.body.is_empty() {
        return Ok(idempotency::replay(answer));
    }
    let customer: Customer = serde_json::from_str(&answer.body).map_err(ApiError::internal)?;
    let status = StatusCode::from_u16(answer.status).map_err(ApiError::internal)?;
    let mut response = customer_response(status, &customer);
    response
        .headers_mut()
        .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    Ok(response)
}

#[derive(Serialize)]
struct Page {
    customers: Vec<Customer>,
    next_cursor: Option<String>,
}

/// What the list's query string asks for.
struct ListQuery {
    organization: OrgId,
    limit: usize,
    /// Where in the query's index the page starts (from the cursor).
    after: Option<String>,
    exact: Option<Exact>,
    query: CustomerQuery,
}

enum Exact {
    Email(Email),
    Code(CustomerCode),
}

pub(super) async fn list(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let caller = admission.caller().user;
    let list = parse_list_query(super::query_form(&request), caller)?;
    let org = list.organization;
    admission.admit(app, org).await?;
    let page = match list.exact {
        // One read of the claim, which carries the customer; the list shape, 0 or 1 long,
        // with the rest of the query applied to it.
        Some(exact) => {
            let claimed = match &exact {
                Exact::Email(email) => Claimed::Email(email),
                Exact::Code(code) => Claimed::Code(code),
            };
            let found = app.store.customer_by(org, claimed).await?;
            Page {
                customers: found
                    .into_iter()
                    .filter(|c| list.query.matches(c))
                    .collect(),
                next_cursor: None,
            }
        }
        None => {
            let page = app
                .store
                .customers_matching(org, &list.query, list.limit, list.after)
                .await?;
            let fingerprint = list.query.fingerprint();
            Page {
                next_cursor: page
                    .next
                    .map(|position| cursor::encode(org, &fingerprint, &position)),
                customers: page.customers,
            }
        }
    };
    Ok(json_response(StatusCode::OK, &page))
}

/// The list's parameters: the organization, a page, an exact lookup, and the search,
/// filters and order. A cursor is accepted only with the parameters it was minted for.
fn parse_list_query(mut form: Form, caller: UserId) -> Result<ListQuery, ApiError> {
    let organization = form.required("organization", OrgId::parse);
    let limit = form
        .optional("limit", |raw| match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from 1 to {MAX_PAGE}")),
        })
        .unwrap_or(DEFAULT_PAGE);
    let exact = if form.has("email") && form.has("code") {
        form.reject("code", "use email or code, not both");
        None
    } else {
        let email = form.optional("email", Email::parse).map(Exact::Email);
        email.or_else(|| form.optional("code", CustomerCode::parse).map(Exact::Code))
    };
    let query = parse_customer_query(&mut form, caller);
    let after = organization.zip(query.as_ref()).and_then(|(org, query)| {
        let fingerprint = query.fingerprint();
        form.optional("cursor", |raw| match raw {
            "" => Ok(None),
            raw => {
                cursor::decode(org, &fingerprint, raw).and_then(|position| match query.driver() {
                    Driver::Words(word) if !position.starts_with(&word) => {
                        Err("is not a cursor this API returned")
                    }
                    _ => Ok(Some(position)),
                })
            }
        })
        .flatten()
    });
    let list = organization
        .zip(query)
        .map(|(organization, query)| ListQuery {
            organization,
            limit,
            after,
            exact,
            query,
        });
    Ok(form.finish(list)?)
}

/// `q`, `status`, `customer_type`, `owner` (`me`, `none` or a user id), `tag` and `sort`.
/// A search has its own order: `sort` with `q` is refused.
fn parse_customer_query(form: &mut Form, caller: UserId) -> Option<CustomerQuery> {
    let q = form.optional("q", SearchQuery::parse).flatten();
    let status = form.optional("status", CustomerStatus::parse);
    let customer_type = form.optional("customer_type", CustomerType::parse);
    let owner = form.optional("owner", |raw| match raw {
        "me" => Ok(Some(caller)),
        "none" => Ok(None),
        raw => UserId::parse(raw)
            .map(Some)
            .map_err(|_| "must be me, none or a user id"),
    });
    let tag = form.optional("tag", Tag::parse);
    let sort = form.optional("sort", Sort::parse);
    if q.is_some() && sort.is_some() {
        form.reject(
            "sort",
            "a search is ordered by the word matched, then by id: send q or sort, not both",
        );
    }
    Some(CustomerQuery {
        q,
        status,
        customer_type,
        owner,
        tag,
        sort: sort.unwrap_or_default(),
    })
}

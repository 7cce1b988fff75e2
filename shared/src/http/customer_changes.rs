//! PATCH and DELETE /api/customers/{id}: correct or remove a customer, moving every claim
//! with it. Non-members get 404, as on GET; a member whose role lacks the permission (an
//! employee deleting) gets 403 naming it.

use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{CustomerId, CustomerPatch, IdempotencyScope, Precondition, UserId};
use crate::store::{Change, Changed, CustomerRefusal, Idempotent, StoredAnswer, WriteError};

use super::auth::Admission;
use super::body::json_object;
use super::customers::{
    customer_answer, customer_id_in_path, customer_response, replayed_customer,
};
use super::error::NO_SUCH_CUSTOMER;
use super::{idempotency, ApiError};

pub(super) async fn update(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let body = json_object(&request)?;
    let scope = IdempotencyScope::UpdateCustomer;
    change(app, request, admission, body, scope, |body| {
        Ok(Change::Update(Box::new(CustomerPatch::from_fields(body)?)))
    })
    .await
}

pub(super) async fn delete(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let scope = IdempotencyScope::DeleteCustomer;
    let delete = |_| Ok(Change::Delete);
    change(app, request, admission, Map::new(), scope, delete).await
}

/// What both have in common: the customer, `Idempotency-Key` and `If-Match`. The
/// organization is the customer's, which the write reads: the admission decides on it there.
async fn change(
    app: &App,
    request: Request,
    admission: Admission,
    body: Map<String, Value>,
    scope: fn(UserId, CustomerId) -> IdempotencyScope,
    parse: impl FnOnce(Map<String, Value>) -> Result<Change, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let id = customer_id_in_path(&request).ok_or(ApiError::NotFound(NO_SUCH_CUSTOMER))?;
    let user = admission.caller().user;
    let idempotency = idempotency::of(&request, scope(user, id), &body)?;
    let change = parse(body)?;
    let precondition = precondition(&request)?;
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &changed_answer,
    });
    let run = |admission: Admission| {
        let (change, precondition, idempotent) = (&change, &precondition, idempotent.as_ref());
        async move {
            let access = |org| admission.may(org);
            let store = &app.store;
            store
                .change_customer(id, user, change, access, precondition, idempotent)
                .await
        }
    };
    let changed = match run(admission.clone()).await {
        // A token that leaves the organization out: read the membership, decide again.
        Err(WriteError::Refused(CustomerRefusal::Unlisted(org))) => {
            run(admission.knowing(app, org).await?).await?
        }
        changed => changed?,
    };
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

/// `If-Match`, when sent: a malformed one is a 400, never "any version".
fn precondition(request: &Request) -> Result<Precondition, ApiError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(Precondition::Any);
    };
    let raw = value
        .to_str()
        .map_err(|_| ApiError::field("If-Match", "must be visible ASCII"))?;
    Precondition::parse(raw).map_err(|e| ApiError::field("If-Match", e))
}

/// What a change's first answer is kept as.
fn changed_answer(changed: &Changed) -> StoredAnswer {
    match changed {
        Changed::Updated(customer) => customer_answer(StatusCode::OK, customer),
        Changed::Deleted => StoredAnswer {
            status: StatusCode::NO_CONTENT.as_u16(),
            body: String::new(),
        },
        Changed::Replayed(answer) => answer.clone(),
    }
}

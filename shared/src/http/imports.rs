//! POST /api/customers/batch: up to 100 customers upserted by email into one organization,
//! each row on its own (see `store::imports`). The answer is 200 with one result per row, in
//! row order: `created`, `updated`, `unchanged`, `invalid` or `conflict` (with the fields at
//! fault, named as a single creation or PATCH would name them), or `retry` (the row was not
//! written: the table was busy or other writers held its items; send the row again).

use std::collections::HashMap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{CustomerId, CustomerUpsert, FieldErrors, Form, IdempotencyScope, OrgId, Role};
use crate::store::{Imported, RowResult, StoredAnswer, Upserted, WriteError, MAX_BATCH_ROWS};

use super::auth::Admission;
use super::body::json_object;
use super::{idempotency, json_response, ApiError};

#[derive(Serialize)]
struct RowAnswer {
    index: usize,
    status: RowStatus,
    id: Option<CustomerId>,
    errors: FieldErrors,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum RowStatus {
    Created,
    Updated,
    Unchanged,
    Invalid,
    Conflict,
    Retry,
}

#[derive(Serialize)]
struct Answer {
    results: Vec<RowAnswer>,
}

pub(super) async fn import(
    app: &App,
    request: Request,
    admission: Admission,
) -> Result<Response<Body>, ApiError> {
    let caller = admission.caller().user;
    let body = json_object(&request)?;
    let (organization, rows) = parse_batch(body.clone())?;
    let scope = IdempotencyScope::ImportCustomers(caller, organization);
    let record = idempotency::of(&request, scope, &body)?;
    let role = admission.admit(app, organization).await?.role();
    let valid: Vec<CustomerUpsert> = rows.iter().filter_map(|r| r.clone().ok()).collect();
    let imported = app
        .store
        .upsert_customers(organization, caller, role, &valid, record.as_ref())
        .await?;
    let mut written = match imported {
        Imported::Rows(results) => results.into_iter(),
        Imported::Replayed(answer) => return Ok(idempotency::replay(&answer)),
        Imported::KeyReused => return Err(ApiError::IdempotencyKeyReused),
    };
    let results: Vec<RowAnswer> = rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| match row {
            Err(errors) => answer(index, RowStatus::Invalid, None, errors),
            Ok(_) => row_answer(index, written.next(), role),
        })
        .collect();
    let answer = Answer { results };
    if let Some(record) = &record {
        let kept = StoredAnswer {
            status: StatusCode::OK.as_u16(),
            body: serde_json::to_string(&answer).map_err(ApiError::internal)?,
        };
        app.store.keep_batch_answer(record, &kept).await?;
    }
    let counts =
        answer
            .results
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut counts, row| {
                *counts.entry(row.status).or_insert(0_usize) += 1;
                counts
            });
    tracing::info!(%organization, rows = answer.results.len(), ?counts, "customers imported");
    Ok(json_response(StatusCode::OK, &answer))
}

/// The organization, and each row read on its own: a bad row is that row's `invalid`, never
/// the batch's 400. A row whose email an earlier row of the batch has is `invalid` too.
fn parse_batch(
    body: Map<String, Value>,
) -> Result<(OrgId, Vec<Result<CustomerUpsert, FieldErrors>>), ApiError> {
    let mut form = Form::new(body);
    form.only(&["organization", "customers"]);
    let organization = form.required("organization", OrgId::parse);
    let rows = form.value("customers", |value| {
        let rows = value
            .as_array()
            .filter(|rows| (1..=MAX_BATCH_ROWS).contains(&rows.len()));
        let objects: Option<Vec<Map<String, Value>>> = rows
            .map(|rows| rows.iter().map(|row| row.as_object().cloned()).collect())
            .unwrap_or_default();
        objects.ok_or(format!(
            "must be a list of 1 to {MAX_BATCH_ROWS} objects, each a customer's fields"
        ))
    });
    if !form.has("customers") {
        form.reject("customers", "is required");
    }
    let (organization, rows) = form.finish(organization.zip(rows))?;
    let mut first_with: HashMap<String, usize> = HashMap::new();
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(index, fields)| {
            let row = CustomerUpsert::from_fields(organization, fields)?;
            match first_with.insert(row.form.email.normalized(), index) {
                Some(first) => {
                    first_with.insert(row.form.email.normalized(), first);
                    Err(FieldErrors::from([(
                        "email".to_owned(),
                        format!("is the email of row {first} of this batch"),
                    )]))
                }
                None => Ok(row),
            }
        })
        .collect();
    Ok((organization, rows))
}

fn answer(
    index: usize,
    status: RowStatus,
    id: Option<CustomerId>,
    errors: FieldErrors,
) -> RowAnswer {
    RowAnswer {
        index,
        status,
        id,
        errors,
    }
}

/// A written row's result. A refusal reads as the single request's 400 or 409 would; what
/// is not the row's fault (the table busy, other writers in the way) is `retry`.
fn row_answer(index: usize, result: Option<RowResult>, role: Role) -> RowAnswer {
    let none = FieldErrors::new;
    let refused = match result {
        Some(Ok(Upserted::Created(c))) => {
            return answer(index, RowStatus::Created, Some(c.id), none())
        }
        Some(Ok(Upserted::Updated(c))) => {
            return answer(index, RowStatus::Updated, Some(c.id), none())
        }
        Some(Ok(Upserted::Unchanged(c))) => {
            return answer(index, RowStatus::Unchanged, Some(c.id), none())
        }
        Some(Err(WriteError::Refused(refusal))) => ApiError::from(refusal),
        Some(Err(WriteError::Store(error))) => {
            tracing::warn!(index, cause = %error.report(), "a row was not written");
            return retry(
                index,
                "the table did not take the write; send the row again",
            );
        }
        Some(Err(_)) => {
            return retry(
                index,
                "other writers held the same customer; send the row again",
            )
        }
        None => return retry(index, "the row was not reached; send it again"),
    };
    match refused {
        ApiError::Validation(errors) => answer(index, RowStatus::Invalid, None, errors),
        ApiError::Conflict { fields, .. } => answer(index, RowStatus::Conflict, None, fields),
        ApiError::Lacks(action) => {
            let message = format!("the {role:?} role lacks the {} permission", action.name());
            answer(
                index,
                RowStatus::Invalid,
                None,
                FieldErrors::from([("owner_id".to_owned(), message)]),
            )
        }
        other => {
            tracing::warn!(index, error = ?other, "a row was refused unexpectedly");
            retry(index, "the row was not written; send it again")
        }
    }
}

fn retry(index: usize, why: &str) -> RowAnswer {
    answer(
        index,
        RowStatus::Retry,
        None,
        FieldErrors::from([("customer".to_owned(), why.to_owned())]),
    )
}

//! An organization's members: GET /api/organizations/{org}/members lists them; PATCH and
//! DELETE /api/organizations/{org}/members/{user_id} change a role or remove a member (a
//! member removing themselves leaves). The dispatcher admitted the caller on their token's
//! role; what a change needs depends on the member's role and the caller's as stored, which
//! the write reads and holds in its own transaction.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::auth::Authorized;
use crate::domain::{IdempotencyScope, Member, Role, UserId};
use crate::store::{Idempotent, MemberChange, MemberChanged, StoredAnswer};

use super::body::json_object;
use super::error::NO_SUCH_MEMBER;
use super::{cursor, idempotency, json_response, ApiError};
use crate::domain::Form;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

#[derive(Serialize)]
struct Page {
    members: Vec<Member>,
    next_cursor: Option<String>,
}

pub(super) async fn list(
    app: &App,
    request: Request,
    member: Authorized,
) -> Result<Response<Body>, ApiError> {
    let org = member.organization();
    let mut form = super::query_form(&request);
    let limit = form
        .optional("limit", |raw| match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from 1 to {MAX_PAGE}")),
        })
        .unwrap_or(DEFAULT_PAGE);
    let after = form
        .optional("cursor", |raw| match raw {
            "" => Ok(None),
            raw => cursor::decode_member(org, raw).map(Some),
        })
        .flatten();
    form.finish(Some(()))?;
    let page = app.store.members_page(&member, limit, after).await?;
    let page = Page {
        next_cursor: page.last.map(|last| cursor::encode_member(org, last)),
        members: page.members,
    };
    Ok(json_response(StatusCode::OK, &page))
}

pub(super) async fn update(
    app: &App,
    request: Request,
    member: Authorized,
) -> Result<Response<Body>, ApiError> {
    let body = json_object(&request)?;
    change(app, request, member, body, |body| {
        let mut form = Form::new(body);
        form.only(&["role"]);
        let role = form.required("role", Role::parse);
        Ok(MemberChange::Role(form.finish(role)?))
    })
    .await
}

pub(super) async fn remove(
    app: &App,
    request: Request,
    member: Authorized,
) -> Result<Response<Body>, ApiError> {
    change(app, request, member, Map::new(), |_| {
        Ok(MemberChange::Remove)
    })
    .await
}

/// What both have in common: the member, `Idempotency-Key`, and the store's answer.
async fn change(
    app: &App,
    request: Request,
    caller: Authorized,
    body: Map<String, Value>,
    parse: impl FnOnce(Map<String, Value>) -> Result<MemberChange, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let org = caller.organization();
    let target = member_in_path(&request).ok_or(ApiError::NotFound(NO_SUCH_MEMBER))?;
    let scope = IdempotencyScope::ChangeMember(caller.user(), org, target);
    let idempotency = idempotency::of(&request, scope, &body)?;
    let change = parse(body)?;
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &changed_answer,
    });
    let changed = app
        .store
        .change_member(&caller, target, change, idempotent.as_ref())
        .await?;
    match changed {
        MemberChanged::Updated(member) => {
            tracing::info!(organization = %org, member = %member.user_id, role = ?member.role, "member's role set");
            Ok(json_response(StatusCode::OK, &member))
        }
        MemberChanged::Removed => {
            tracing::info!(organization = %org, member = %target, "member removed");
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        MemberChanged::Replayed(answer) => Ok(idempotency::replay(&answer)),
    }
}

fn member_in_path(request: &Request) -> Option<UserId> {
    request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("user_id"))
        .and_then(|raw| UserId::parse(raw).ok())
}

fn changed_answer(changed: &MemberChanged) -> StoredAnswer {
    match changed {
        MemberChanged::Updated(member) => StoredAnswer {
            status: StatusCode::OK.as_u16(),
            body: serde_json::to_string(member).expect("members serialize"),
        },
        MemberChanged::Removed => StoredAnswer {
            status: StatusCode::NO_CONTENT.as_u16(),
            body: String::new(),
        },
        MemberChanged::Replayed(answer) => answer.clone(),
    }
}

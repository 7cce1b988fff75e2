//! GET /api/organizations/{org}: what a member sees of their organization, and their role in
//! it. The role comes from the token, as the dispatcher's authorization does; the
//! organization from one strongly consistent `GetItem`. PATCH renames it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::app::App;
use crate::auth::Authorized;
use crate::domain::{IdempotencyScope, OrgId, OrgName, Organization, Role, Timestamp};
use crate::store::{Idempotent, Renamed, StoredAnswer};

use super::auth::NOT_MEMBER;
use super::body::json_object;
use super::{idempotency, json_response, ApiError};
use crate::domain::Form;

/// The answer: the organization as its member sees it.
#[derive(Serialize)]
struct OrganizationView {
    id: OrgId,
    name: OrgName,
    /// The caller's.
    role: Role,
    created_at: Timestamp,
}

impl OrganizationView {
    fn of(organization: &Organization, role: Role) -> Self {
        Self {
            id: organization.id,
            name: organization.name.clone(),
            role,
            created_at: organization.created_at.clone(),
        }
    }
}

pub(super) async fn get(app: &App, member: Authorized) -> Result<Response<Body>, ApiError> {
    let (org, role) = (member.organization(), member.role());
    // Members of an organization that is gone (never, today: no route deletes one) learn
    // no more than strangers.
    let organization = app
        .store
        .organization(org)
        .await?
        .ok_or(ApiError::Forbidden(NOT_MEMBER))?;
    Ok(json_response(
        StatusCode::OK,
        &OrganizationView::of(&organization, role),
    ))
}

/// PATCH /api/organizations/{org}: owners rename it, and every copy of its name with it.
pub(super) async fn rename(
    app: &App,
    request: Request,
    owner: Authorized,
) -> Result<Response<Body>, ApiError> {
    let (org, role) = (owner.organization(), owner.role());
    let body = json_object(&request)?;
    let scope = IdempotencyScope::Rename(owner.user(), org);
    let idempotency = idempotency::of(&request, scope, &body)?;
    let mut form = Form::new(body);
    form.only(&["name"]);
    let name = form.required("name", OrgName::parse);
    let name = form.finish(name)?;
    let answer = move |renamed: &Renamed| match renamed {
        Renamed::Done(organization) => StoredAnswer {
            status: StatusCode::OK.as_u16(),
            body: serde_json::to_string(&OrganizationView::of(organization, role)).expect("JSON"),
        },
        Renamed::Replayed(answer) => answer.clone(),
    };
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &answer,
    });
    match app
        .store
        .rename_organization(&owner, &name, idempotent.as_ref())
        .await?
    {
        Renamed::Done(organization) => {
            tracing::info!(organization = %org, "organization renamed");
            let view = OrganizationView::of(&organization, role);
            Ok(json_response(StatusCode::OK, &view))
        }
        Renamed::Replayed(answer) => Ok(idempotency::replay(&answer)),
    }
}

/// The organization a route acts in, from its path. A malformed id names no organization the
/// caller belongs to: the stranger's answer.
pub(super) fn org_in_path(request: &Request) -> Result<OrgId, ApiError> {
    request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("org"))
        .and_then(|raw| OrgId::parse(raw).ok())
        .ok_or(ApiError::Forbidden(NOT_MEMBER))
}

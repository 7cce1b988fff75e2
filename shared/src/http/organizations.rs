//! GET /api/organizations/{org}: what a member sees of their organization, and their role in
//! it. The role comes from the token, as every route's authorization does; the organization
//! from one strongly consistent `GetItem`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::app::App;
use crate::auth::Action;
use crate::domain::{OrgId, OrgName, Role, Timestamp};

use super::auth::{authorize, caller, NOT_MEMBER};
use super::{json_response, ApiError};

/// The answer: the organization as its member sees it.
#[derive(Serialize)]
struct OrganizationView {
    id: OrgId,
    name: OrgName,
    /// The caller's.
    role: Role,
    created_at: Timestamp,
}

pub(super) async fn get(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(app, &request)?;
    let org = org_in_path(&request)?;
    let role = authorize(&caller, Action::ReadOrganization, org)?;
    // Members of an organization that is gone (never, today: no route deletes one) learn
    // no more than strangers.
    let organization = app
        .store
        .organization(org)
        .await?
        .ok_or(ApiError::Forbidden(NOT_MEMBER))?;
    let view = OrganizationView {
        id: organization.id,
        name: organization.name,
        role,
        created_at: organization.created_at,
    };
    Ok(json_response(StatusCode::OK, &view))
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

//! Invitations: POST, GET /api/organizations/{org}/invitations and DELETE
//! .../invitations/{id} by owners and admins; POST /api/invitations/accept by the invitee.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::Map;

use crate::app::App;
use crate::auth::{Authorized, Caller, InvitationToken};
use crate::domain::{
    rfc3339, Email, IdempotencyScope, Invitation, InvitationId, InvitationNotice, OrgId, OrgRef,
    Role, INVITATION_SECONDS,
};
use crate::store::{Accepted, Idempotent, Invited, Revoked, StoredAnswer};

use super::body::json_object;
use super::error::NO_SUCH_INVITATION;
use super::{idempotency, json_response, located, no_store, ApiError};
use crate::domain::Form;

/// An invitation as owners and admins see it; `token` only in the answer that made it.
#[derive(Serialize)]
struct InvitationView<'a> {
    id: InvitationId,
    organization: OrgId,
    email: &'a Email,
    role: Role,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl<'a> InvitationView<'a> {
    fn of(invitation: &'a Invitation, token: Option<String>) -> Self {
        Self {
            id: invitation.id,
            organization: invitation.organization,
            email: &invitation.email,
            role: invitation.role,
            expires_at: rfc3339(invitation.expires_at),
            token,
        }
    }
}

/// An invitation as its invitee sees it (`/users/me`).
#[derive(Serialize)]
pub(super) struct NoticeView {
    id: InvitationId,
    organization: OrgRef,
    role: Role,
    expires_at: String,
}

impl NoticeView {
    pub(super) fn of(notice: &InvitationNotice) -> Self {
        Self {
            id: notice.id,
            organization: notice.organization.clone(),
            role: notice.role,
            expires_at: rfc3339(notice.expires_at),
        }
    }
}

pub(super) async fn create(
    app: &App,
    request: Request,
    inviter: Authorized,
) -> Result<Response<Body>, ApiError> {
    let org = inviter.organization();
    let body = json_object(&request)?;
    let scope = IdempotencyScope::Invite(inviter.user(), org);
    let idempotency = idempotency::of(&request, scope, &body)?;
    let mut form = Form::new(body);
    form.only(&["email", "role"]);
    let email = form.required("email", Email::parse);
    let role = form
        .optional("role", |raw| match Role::parse(raw) {
            Ok(Role::Owner) => Err("must be admin or employee: owners are made, not invited"),
            other => other,
        })
        .unwrap_or(Role::Employee);
    // Inviting an admin needs `invite_admins` too: the store decides it on the inviter's
    // stored role, in the write.
    let email = form.finish(email)?;
    let token = InvitationToken::new(org, InvitationId::generate());
    let now = app.store.now();
    let invitation = Invitation {
        id: token.invitation,
        organization: org,
        email,
        role,
        invited_by: inviter.user(),
        created_at: now.timestamp(),
        expires_at: now.unix() + INVITATION_SECONDS,
        token_digest: token.digest(),
    };
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &invited_answer,
    });
    let link = app.app_url.invitation(&token.expose());
    match app
        .store
        .invite(&invitation, &link, idempotent.as_ref())
        .await?
    {
        Invited::New(invitation) => {
            tracing::info!(organization = %org, invitation = %invitation.id, role = ?role, "invited");
            let view = InvitationView::of(&invitation, Some(token.expose()));
            let path = format!("/api/organizations/{org}/invitations/{}/", invitation.id);
            let created = json_response(StatusCode::CREATED, &view);
            Ok(no_store(located(created, &path)))
        }
        Invited::Replayed(answer) => Ok(idempotency::replay(&answer)),
    }
}

/// Kept without the token, which is shown once: a replay answers the invitation without it.
fn invited_answer(invited: &Invited) -> StoredAnswer {
    match invited {
        Invited::New(invitation) => StoredAnswer {
            status: StatusCode::CREATED.as_u16(),
            body: serde_json::to_string(&InvitationView::of(invitation, None)).expect("JSON"),
        },
        Invited::Replayed(answer) => answer.clone(),
    }
}

#[derive(Serialize)]
struct Invitations<'a> {
    invitations: Vec<InvitationView<'a>>,
}

pub(super) async fn list(app: &App, member: Authorized) -> Result<Response<Body>, ApiError> {
    let pending = app.store.invitations(&member).await?;
    let invitations = pending
        .iter()
        .map(|i| InvitationView::of(i, None))
        .collect();
    Ok(json_response(StatusCode::OK, &Invitations { invitations }))
}

pub(super) async fn revoke(
    app: &App,
    request: Request,
    revoker: Authorized,
) -> Result<Response<Body>, ApiError> {
    let org = revoker.organization();
    let id = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("id"))
        .and_then(|raw| InvitationId::parse(raw).ok())
        .ok_or(ApiError::NotFound(NO_SUCH_INVITATION))?;
    let scope = IdempotencyScope::Revoke(revoker.user(), id);
    let idempotency = idempotency::of(&request, scope, &Map::new())?;
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &revoked_answer,
    });
    match app
        .store
        .revoke_invitation(&revoker, id, idempotent.as_ref())
        .await?
    {
        Revoked::Done => {
            tracing::info!(organization = %org, invitation = %id, "invitation revoked");
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        Revoked::Replayed(answer) => Ok(idempotency::replay(&answer)),
    }
}

fn revoked_answer(revoked: &Revoked) -> StoredAnswer {
    match revoked {
        Revoked::Done => StoredAnswer {
            status: StatusCode::NO_CONTENT.as_u16(),
            body: String::new(),
        },
        Revoked::Replayed(answer) => answer.clone(),
    }
}

/// What accepting answers: the organization, the role, and an access token carrying it.
#[derive(Serialize)]
struct AcceptedView {
    organization: OrgRef,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
}

pub(super) async fn accept(
    app: &App,
    request: Request,
    caller: Caller,
) -> Result<Response<Body>, ApiError> {
    let body = json_object(&request)?;
    let scope = IdempotencyScope::Accept(caller.user);
    let idempotency = idempotency::of(&request, scope, &body)?;
    let mut form = Form::new(body);
    form.only(&["token"]);
    let raw = form.required("token", |raw| Ok::<_, &str>(raw.to_owned()));
    let raw = form.finish(raw)?;
    // A malformed token finds no invitation: the answer an unknown one gets.
    let token = InvitationToken::parse(&raw).map_err(|_| ApiError::NotFound(NO_SUCH_INVITATION))?;
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &accepted_answer,
    });
    let accepted = app
        .store
        .accept_invitation(&token, caller.user, idempotent.as_ref())
        .await?;
    match accepted {
        Accepted::Joined {
            organization,
            role,
            roles,
        } => {
            tracing::info!(organization = %organization.id, role = ?role, "invitation accepted");
            let token = app
                .tokens
                .issue(caller.user, caller.email.as_ref(), &roles)?;
            let view = AcceptedView {
                organization,
                role,
                access_token: Some(token.access_token),
            };
            Ok(no_store(json_response(StatusCode::OK, &view)))
        }
        // The kept answer holds no token. The fresh one carries the roles the user has now,
        // read in the call that found the answer: a member removed or demoted since gets
        // back no role, or only the one they have, whatever the first answer said.
        Accepted::Replayed { answer, roles } => {
            let mut kept: serde_json::Value = serde_json::from_str(&answer.body)
                .map_err(|e| ApiError::internal(format!("an unreadable kept answer: {e}")))?;
            let token = app
                .tokens
                .issue(caller.user, caller.email.as_ref(), &roles)?;
            kept["access_token"] = serde_json::Value::String(token.access_token);
            Ok(no_store(idempotency::replay_json(answer.status, &kept)))
        }
    }
}

fn accepted_answer(accepted: &Accepted) -> StoredAnswer {
    match accepted {
        Accepted::Joined {
            organization, role, ..
        } => StoredAnswer {
            status: StatusCode::OK.as_u16(),
            body: serde_json::to_string(&AcceptedView {
                organization: organization.clone(),
                role: *role,
                access_token: None,
            })
            .expect("JSON"),
        },
        Accepted::Replayed { answer, .. } => answer.clone(),
    }
}

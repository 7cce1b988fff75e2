//! GET /api/users/me: the caller, their profiles, their organizations, every customer record
//! that names them, across all organizations, and the pending invitations to their email.
//! Two strongly consistent `Query`s sent together (one round trip): the caller's own
//! partition, and the invitations beside their email's claim, whose address the access token
//! carries. A token from before it did costs a second round trip.
//!
//! Invitations are listed only once the email is verified: whoever signed up first with an
//! address has not shown they read its mail, so they see none (and may accept none).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::app::App;
use crate::store::Me;

use super::invitations::NoticeView;
use super::{json_response, ApiError};
use crate::auth::Caller;

#[derive(Serialize)]
struct MeView {
    #[serde(flatten)]
    me: Me,
    invitations: Vec<NoticeView>,
}

const GONE: &str = "The access token's user no longer exists.";

pub(super) async fn me(app: &App, caller: Caller) -> Result<Response<Body>, ApiError> {
    let (me, invitations) = match &caller.email {
        Some(email) => {
            let (me, invitations) =
                tokio::join!(app.store.me(caller.user), app.store.invitations_to(email));
            (me?.ok_or(ApiError::Unauthorized(GONE))?, invitations?)
        }
        None => {
            let me = app
                .store
                .me(caller.user)
                .await?
                .ok_or(ApiError::Unauthorized(GONE))?;
            let invitations = app.store.invitations_to(&me.user.email).await?;
            (me, invitations)
        }
    };
    // A token from before an email change carries the old address: ask for the new one's.
    let moved = caller
        .email
        .as_ref()
        .is_some_and(|email| email.normalized() != me.user.email.normalized());
    let invitations = if moved {
        app.store.invitations_to(&me.user.email).await?
    } else {
        invitations
    };
    let invitations = if me.user.email_verified {
        invitations.iter().map(NoticeView::of).collect()
    } else {
        Vec::new()
    };
    let view = MeView { me, invitations };
    Ok(json_response(StatusCode::OK, &view))
}

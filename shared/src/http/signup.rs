//! POST /api/users: sign-up.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::auth::LinkToken;
use crate::domain::{
    Customer, Email, IdempotencyScope, OrgName, OrgRole, Organization, Password, PasswordHash,
    PersonName, Signup, SignupForm, User, UserId, UserProfile, Username, Vendor, DUMMY_HASH,
};
use crate::store::{Attempter, Idempotent, SignupSaved, StoredAnswer, WriteError};

use super::body::json_object;
use super::login::{take_attempt, verify};
use super::session::{new_session, pair};
use super::{idempotency, json_response, located, no_store, ApiError};
use crate::domain::Form;

/// What sign-up answers besides the tokens: also what is kept for a replay.
#[derive(Serialize)]
struct Created<'a> {
    user: &'a User,
    organization: &'a Organization,
    profiles: &'a [UserProfile; 3],
    vendor: &'a Vendor,
    customer: &'a Customer,
}

#[derive(Serialize)]
struct WithTokens<T: Serialize> {
    #[serde(flatten)]
    tokens: T,
    #[serde(flatten)]
    created: Value,
}

pub(super) async fn sign_up(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let body = json_object(&request)?;
    let idempotency = idempotency::of(&request, IdempotencyScope::Signup, &body)?;
    let (form, hash) = hashed(parse(body)?).await?;
    let password = form.password.expose().to_owned();
    let signup = Signup::assemble(form, app.store.now().timestamp());
    let created = created(&signup);
    let answer = StoredAnswer {
        status: StatusCode::CREATED.as_u16(),
        body: created.to_string(),
    };
    let (refresh, refresh_expires_at) = new_session(app, signup.user.id);
    let keep = |_: &SignupSaved| answer.clone();
    let idempotent = idempotency.as_ref().map(|record| Idempotent {
        record,
        answer: &keep,
    });
    let session = (&refresh, refresh_expires_at);
    let link = LinkToken::email_verification(signup.user.id);
    let verification = (&link, &app.app_url);
    let saved = app
        .store
        .save_signup(&signup, &hash, session, verification, idempotent.as_ref());
    let saved = match saved.await {
        // The key was used for another body. A replay of the same body checks the password;
        // so does this, against a dummy hash, so the two take the same time.
        Err(WriteError::KeyReused) => {
            verify(PasswordHash::from_stored(DUMMY_HASH.to_owned()), password).await?;
            return Err(ApiError::IdempotencyKeyReused);
        }
        saved => saved?,
    };
    match saved {
        SignupSaved::New => {
            tracing::info!(user_id = %signup.user.id, organization = %signup.organization.id, "signed up");
            let user = (signup.user.id, &signup.user.email);
            let tokens = pair(app, user, &[signup.membership.grant()], &refresh)?;
            let body = WithTokens { tokens, created };
            Ok(no_store(located(
                json_response(StatusCode::CREATED, &body),
                ME,
            )))
        }
        SignupSaved::Replayed {
            answer,
            hash,
            email,
            roles,
        } => replay(app, &answer, (hash, &email, &roles), password).await,
    }
}

/// Where a signed-up user reads what sign-up made.
const ME: &str = "/api/users/me/";

/// The form and its password's hash. Hashing is deliberately slow; keep it off the
/// executor's threads.
async fn hashed(form: SignupForm) -> Result<(SignupForm, PasswordHash), ApiError> {
    tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::create(&form.password);
        (form, hash)
    })
    .await
    .map_err(ApiError::internal)
}

/// What sign-up answers besides the tokens, as JSON: also what is kept for a replay.
fn created(signup: &Signup) -> Value {
    serde_json::to_value(Created {
        user: &signup.user,
        organization: &signup.organization,
        profiles: &signup.profiles,
        vendor: &signup.vendor,
        customer: &signup.customer,
    })
    .expect("records serialize")
}

/// A retried sign-up gets its first answer and a fresh access token, once the retry's
/// password matches the account's hash: the key and the body alone do not make a caller.
/// Each such check is a log-in attempt of the account, throttled and counted alike. The
/// token carries the account's roles as stored now, read in the call that found the
/// answer: a founder who left or was demoted since gets no more than they have. The first
/// refresh token is not kept, so none comes back; the client logs in for one.
async fn replay(
    app: &App,
    answer: &StoredAnswer,
    (hash, email, roles): (PasswordHash, &Email, &[OrgRole]),
    password: String,
) -> Result<Response<Body>, ApiError> {
    let created: Value = serde_json::from_str(&answer.body).map_err(ApiError::internal)?;
    let Some(user) = created["user"]["id"]
        .as_str()
        .and_then(|id| UserId::parse(id).ok())
    else {
        return Err(ApiError::internal("a kept sign-up answer without its user"));
    };
    let who = Attempter::Account(user);
    let count = take_attempt(app, &who).await?;
    if !verify(hash, password).await? {
        app.store
            .record_login_failure(&who, count, app.store.now().unix())
            .await?;
        return Err(ApiError::IdempotencyKeyReused);
    }
    app.store.forget_login_failures(&who).await?;
    let tokens = app.tokens.issue(user, Some(email), roles)?;
    let body = serde_json::to_value(WithTokens { tokens, created }).expect("JSON");
    Ok(no_store(located(
        idempotency::replay_json(answer.status, &body),
        ME,
    )))
}

fn parse(object: Map<String, Value>) -> Result<SignupForm, ApiError> {
    let mut form = Form::new(object);
    form.only(&[
        "email",
        "username",
        "first_name",
        "last_name",
        "organization_name",
        "password",
        "password_confirm",
    ]);
    let email = form.required("email", Email::parse);
    let username = form.required("username", Username::parse);
    let first_name = form.required("first_name", PersonName::parse);
    let last_name = form.required("last_name", PersonName::parse);
    let organization_name = form.optional("organization_name", OrgName::parse);
    let raw_password = form.raw("password");
    let confirmation = form.optional("password_confirm", |s| Ok::<_, String>(s.to_owned()));
    let password = raw_password.and_then(|raw| {
        let personal = [
            username.as_ref().map_or("", Username::as_str),
            email.as_ref().map_or("", Email::as_str),
        ];
        if confirmation.as_ref().is_some_and(|c| *c != raw) {
            form.reject("password_confirm", "does not match password");
        }
        match Password::parse(&raw, &personal) {
            Ok(password) => Some(password),
            Err(e) => {
                form.reject("password", e);
                None
            }
        }
    });
    match (email, username, first_name, last_name, password) {
        (Some(email), Some(username), Some(first_name), Some(last_name), Some(password))
            if !form.has_errors() =>
        {
            Ok(SignupForm {
                email,
                username,
                first_name,
                last_name,
                password,
                organization_name,
            })
        }
        _ => Err(ApiError::Validation(form.into_errors())),
    }
}

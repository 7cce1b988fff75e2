//! POST /api/users/: sign-up.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::domain::{
    Customer, Email, OrgName, Organization, Password, PasswordHash, PersonName, Signup, SignupForm,
    User, UserProfile, Username, Vendor,
};
use crate::store::SignupError;

use super::body::{expect_method, json_object};
use super::form::Form;
use super::session::{new_session, pair, TokenPair};
use super::{json_response, no_store, respond, ApiError};

#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    tokens: TokenPair,
    user: &'a User,
    organization: &'a Organization,
    profiles: &'a [UserProfile; 3],
    vendor: &'a Vendor,
    customer: &'a Customer,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    respond(sign_up(app, request).await)
}

async fn sign_up(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    expect_method(&request, Method::POST)?;
    let form = parse(json_object(&request)?)?;
    // Hashing is deliberately slow; keep it off the executor's threads.
    let (form, hash) = tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::create(&form.password);
        (form, hash)
    })
    .await
    .map_err(|_| ApiError::Internal)?;
    let signup = Signup::assemble(form);
    let (refresh, refresh_expires_at) = new_session(app, signup.user.id);
    app.store
        .save_signup(&signup, &hash, &refresh, refresh_expires_at)
        .await
        .map_err(|error| match error {
            SignupError::Taken { username, email } => {
                ApiError::taken(&[("username", username), ("email", email)], "user")
            }
            SignupError::Contended => ApiError::Contended,
            SignupError::Store(e) => e.into(),
        })?;
    tracing::info!(user_id = %signup.user.id, organization = %signup.organization.id, "signed up");
    Ok(no_store(json_response(
        StatusCode::CREATED,
        &Created {
            tokens: pair(app, signup.user.id, &[signup.membership.grant()], &refresh),
            user: &signup.user,
            organization: &signup.organization,
            profiles: &signup.profiles,
            vendor: &signup.vendor,
            customer: &signup.customer,
        },
    )))
}

fn parse(object: Map<String, Value>) -> Result<SignupForm, ApiError> {
    let mut form = Form::new(object);
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
        _ => Err(form.into_error()),
    }
}

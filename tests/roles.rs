//! Every role against every route: a member of an organization with each role calls each
//! route of `shared::http::ROUTES` (a new route cannot be missed: the requests are built by
//! an exhaustive match), and gets what `auth::permits` says for the route's action: its
//! success answer, or 403 `forbidden` naming the permission, with nothing written.

use crm_tests::{get, post_json, request, sample_signup, with_token, Member, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::auth::{permits, Action};
use shared::domain::Role;
use shared::http::{Operation, ROUTES};

const PASSWORD: &str = "correct horse battery";

/// The request for `operation`, made by `caller` (whose token makes them a member of
/// `owner`'s organization), and the status it succeeds with. Each call acts on a customer
/// of its own, so that every one can succeed.
async fn call(
    env: &TestEnv,
    operation: Operation,
    owner: &Member,
    caller: &Caller,
) -> (Request, StatusCode) {
    let org = &owner.org;
    let token = caller.token.as_str();
    let customer = || async {
        let email = format!("c{}@example.com", uuid::Uuid::now_v7().simple());
        let body = json!({"organization": org, "email": email});
        let (status, created) = env.create_customer(&owner.token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    };
    let employee = || async {
        let joining = env.member().await;
        env.join(&joining.user, org, Role::Employee).await;
        joining.user
    };
    let json_body = |method, path: &str, body: Value| {
        request(
            method,
            path,
            Some("application/json"),
            Body::Text(body.to_string()),
        )
    };
    match operation {
        Operation::SignUp => (
            post_json("/api/users/", &sample_signup()),
            StatusCode::CREATED,
        ),
        Operation::LogIn => (
            post_json(
                "/api/auth/login/",
                &json!({"username": caller.username, "password": PASSWORD}),
            ),
            StatusCode::OK,
        ),
        Operation::RequestPasswordReset => (
            post_json("/api/auth/password-reset/", &json!({"email": caller.email})),
            StatusCode::ACCEPTED,
        ),
        // To the same password: the next call's log-in still works.
        Operation::ResetPassword => (
            post_json(
                "/api/auth/password-reset/confirm/",
                &json!({
                    "token": env.password_reset_token(&caller.email).await,
                    "new_password": PASSWORD,
                }),
            ),
            StatusCode::NO_CONTENT,
        ),
        // A user of its own (the caller's email is verified already), with the link from
        // their sign-up's mail in the outbox (still pending: no stream runs here).
        Operation::VerifyEmail => {
            let fresh = env.signed_up_user().await;
            let email = fresh["user"]["email"].as_str().unwrap();
            let link = env.outbox_token(email, "email_verification").await;
            (
                with_token(
                    post_json("/api/users/me/email/verify/", &json!({ "token": link })),
                    fresh["access_token"].as_str().unwrap(),
                ),
                StatusCode::NO_CONTENT,
            )
        }
        // A user of its own: the caller's email is verified already.
        Operation::ResendVerification => {
            let fresh = env.signed_up_user().await;
            let resend = request(
                Method::POST,
                "/api/users/me/email/verify/resend/",
                None,
                Body::Empty,
            );
            (
                with_token(resend, fresh["access_token"].as_str().unwrap()),
                StatusCode::ACCEPTED,
            )
        }
        Operation::Refresh => (
            post_json(
                "/api/auth/refresh/",
                &json!({"refresh_token": fresh_session(env, caller).await}),
            ),
            StatusCode::OK,
        ),
        Operation::LogOut => (
            post_json(
                "/api/auth/logout/",
                &json!({"refresh_token": fresh_session(env, caller).await}),
            ),
            StatusCode::NO_CONTENT,
        ),
        Operation::CreateCustomer => (
            with_token(
                post_json(
                    "/api/customers/",
                    &json!({"organization": org, "email": "new@example.com"}),
                ),
                token,
            ),
            StatusCode::CREATED,
        ),
        Operation::ListCustomers => (
            with_token(get(&format!("/api/customers/?organization={org}")), token),
            StatusCode::OK,
        ),
        Operation::GetCustomer => (
            with_token(
                request(
                    Method::GET,
                    &format!("/api/customers/{}/", customer().await),
                    None,
                    Body::Empty,
                ),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::UpdateCustomer => (
            with_token(
                json_body(
                    Method::PATCH,
                    &format!("/api/customers/{}/", customer().await),
                    json!({"name": "Renamed"}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::DeleteCustomer => (
            with_token(
                request(
                    Method::DELETE,
                    &format!("/api/customers/{}/", customer().await),
                    None,
                    Body::Empty,
                ),
                token,
            ),
            StatusCode::NO_CONTENT,
        ),
        Operation::ImportCustomers => (
            with_token(
                post_json(
                    "/api/customers/batch/",
                    &json!({"organization": org, "customers": [
                        {"email": format!("b{}@example.com", uuid::Uuid::now_v7().simple())}
                    ]}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::Me => (
            with_token(
                request(Method::GET, "/api/users/me/", None, Body::Empty),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::GetOrganization => (
            with_token(get(&format!("/api/organizations/{org}/")), token),
            StatusCode::OK,
        ),
        Operation::CreateInvitation => (
            with_token(
                post_json(
                    &format!("/api/organizations/{org}/invitations/"),
                    &json!({"email": format!("i{}@example.com", uuid::Uuid::now_v7().simple())}),
                ),
                token,
            ),
            StatusCode::CREATED,
        ),
        Operation::ListInvitations => (
            with_token(
                get(&format!("/api/organizations/{org}/invitations/")),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::RevokeInvitation => {
            let email = format!("r{}@example.com", uuid::Uuid::now_v7().simple());
            let id = invite(env, owner, &email).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let path = format!("/api/organizations/{org}/invitations/{id}/");
            (
                with_token(request(Method::DELETE, &path, None, Body::Empty), token),
                StatusCode::NO_CONTENT,
            )
        }
        // Into another organization: any role may accept what is addressed to them.
        Operation::AcceptInvitation => {
            let host = env.member().await;
            let invited = invite(env, &host, &caller.email).await;
            (
                with_token(
                    post_json(
                        "/api/invitations/accept/",
                        &json!({"token": invited["token"]}),
                    ),
                    token,
                ),
                StatusCode::OK,
            )
        }
        // To the name it has: the route runs whole, and the next call's checks still hold.
        Operation::RenameOrganization => (
            with_token(
                json_body(
                    Method::PATCH,
                    &format!("/api/organizations/{org}/"),
                    json!({"name": owner.signup["organization"]["name"]}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::ListMembers => (
            with_token(get(&format!("/api/organizations/{org}/members/")), token),
            StatusCode::OK,
        ),
        // Each on an employee who joined for it: what an admin may change or remove.
        Operation::UpdateMember => (
            with_token(
                json_body(
                    Method::PATCH,
                    &format!("/api/organizations/{org}/members/{}/", employee().await),
                    json!({"role": "admin"}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
        Operation::RemoveMember => (
            with_token(
                request(
                    Method::DELETE,
                    &format!("/api/organizations/{org}/members/{}/", employee().await),
                    None,
                    Body::Empty,
                ),
                token,
            ),
            StatusCode::NO_CONTENT,
        ),
        // A new last name (the next call's log-in is by username): the route runs whole.
        Operation::UpdateMe => (
            with_token(
                json_body(
                    Method::PATCH,
                    "/api/users/me/",
                    json!({"last_name": "Changed"}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
        // To the same password: the route runs whole, and the next call's log-in still works.
        Operation::ChangePassword => (
            with_token(
                post_json(
                    "/api/users/me/password/",
                    &json!({"current_password": PASSWORD, "new_password": PASSWORD}),
                ),
                token,
            ),
            StatusCode::OK,
        ),
    }
}

/// The permission a call of `operation` needs: the route's own, or, for the member routes,
/// what changing or removing the employee each call acts on needs, which the store decides
/// on the roles it reads.
fn needed(operation: Operation) -> Option<Action> {
    match operation {
        Operation::UpdateMember => Some(Action::to_change_role(Role::Employee, Role::Admin)),
        Operation::RemoveMember => Some(Action::to_remove(Role::Employee, false)),
        other => other.gate().action(),
    }
}

struct Caller {
    username: String,
    email: String,
    token: String,
}

/// An invitation into `owner`'s organization, made by the owner; its answer.
async fn invite(env: &TestEnv, owner: &Member, email: &str) -> Value {
    let path = format!("/api/organizations/{}/invitations/", owner.org);
    let request = with_token(post_json(&path, &json!({ "email": email })), &owner.token);
    let (status, invited) = env.send(shared::http::Function::Teams, request).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    invited
}

/// A refresh token of a new session of `caller`'s.
async fn fresh_session(env: &TestEnv, caller: &Caller) -> String {
    let (status, answer) = env
        .login(&json!({"username": caller.username, "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_role_gets_what_the_matrix_says_on_every_route() {
    for role in Role::ALL {
        let env = TestEnv::new().await;
        let owner = env.member().await;
        let member = env.member().await;
        let caller = Caller {
            username: member.signup["user"]["username"]
                .as_str()
                .unwrap()
                .to_owned(),
            email: member.signup["user"]["email"].as_str().unwrap().to_owned(),
            // A member as stored: team writes decide on the stored role, not the token's.
            token: env.join(&member.user, &owner.org, role).await,
        };
        for route in &ROUTES {
            let (request, success) = call(&env, route.operation, &owner, &caller).await;
            let before = env.item_count().await;
            let (status, answer) = env.send(route.function, request).await;
            let what = format!("{role:?} {} {}", route.method, route.path);
            match needed(route.operation) {
                Some(action) if !permits(role, action) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {answer}");
                    assert_eq!(answer["error"]["code"], "forbidden", "{what}");
                    assert_eq!(answer["error"]["permission"], action.name(), "{what}");
                    assert!(
                        answer["error"]["message"]
                            .as_str()
                            .unwrap()
                            .contains(action.name()),
                        "{what}: {answer}"
                    );
                    env.assert_untouched(before).await;
                }
                _ => assert_eq!(status, success, "{what}: {answer}"),
            }
        }
        env.assert_invariants().await;
    }
}

/// The matrix as built reaches the routes: an employee may not delete, owners and admins
/// may, and a stranger to the organization gets the single 403 or 404 of before.
#[tokio::test]
async fn employees_may_not_delete_customers_and_strangers_learn_nothing() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let stranger = env.member().await;
    let body = json!({"organization": owner.org, "email": "kept@example.com"});
    let (_, customer) = env.create_customer(&owner.token, &body).await;
    let id = customer["id"].as_str().unwrap();
    let employee = env.token_as_member(&stranger.user, &owner.org, Role::Employee);
    let before = env.item_count().await;
    let (status, answer, _) = env.change_customer(&employee, id, None, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "delete_customers");
    env.assert_untouched(before).await;
    let (status, _, _) = env.change_customer(&stranger.token, id, None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let admin = env.token_as_member(&stranger.user, &owner.org, Role::Admin);
    let (status, _, _) = env.change_customer(&admin, id, None, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.assert_invariants().await;
}

/// A member reads their organization with their own role, in one read; strangers, unknown
/// organizations and malformed ids all get the one 403, with no read.
#[tokio::test]
async fn a_member_reads_their_organization_and_their_role_in_it() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let other = env.member().await;
    let read = |token: String, org: String| {
        let env = &env;
        async move {
            let request = with_token(get(&format!("/api/organizations/{org}/")), &token);
            env.send(shared::http::Function::Me, request).await
        }
    };
    let (status, organization) = read(owner.token.clone(), owner.org.clone()).await;
    assert_eq!(status, StatusCode::OK, "{organization}");
    assert_eq!(organization["id"], owner.org.as_str());
    assert_eq!(organization["name"], owner.signup["organization"]["name"]);
    assert_eq!(organization["role"], "owner");
    assert!(organization["created_at"].is_string(), "{organization}");
    assert_eq!(env.calls.take(), ["GetItem"]);

    let admin = env.token_as_member(&other.user, &owner.org, Role::Admin);
    let (status, organization) = read(admin, owner.org.clone()).await;
    assert_eq!(
        (status, &organization["role"]),
        (StatusCode::OK, &json!("admin"))
    );
    env.calls.take();

    let unknown = shared::domain::OrgId::generate().to_string();
    for (token, org) in [
        (other.token.clone(), owner.org.clone()),
        (other.token.clone(), unknown),
        (other.token.clone(), "not-an-id".to_owned()),
    ] {
        let (status, answer) = read(token, org.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{org}: {answer}");
        assert_eq!(
            answer["error"]["message"],
            "You are not a member of this organization."
        );
    }
    assert!(env.calls.take().is_empty());
}

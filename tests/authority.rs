//! Team authority that cannot outlive itself: every write that grants, changes or removes
//! membership acts on the caller's role as stored at the moment of the write, and no replay
//! hands out a role the user no longer has. Each test is one of the ways ended authority
//! used to make more authority; each ends with the table's invariant check.

use crm_tests::{get, post_json, request, sample_signup, with_header, with_token, Member, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::domain::{OrgId, Role, UserId};
use shared::http::Function;

async fn send(env: &TestEnv, request: Request) -> (StatusCode, Value) {
    env.send(Function::Teams, request).await
}

fn email_of(member: &Member) -> String {
    member.signup["user"]["email"].as_str().unwrap().to_owned()
}

fn user_id(member: &Member) -> UserId {
    UserId::parse(&member.user).unwrap()
}

fn member_path(org: &str, user: &str) -> String {
    format!("/api/organizations/{org}/members/{user}/")
}

fn set_role(org: &str, user: &str, role: &str, token: &str) -> Request {
    let body = Body::Text(json!({ "role": role }).to_string());
    let patch = request(
        Method::PATCH,
        &member_path(org, user),
        Some("application/json"),
        body,
    );
    with_token(patch, token)
}

fn removal(org: &str, user: &str, token: &str) -> Request {
    let path = member_path(org, user);
    with_token(request(Method::DELETE, &path, None, Body::Empty), token)
}

fn invitation(org: &str, email: &str, role: &str, token: &str) -> Request {
    let path = format!("/api/organizations/{org}/invitations/");
    let body = json!({ "email": email, "role": role });
    with_token(post_json(&path, &body), token)
}

fn acceptance(invitation_token: &Value, token: &str) -> Request {
    let body = json!({ "token": invitation_token });
    with_token(post_json("/api/invitations/accept/", &body), token)
}

/// `member` invited into `org` by `owner` as `role`, and accepted with the key `key` (if
/// any): the acceptance's answer.
async fn joined(env: &TestEnv, org: &str, owner: &str, member: &Member, role: &str) -> Value {
    let (status, invited) = send(env, invitation(org, &email_of(member), role, owner)).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let (status, answer) = send(env, acceptance(&invited["token"], &member.token)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// The role the access token gives its holder in `org`.
fn role_in(env: &TestEnv, token: &str, org: &str) -> Option<Role> {
    let caller = env.app.tokens.verify(token).expect("a valid token");
    caller.role_in(OrgId::parse(org).unwrap())
}

async fn customer_made_with(env: &TestEnv, token: &str, org: &str) -> StatusCode {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let body = json!({"organization": org, "email": format!("c.{tag}@example.com")});
    env.create_customer(token, &body).await.0
}

#[tokio::test]
async fn a_replayed_acceptance_after_removal_brings_no_role_back() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let bob = env.member().await;
    let (_, invited) = send(
        &env,
        invitation(&owner.org, &email_of(&bob), "employee", &owner.token),
    )
    .await;
    let accept = || {
        with_header(
            acceptance(&invited["token"], &bob.token),
            "Idempotency-Key",
            "accept-1",
        )
    };
    let (status, first) = send(&env, accept()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let employee = first["access_token"].as_str().unwrap();
    assert_eq!(role_in(&env, employee, &owner.org), Some(Role::Employee));

    let (status, _) = send(&env, removal(&owner.org, &bob.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.calls.take();
    let response = Function::Teams
        .handle(&env.app, accept())
        .await
        .expect("an answer");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "the record and the user's roles, read together"
    );
    assert_eq!(response.headers()["Idempotent-Replayed"], "true");
    let (status, replayed) = crm_tests::read(response);
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["organization"], first["organization"]);
    let token = replayed["access_token"].as_str().unwrap();
    assert_eq!(role_in(&env, token, &owner.org), None, "removed: no role");
    assert_eq!(role_in(&env, token, &bob.org), Some(Role::Owner));
    assert_eq!(
        customer_made_with(&env, token, &owner.org).await,
        StatusCode::FORBIDDEN
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_removed_admins_token_cannot_invite_revoke_or_rename() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let carol = env.member().await;
    let accepted = joined(&env, &owner.org, &owner.token, &carol, "admin").await;
    let admin = accepted["access_token"].as_str().unwrap().to_owned();
    let (status, pending) = send(
        &env,
        invitation(&owner.org, "pending@example.com", "employee", &admin),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    let (status, _) = send(&env, removal(&owner.org, &carol.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let before = env.item_count().await;

    // Her own email, with the admin token she still holds.
    env.calls.take();
    let (status, answer) = send(
        &env,
        invitation(&owner.org, &email_of(&carol), "admin", &admin),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["code"], "forbidden");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "decided on the read the write makes anyway"
    );
    let revoke = format!(
        "/api/organizations/{}/invitations/{}/",
        owner.org,
        pending["id"].as_str().unwrap()
    );
    let revoke = with_token(request(Method::DELETE, &revoke, None, Body::Empty), &admin);
    let (status, answer) = send(&env, revoke).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    env.assert_untouched(before).await;
    let (_, me) = env.me(&carol.token).await;
    let orgs = me["organizations"].as_array().unwrap();
    assert!(orgs.iter().all(|o| o["id"] != owner.org.as_str()), "{me}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_demoted_admins_token_can_neither_promote_nor_remove() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (dave, erin, frank) = (env.member().await, env.member().await, env.member().await);
    let dave_admin = joined(&env, &owner.org, &owner.token, &dave, "admin").await;
    let dave_admin = dave_admin["access_token"].as_str().unwrap().to_owned();
    joined(&env, &owner.org, &owner.token, &erin, "employee").await;
    joined(&env, &owner.org, &owner.token, &frank, "employee").await;
    let (status, _) = send(
        &env,
        set_role(&owner.org, &dave.user, "employee", &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = env.item_count().await;

    let (status, answer) = send(&env, set_role(&owner.org, &erin.user, "admin", &dave_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "change_roles");
    let (status, answer) = send(&env, removal(&owner.org, &frank.user, &dave_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "remove_members");
    env.assert_untouched(before).await;

    // A demoted owner's token cannot rename or make owners either.
    let (status, _) = send(
        &env,
        set_role(&owner.org, &erin.user, "owner", &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let erin_owner = env.token_now(user_id(&erin)).await;
    let (status, _) = send(
        &env,
        set_role(&owner.org, &erin.user, "admin", &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = env.item_count().await;
    let path = format!("/api/organizations/{}/", owner.org);
    let body = Body::Text(json!({"name": "Taken over"}).to_string());
    let rename = request(Method::PATCH, &path, Some("application/json"), body);
    let (status, answer) = send(&env, with_token(rename, &erin_owner)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "rename_organization");
    let (status, answer) = send(
        &env,
        set_role(&owner.org, &frank.user, "owner", &erin_owner),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "make_owners");
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn removal_and_leaving_point_the_employee_profile_away() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (bob, carol) = (env.member().await, env.member().await);
    joined(&env, &owner.org, &owner.token, &bob, "employee").await;
    let carol_joined = joined(&env, &owner.org, &owner.token, &carol, "admin").await;
    let employee_profile = |me: &Value| {
        me["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["profile_type"] == "employee")
            .unwrap()["organization"]
            .clone()
    };
    let (_, me) = env.me(&bob.token).await;
    assert_eq!(employee_profile(&me), owner.org.as_str());

    let (status, _) = send(&env, removal(&owner.org, &bob.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = env.me(&bob.token).await;
    assert_eq!(
        employee_profile(&me),
        bob.org.as_str(),
        "back to the oldest organization they belong to"
    );

    let carol_admin = carol_joined["access_token"].as_str().unwrap();
    let (status, _) = send(&env, removal(&owner.org, &carol.user, carol_admin)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "she leaves");
    let (_, me) = env.me(&carol.token).await;
    assert_eq!(employee_profile(&me), carol.org.as_str());

    // A founder who leaves the only organization they belong to: pointed at none.
    let (status, _) = send(&env, set_role(&bob.org, &owner.user, "owner", &bob.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member there");
    joined(&env, &bob.org, &bob.token, &owner, "admin").await;
    let (status, _) = send(&env, removal(&bob.org, &bob.user, &bob.token)).await;
    assert_eq!(status, StatusCode::CONFLICT, "the last owner stays");
    let (status, answer) = send(&env, set_role(&bob.org, &owner.user, "owner", &bob.token)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = send(&env, removal(&bob.org, &bob.user, &bob.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = env.me(&bob.token).await;
    assert_eq!(employee_profile(&me), Value::Null, "{me}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_replayed_signup_after_the_founder_left_hands_back_no_organization() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let signup = || with_header(post_json("/api/users/", &body), "Idempotency-Key", "su-1");
    let (status, founder) = crm_tests::read(
        Function::Signup
            .handle(&env.app, signup())
            .await
            .expect("an answer"),
    );
    assert_eq!(status, StatusCode::CREATED, "{founder}");
    let org = founder["organization"]["id"].as_str().unwrap().to_owned();
    let founder_id = founder["user"]["id"].as_str().unwrap().to_owned();
    let founder_token = founder["access_token"].as_str().unwrap().to_owned();
    let heir = env.member().await;
    joined(&env, &org, &founder_token, &heir, "admin").await;
    let (status, _) = send(&env, set_role(&org, &heir.user, "owner", &founder_token)).await;
    assert_eq!(status, StatusCode::OK);
    let heir_owner = env.token_now(user_id(&heir)).await;
    let (status, _) = send(&env, removal(&org, &founder_id, &heir_owner)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    env.calls.take();
    let response = Function::Signup
        .handle(&env.app, signup())
        .await
        .expect("an answer");
    assert_eq!(response.headers()["Idempotent-Replayed"], "true");
    let (status, replayed) = crm_tests::read(response);
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    assert_eq!(replayed["organization"]["id"], org.as_str());
    let token = replayed["access_token"].as_str().unwrap();
    assert_eq!(role_in(&env, token, &org), None, "the founder left");
    let path = format!("/api/organizations/{org}/");
    let body = Body::Text(json!({"name": "Taken over"}).to_string());
    let rename = request(Method::PATCH, &path, Some("application/json"), body);
    let (status, _) = send(&env, with_token(rename, token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = env
        .send(
            Function::Me,
            with_token(get(&format!("/api/organizations/{org}/")), token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_profile_left_behind_by_an_older_removal_is_reported_and_repaired() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let bob = env.member().await;
    joined(&env, &owner.org, &owner.token, &bob, "employee").await;
    let (status, _) = send(&env, removal(&owner.org, &bob.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // As a removal made before this change left it.
    let key =
        shared::store::keys::Key::profile(user_id(&bob), shared::domain::ProfileType::Employee);
    let mut profile = env.get(&key).await.expect("the profile");
    profile.insert(
        "organization".to_owned(),
        aws_sdk_dynamodb::types::AttributeValue::S(owner.org.clone()),
    );
    env.put(profile).await;

    let items = env.scan().await;
    let report = crm_tests::invariants::check(&items);
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    assert!(report.violations[0].contains("not a member of"));
    let org = OrgId::parse(&owner.org).unwrap();
    let dangling = crm_tests::invariants::dangling_employee_profiles(&items);
    assert_eq!(dangling, [(user_id(&bob), org)]);
    let store = &env.app.store;
    assert!(store
        .repair_employee_profile(user_id(&bob), org)
        .await
        .unwrap());
    assert!(
        !store
            .repair_employee_profile(user_id(&bob), org)
            .await
            .unwrap(),
        "a second run finds it mended"
    );
    let (_, me) = env.me(&bob.token).await;
    let employee = me["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile_type"] == "employee")
        .unwrap()
        .clone();
    assert_eq!(employee["organization"], bob.org.as_str());
    env.assert_invariants().await;
}

/// Bodies that cannot be read one way only are refused before anything is read or written:
/// a member named twice (readers differ on which one counts), and, on sign-up as on every
/// other route, a field the route does not take.
#[tokio::test]
async fn ambiguous_and_unknown_bodies_are_refused_naming_what_is_wrong() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let bob = env.member().await;
    joined(&env, &owner.org, &owner.token, &bob, "employee").await;
    let before = env.item_count().await;
    env.calls.take();
    let twice = Body::Text(r#"{"role":"employee","role":"owner"}"#.to_owned());
    let path = member_path(&owner.org, &bob.user);
    let patch = request(Method::PATCH, &path, Some("application/json"), twice);
    let (status, answer) = send(&env, with_token(patch, &owner.token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let message = answer["error"]["fields"]["body"].as_str().unwrap();
    assert!(message.contains("\"role\" appears twice"), "{message}");

    let mut body = sample_signup();
    body["plan"] = json!("x".repeat(60_000));
    let (status, answer) = env.signup(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["plan"].is_string(), "{answer}");
    let text = format!("{{\"username\":\"a\",{}", &sample_signup().to_string()[1..]);
    let signup = request(
        Method::POST,
        "/api/users/",
        Some("application/json"),
        Body::Text(text),
    );
    let (status, answer) = env.send(Function::Signup, signup).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["body"].is_string(), "{answer}");
    assert!(env.calls.take().is_empty(), "refused before any call");
    env.assert_untouched(before).await;
}

/// A 201 says where to read what it made.
#[tokio::test]
async fn what_is_created_is_located() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let body = json!({"organization": owner.org, "email": "located@example.com"});
    let create = with_token(post_json("/api/customers/", &body), &owner.token);
    let response = Function::CreateCustomer
        .handle(&env.app, create)
        .await
        .expect("an answer");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, customer) = crm_tests::read(response);
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        location,
        format!("/api/customers/{}/", customer["id"].as_str().unwrap())
    );
    let (status, read) = env.get_customers(&owner.token, &location).await;
    assert_eq!((status, &read["id"]), (StatusCode::OK, &customer["id"]));
    let signup = post_json("/api/users/", &sample_signup());
    let response = Function::Signup.handle(&env.app, signup).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/api/users/me/");
    env.assert_invariants().await;
}

/// One admin sending twenty invitations at once, on the store that applies DynamoDB's
/// conflict rule: each invitation's transaction names the admin's own `MEMBER` item (the
/// check of their stored role), so they conflict with each other. Each either lands or is
/// answered 409 `transaction_conflict` with `Retry-After`, which a client retries; nothing
/// is half-written. Prints how many landed at once and how many conflicts that cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_admins_twenty_invitations_at_once_land_or_ask_to_be_retried() {
    let window = Some(std::time::Duration::from_millis(10));
    let env = std::sync::Arc::new(TestEnv::with_conflict_window(window).await);
    let owner = env.member().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (env, org, token) = (env.clone(), owner.org.clone(), owner.token.clone());
            tokio::spawn(async move {
                let email = format!("invitee{i}.{}@example.com", uuid::Uuid::now_v7().simple());
                send(&env, invitation(&org, &email, "employee", &token)).await
            })
        })
        .collect();
    let (mut landed, mut retry) = (0, 0);
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        match status {
            StatusCode::CREATED => landed += 1,
            StatusCode::CONFLICT => {
                assert_eq!(answer["error"]["code"], "transaction_conflict", "{answer}");
                retry += 1;
            }
            other => panic!("{other}: {answer}"),
        }
    }
    let listed = send(
        &env,
        with_token(
            get(&format!("/api/organizations/{}/invitations/", owner.org)),
            &owner.token,
        ),
    )
    .await
    .1;
    assert_eq!(listed["invitations"].as_array().unwrap().len(), landed);
    let stats = env.front.stats();
    println!(
        "20 invitations at once by one admin: {landed} landed, {retry} asked to retry, \
         {} transactions sent, {} conflicts",
        stats.transactions, stats.conflicts
    );
    env.assert_invariants().await;
}

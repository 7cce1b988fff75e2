//! Organizations as teams: listing members, changing their roles, removing them and
//! leaving, with at least one owner kept through every write, concurrent ones included.

use std::sync::Arc;

use crm_tests::{get, post_json, request, with_header, with_token, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::domain::{OrgId, Role, UserId};
use shared::http::Function;
use shared::store::keys::Key;

fn members_path(org: &str) -> String {
    format!("/api/organizations/{org}/members/")
}

fn set_role(org: &str, user: &str, role: &str, token: &str) -> Request {
    let body = Body::Text(json!({ "role": role }).to_string());
    let path = format!("{}{user}/", members_path(org));
    with_token(
        request(Method::PATCH, &path, Some("application/json"), body),
        token,
    )
}

fn removal(org: &str, user: &str, token: &str) -> Request {
    let path = format!("{}{user}/", members_path(org));
    with_token(request(Method::DELETE, &path, None, Body::Empty), token)
}

/// The roles the access token of a refresh carries, by organization; `refresh` is rotated.
async fn roles_after_refresh(env: &TestEnv, refresh: &mut String) -> Value {
    let body = json!({"refresh_token": refresh});
    let (status, answer) = env
        .send(Function::Session, post_json("/api/auth/refresh/", &body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    *refresh = answer["refresh_token"].as_str().unwrap().to_owned();
    let caller = env
        .app
        .tokens
        .verify(answer["access_token"].as_str().unwrap())
        .unwrap();
    let mut roles = serde_json::Map::new();
    for grant in caller.roles {
        roles.insert(grant.organization.to_string(), json!(grant.role));
    }
    env.calls.take();
    Value::Object(roles)
}

async fn send(env: &TestEnv, request: Request) -> (StatusCode, Value) {
    env.send(Function::Teams, request).await
}

#[tokio::test]
async fn an_owner_lists_members_changes_a_role_and_removes_one() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (alice, bob) = (env.member().await, env.member().await);
    env.join(&alice.user, &owner.org, Role::Employee).await;
    env.join(&bob.user, &owner.org, Role::Admin).await;

    let list = with_token(get(&members_path(&owner.org)), &owner.token);
    let (status, page) = send(&env, list).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(env.calls.take(), ["Query"]);
    let members = page["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert!(page["next_cursor"].is_null());
    let alice_listed = members
        .iter()
        .find(|m| m["user_id"] == alice.user.as_str())
        .unwrap();
    assert_eq!(alice_listed["role"], "employee");
    assert_eq!(alice_listed["username"], alice.signup["user"]["username"]);
    assert_eq!(
        alice_listed["first_name"],
        alice.signup["user"]["first_name"]
    );
    assert!(alice_listed["joined_at"].is_string());

    let (status, changed) = send(
        &env,
        set_role(&owner.org, &alice.user, "admin", &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "admin");
    assert_eq!(changed["user_id"], alice.user.as_str());
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let mut refresh = alice.signup["refresh_token"].as_str().unwrap().to_owned();
    let roles = roles_after_refresh(&env, &mut refresh).await;
    assert_eq!(roles[&owner.org], "admin");
    assert_eq!(roles[&alice.org], "owner");

    let (status, _) = send(&env, removal(&owner.org, &alice.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let roles = roles_after_refresh(&env, &mut refresh).await;
    assert!(roles.get(&owner.org).is_none(), "{roles}");
    assert_eq!(roles[&alice.org], "owner");
    let (_, me) = env.me(&alice.token).await;
    let orgs: Vec<&Value> = me["organizations"].as_array().unwrap().iter().collect();
    assert_eq!(orgs.len(), 1, "{me}");
    let (status, answer) = send(&env, removal(&owner.org, &alice.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn the_last_owner_can_neither_be_demoted_nor_leave_until_another_owner_exists() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let admin = env.member().await;
    env.join(&admin.user, &owner.org, Role::Admin).await;
    let before = env.item_count().await;
    for request in [
        set_role(&owner.org, &owner.user, "admin", &owner.token),
        removal(&owner.org, &owner.user, &owner.token),
    ] {
        let (status, answer) = send(&env, request).await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(answer["error"]["code"], "last_owner");
    }
    env.assert_untouched(before).await;

    let (status, answer) = send(
        &env,
        set_role(&owner.org, &admin.user, "owner", &owner.token),
    )
    .await;
    assert_eq!((status, &answer["role"]), (StatusCode::OK, &json!("owner")));
    let (status, _) = send(&env, removal(&owner.org, &owner.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the founder leaves");
    let second = env.token_now(UserId::parse(&admin.user).unwrap()).await;
    let (status, answer) = send(&env, removal(&owner.org, &admin.user, &second)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "last_owner");
    env.assert_invariants().await;
}

/// Two owners demoting each other at once: both name the organization's owner count and
/// their own membership, so one goes through and the other reads again, finds its caller an
/// owner no more, and is refused for that. Never zero owners.
#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one() {
    for _ in 0..3 {
        let env = TestEnv::new().await;
        let a = env.member().await;
        let b = env.member().await;
        env.join(&b.user, &a.org, Role::Owner).await;
        let a_token = env.token_now(UserId::parse(&a.user).unwrap()).await;
        let b_token = env.token_now(UserId::parse(&b.user).unwrap()).await;
        let (first, second) = tokio::join!(
            send(&env, set_role(&a.org, &b.user, "employee", &a_token)),
            send(&env, set_role(&a.org, &a.user, "employee", &b_token)),
        );
        let mut statuses = [first.0, second.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::FORBIDDEN],
            "{first:?} {second:?}"
        );
        let refused = if first.0 == StatusCode::FORBIDDEN {
            first.1
        } else {
            second.1
        };
        assert_eq!(refused["error"]["permission"], "manage_owners");
        env.assert_invariants().await;
    }
}

/// What the matrix says about owners, through the routes: admins may not touch owners or
/// make anyone owner; employees may not change anyone, but may leave.
#[tokio::test]
async fn admins_leave_owners_alone_and_employees_may_only_leave() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (admin, employee) = (env.member().await, env.member().await);
    let admin_token = env.join(&admin.user, &owner.org, Role::Admin).await;
    let employee_token = env.join(&employee.user, &owner.org, Role::Employee).await;
    let before = env.item_count().await;
    for (request, permission) in [
        (
            set_role(&owner.org, &owner.user, "employee", &admin_token),
            "manage_owners",
        ),
        (
            removal(&owner.org, &owner.user, &admin_token),
            "manage_owners",
        ),
        (
            set_role(&owner.org, &employee.user, "owner", &admin_token),
            "make_owners",
        ),
        (
            set_role(&owner.org, &admin.user, "owner", &admin_token),
            "make_owners",
        ),
        (
            set_role(&owner.org, &admin.user, "employee", &employee_token),
            "change_roles",
        ),
        (
            removal(&owner.org, &admin.user, &employee_token),
            "remove_members",
        ),
    ] {
        let (status, answer) = send(&env, request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!(answer["error"]["permission"], permission, "{answer}");
    }
    env.assert_untouched(before).await;
    let (status, answer) = send(
        &env,
        set_role(&owner.org, &employee.user, "admin", &admin_token),
    )
    .await;
    assert_eq!((status, &answer["role"]), (StatusCode::OK, &json!("admin")));
    let (status, _) = send(&env, removal(&owner.org, &admin.user, &admin_token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an admin leaves");
    let (status, _) = send(&env, removal(&owner.org, &employee.user, &employee_token)).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "a member leaves with an old token"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn members_page_by_cursor_and_strangers_learn_nothing() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let mut joined = vec![owner.user.clone()];
    for _ in 0..4 {
        let member = env.member().await;
        env.join(&member.user, &owner.org, Role::Employee).await;
        joined.push(member.user);
    }
    let mut seen = Vec::new();
    let mut path = format!("{}?limit=2", members_path(&owner.org));
    loop {
        let (status, page) = send(&env, with_token(get(&path), &owner.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let members = page["members"].as_array().unwrap();
        assert!(members.len() <= 2);
        seen.extend(
            members
                .iter()
                .map(|m| m["user_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{}?limit=2&cursor={cursor}", members_path(&owner.org)),
            None => break,
        }
    }
    joined.sort();
    assert_eq!(seen, joined, "every member once, by user id");

    let stranger = env.member().await;
    let unknown = OrgId::generate().to_string();
    for org in [owner.org.as_str(), unknown.as_str(), "not-an-id"] {
        let (status, answer) =
            send(&env, with_token(get(&members_path(org)), &stranger.token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        let (status, _) = send(&env, removal(org, &owner.user, &stranger.token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    for user in [UserId::generate().to_string(), "nobody".to_owned()] {
        let (status, answer) = send(&env, set_role(&owner.org, &user, "admin", &owner.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    }
    let (status, answer) = send(&env, set_role(&owner.org, &joined[1], "boss", &owner.token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"]["fields"]["role"].is_string(), "{answer}");
    let bad_cursor = format!("{}?cursor=abc", members_path(&owner.org));
    let (status, answer) = send(&env, with_token(get(&bad_cursor), &owner.token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"]["fields"]["cursor"].is_string(), "{answer}");
    env.assert_invariants().await;
}

/// A membership made before memberships carried names is listed with its user's names, at
/// the cost of one `BatchGetItem` for such memberships only.
#[tokio::test]
async fn memberships_from_before_names_are_listed_with_them() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let key = Key::membership(
        OrgId::parse(&owner.org).unwrap(),
        UserId::parse(&owner.user).unwrap(),
    );
    let mut item = env.get(&key).await.unwrap();
    item.remove("member").expect("names on a new membership");
    env.put(item).await;
    env.calls.take();
    let (status, page) = send(
        &env,
        with_token(get(&members_path(&owner.org)), &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["members"][0]["username"],
        owner.signup["user"]["username"]
    );
    assert_eq!(env.calls.take(), ["Query", "BatchGetItem"]);
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_retried_role_change_is_answered_from_its_first_answer() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let member = env.member().await;
    env.join(&member.user, &owner.org, Role::Employee).await;
    let keyed = || {
        with_header(
            set_role(&owner.org, &member.user, "admin", &owner.token),
            "Idempotency-Key",
            "promote-1",
        )
    };
    let (status, first) = send(&env, keyed()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let before = env.item_count().await;
    let (status, again) = send(&env, keyed()).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    env.assert_untouched(before).await;
    let reused = with_header(
        removal(&owner.org, &member.user, &owner.token),
        "Idempotency-Key",
        "promote-1",
    );
    let (status, answer) = send(&env, reused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    env.assert_invariants().await;
}

fn invitations_path(org: &str) -> String {
    format!("/api/organizations/{org}/invitations/")
}

/// POST .../invitations/ by the holder of `token`.
async fn invite(env: &TestEnv, org: &str, body: Value, token: &str) -> (StatusCode, Value) {
    let made = with_token(post_json(&invitations_path(org), &body), token);
    send(env, made).await
}

async fn accept(env: &TestEnv, invitation_token: &Value, token: &str) -> (StatusCode, Value) {
    let body = json!({ "token": invitation_token });
    send(
        env,
        with_token(post_json("/api/invitations/accept/", &body), token),
    )
    .await
}

fn email_of(member: &crm_tests::Member) -> &str {
    member.signup["user"]["email"].as_str().unwrap()
}

/// The walk-through of the issue: an owner invites, the invitee sees it, accepts it, works
/// as an employee (and may not delete), is removed, and their next refresh drops the
/// organization.
#[tokio::test]
async fn an_invitee_sees_the_invitation_accepts_it_works_and_is_removed() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let bob = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let (status, invited) = invite(
        &env,
        &owner.org,
        json!({"email": email_of(&bob)}),
        &owner.token,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(invited["role"], "employee");
    assert_eq!(invited["organization"], owner.org.as_str());
    let token = invited["token"].as_str().unwrap();
    assert!(token.starts_with("inv1."));
    // The invitation keeps a digest; the token is only in the mail waiting in the outbox,
    // and gone from the table once the mail is sent.
    let holding: Vec<_> = env
        .scan()
        .await
        .into_iter()
        .filter(|item| format!("{item:?}").contains(token))
        .collect();
    assert_eq!(holding.len(), 1, "{holding:?}");
    assert_eq!(holding[0]["entity"].as_s().unwrap(), "MAIL");
    let (mailer, _) = env.mailbox().await;
    let event = env.stream_event(&mut reader).await;
    let sent = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(sent.batch_item_failures.is_empty(), "{sent:?}");
    env.calls.take();
    let stored = format!("{:?}", env.scan().await);
    assert!(!stored.contains(token), "only a digest is kept");

    let (status, listed) = send(
        &env,
        with_token(get(&invitations_path(&owner.org)), &owner.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(env.calls.take(), ["Query"]);
    assert_eq!(listed["invitations"][0]["id"], invited["id"]);
    assert!(listed["invitations"][0].get("token").is_none(), "{listed}");

    let (status, me) = env.me(&bob.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env.calls.take(), ["Query", "Query"], "sent together");
    let notice = &me["invitations"][0];
    assert_eq!(notice["id"], invited["id"]);
    assert_eq!(notice["organization"]["id"], owner.org.as_str());
    assert_eq!(
        notice["organization"]["name"],
        owner.signup["organization"]["name"]
    );
    assert_eq!(notice["expires_at"], invited["expires_at"]);

    let (status, joined) = accept(&env, &invited["token"], &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(joined["role"], "employee");
    assert_eq!(joined["organization"]["id"], owner.org.as_str());
    let employee = joined["access_token"].as_str().unwrap().to_owned();
    let caller = env.app.tokens.verify(&employee).unwrap();
    assert_eq!(
        caller.role_in(OrgId::parse(&owner.org).unwrap()),
        Some(Role::Employee)
    );

    let body = json!({"organization": owner.org, "email": "made.by.bob@example.com"});
    let (status, customer) = env.create_customer(&employee, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let id = customer["id"].as_str().unwrap();
    let patch = json!({"name": "Changed by Bob"});
    let (status, _, _) = env.change_customer(&employee, id, Some(&patch), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused, _) = env.change_customer(&employee, id, None, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["permission"], "delete_customers");
    let (_, me) = env.me(&employee).await;
    assert_eq!(me["invitations"], json!([]));
    assert_eq!(me["organizations"].as_array().unwrap().len(), 2, "{me}");
    let profile = me["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile_type"] == "employee")
        .unwrap();
    assert_eq!(
        profile["organization"],
        owner.org.as_str(),
        "pointed at the organization joined"
    );

    let (status, _) = send(&env, removal(&owner.org, &bob.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut refresh = bob.signup["refresh_token"].as_str().unwrap().to_owned();
    let roles = roles_after_refresh(&env, &mut refresh).await;
    assert!(roles.get(&owner.org).is_none(), "{roles}");
    let (_, kept) = env
        .get_customers(&owner.token, &format!("/api/customers/{id}/"))
        .await;
    assert_eq!(
        kept["name"], "Changed by Bob",
        "the organization keeps its customer"
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn invitations_refuse_duplicates_members_owners_and_employees() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (admin, employee) = (env.member().await, env.member().await);
    let admin_token = env.join(&admin.user, &owner.org, Role::Admin).await;
    let employee_token = env.join(&employee.user, &owner.org, Role::Employee).await;
    let (status, _) = invite(
        &env,
        &owner.org,
        json!({"email": "x@example.com"}),
        &owner.token,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let stranger = env.member().await;
    let before = env.item_count().await;
    let cases = [
        (
            json!({"email": "X@EXAMPLE.com"}),
            &owner.token,
            StatusCode::CONFLICT,
            "email",
        ),
        (
            json!({"email": email_of(&admin)}),
            &owner.token,
            StatusCode::CONFLICT,
            "email",
        ),
        (
            json!({"email": "y@example.com", "role": "owner"}),
            &owner.token,
            StatusCode::BAD_REQUEST,
            "role",
        ),
        (
            json!({"email": "not an email"}),
            &owner.token,
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            json!({"email": "y@example.com", "extra": 1}),
            &owner.token,
            StatusCode::BAD_REQUEST,
            "extra",
        ),
    ];
    for (body, token, expected, field) in cases {
        let (status, answer) = invite(&env, &owner.org, body.clone(), token).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{body}: {answer}"
        );
    }
    let (status, answer) = invite(
        &env,
        &owner.org,
        json!({"email": "z@example.com"}),
        &employee_token,
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["permission"]),
        (StatusCode::FORBIDDEN, &json!("invite_employees"))
    );
    let (status, _) = invite(
        &env,
        &owner.org,
        json!({"email": "z@example.com"}),
        &stranger.token,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    env.assert_untouched(before).await;
    let (status, answer) = invite(
        &env,
        &owner.org,
        json!({"email": "a@example.com", "role": "admin"}),
        &admin_token,
    )
    .await;
    assert_eq!(
        (status, &answer["role"]),
        (StatusCode::CREATED, &json!("admin"))
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_token_works_once_for_its_email_and_not_after_revocation_or_expiry() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (bob, eve) = (env.member().await, env.member().await);
    let (_, invited) = invite(
        &env,
        &owner.org,
        json!({"email": email_of(&bob)}),
        &owner.token,
    )
    .await;
    let before = env.item_count().await;
    let (status, answer) = accept(&env, &invited["token"], &eve.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another email: {answer}");
    let secret = invited["token"].as_str().unwrap();
    let forged = format!(
        "{}{}",
        &secret[..secret.len() - 2],
        if secret.ends_with("AA") { "BA" } else { "AA" }
    );
    for token in [json!(forged), json!("inv1.garbage"), json!("")] {
        let (status, answer) = accept(&env, &token, &bob.token).await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{token}: {answer}"
        );
    }
    env.assert_untouched(before).await;
    let (status, _) = accept(&env, &invited["token"], &bob.token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accept(&env, &invited["token"], &bob.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "used");

    let (_, revoked) = invite(
        &env,
        &owner.org,
        json!({"email": email_of(&eve)}),
        &owner.token,
    )
    .await;
    let path = format!(
        "{}{}/",
        invitations_path(&owner.org),
        revoked["id"].as_str().unwrap()
    );
    env.calls.take();
    let revoke = || {
        with_token(
            request(Method::DELETE, &path, None, Body::Empty),
            &owner.token,
        )
    };
    assert_eq!(send(&env, revoke()).await.0, StatusCode::NO_CONTENT);
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(send(&env, revoke()).await.0, StatusCode::NOT_FOUND);
    let (status, _) = accept(&env, &revoked["token"], &eve.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked");

    // Expired (DynamoDB's TTL removes items late): every reader treats it as gone, and the
    // email may be invited again.
    let (_, expiring) = invite(
        &env,
        &owner.org,
        json!({"email": email_of(&eve)}),
        &owner.token,
    )
    .await;
    let org = OrgId::parse(&owner.org).unwrap();
    let id = shared::domain::InvitationId::parse(expiring["id"].as_str().unwrap()).unwrap();
    let email = shared::domain::Email::parse(email_of(&eve)).unwrap();
    for key in [Key::invitation(org, id), Key::invitee(org, &email)] {
        let mut item = env.get(&key).await.unwrap();
        item.insert(
            "expires_at".into(),
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        );
        env.put(item).await;
    }
    let (status, _) = accept(&env, &expiring["token"], &eve.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired");
    let (_, listed) = send(
        &env,
        with_token(get(&invitations_path(&owner.org)), &owner.token),
    )
    .await;
    assert_eq!(listed["invitations"], json!([]));
    let (_, me) = env.me(&eve.token).await;
    assert_eq!(me["invitations"], json!([]));
    let (status, again) = invite(
        &env,
        &owner.org,
        json!({"email": email_of(&eve)}),
        &owner.token,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    env.assert_invariants().await;
}

/// The conflict-faithful store, whatever the environment says: these are the races.
async fn conflicting() -> Arc<TestEnv> {
    Arc::new(TestEnv::with_conflict_window(Some(std::time::Duration::from_millis(10))).await)
}

/// Twenty invitees accepting into one organization at once share no item: all join, and no
/// transaction meets another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_invitees_accept_at_once() {
    let env = conflicting().await;
    let owner = env.member().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let invitee = env.member().await;
        let body = json!({"email": email_of(&invitee)});
        let (status, invited) = invite(&env, &owner.org, body, &owner.token).await;
        assert_eq!(status, StatusCode::CREATED);
        tasks.push((invitee.token, invited["token"].clone()));
    }
    let tasks: Vec<_> = tasks
        .into_iter()
        .map(|(token, invitation)| {
            let env = Arc::clone(&env);
            tokio::spawn(async move { accept(&env, &invitation, &token).await })
        })
        .collect();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    assert_eq!(
        env.front.stats().conflicts,
        0,
        "no two acceptances share an item"
    );
    let list = format!("{}?limit=100", members_path(&owner.org));
    let (_, page) = send(&env, with_token(get(&list), &owner.token)).await;
    assert_eq!(page["members"].as_array().unwrap().len(), 21);
    env.assert_invariants().await;
}

/// Members creating customers while an owner invites, changes roles and removes someone
/// else: no customer creation names an item those writes name, so none meets a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_creations_never_collide_with_membership_changes() {
    let env = conflicting().await;
    let owner = env.member().await;
    let mut workers = Vec::new();
    for _ in 0..4 {
        let worker = env.member().await;
        workers.push(env.join(&worker.user, &owner.org, Role::Employee).await);
    }
    let (changed, removed) = (env.member().await, env.member().await);
    env.join(&changed.user, &owner.org, Role::Employee).await;
    env.join(&removed.user, &owner.org, Role::Employee).await;
    let creations: Vec<_> = (0..20)
        .map(|i| {
            let body = json!({"organization": owner.org, "email": format!("busy{i}@example.com")});
            let (env, token) = (Arc::clone(&env), workers[i % workers.len()].clone());
            tokio::spawn(async move { env.create_customer(&token, &body).await })
        })
        .collect();
    let new_hire = json!({"email": "new.hire@example.com"});
    let (invited, _) = invite(&env, &owner.org, new_hire, &owner.token).await;
    let promote = set_role(&owner.org, &changed.user, "admin", &owner.token);
    let (promoted, _) = send(&env, promote).await;
    let (gone, _) = send(&env, removal(&owner.org, &removed.user, &owner.token)).await;
    for task in creations {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    assert_eq!(
        [invited, promoted, gone],
        [StatusCode::CREATED, StatusCode::OK, StatusCode::NO_CONTENT]
    );
    assert_eq!(
        env.front.stats().conflicts,
        0,
        "no shared item, no conflict"
    );
    env.assert_invariants().await;
}

/// A member removed while they create customers linked to themselves: whichever lands
/// first, nothing is left half-written or pointing at nothing (their customers stay the
/// organization's).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_removed_while_creating_customers_leaves_no_orphan() {
    let env = conflicting().await;
    let owner = env.member().await;
    let member = env.member().await;
    let token = env.join(&member.user, &owner.org, Role::Employee).await;
    let creations: Vec<_> = (0..10)
        .map(|i| {
            let body = json!({"organization": owner.org, "email": format!("late{i}@example.com")});
            let (env, token) = (Arc::clone(&env), token.clone());
            tokio::spawn(async move { env.create_customer(&token, &body).await })
        })
        .collect();
    let (status, answer) = send(&env, removal(&owner.org, &member.user, &owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    for task in creations {
        let (status, answer) = task.await.unwrap();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "the token still names it: {answer}"
        );
    }
    env.assert_invariants().await;
}

/// A user in 100 organizations: the token carries the roles that fit in about 4 KiB and says
/// it left some out. Where it names the organization, a creation is one call, as ever; where
/// it does not, one strongly consistent read of the caller's membership comes first.
#[tokio::test]
async fn a_user_in_a_hundred_organizations_creates_a_customer_in_every_one() {
    let env = TestEnv::new().await;
    let user = env.member().await;
    let mut orgs = vec![user.org.clone()];
    for _ in 0..99 {
        let owner = env.unverified_member().await;
        env.join(&user.user, &owner.org, Role::Employee).await;
        orgs.push(owner.org);
    }
    let token = env.token_now(UserId::parse(&user.user).unwrap()).await;
    assert!(token.len() <= 4096, "{} bytes", token.len());
    let caller = env.app.tokens.verify(&token).unwrap();
    assert!(caller.more && caller.roles.len() < 100);
    let mut unlisted = Vec::new();
    for (i, org) in orgs.iter().enumerate() {
        let body = json!({"organization": org, "email": format!("c{i}@example.com")});
        let (status, answer) = env.create_customer(&token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let listed = caller.role_in(OrgId::parse(org).unwrap()).is_some();
        let expected: &[&str] = if listed {
            &["TransactWriteItems"]
        } else {
            unlisted.push(answer["id"].as_str().unwrap().to_owned());
            &["GetItem", "TransactWriteItems"]
        };
        assert_eq!(env.calls.take(), expected, "organization {i}");
    }
    assert_eq!(unlisted.len(), 100 - caller.roles.len());
    let patch = json!({"name": "Renamed"});
    let (status, answer, _) = env
        .change_customer(&token, &unlisted[0], Some(&patch), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        env.calls.take(),
        [
            "BatchGetItem",
            "GetItem",
            "BatchGetItem",
            "TransactWriteItems"
        ]
    );
    let (status, _) = env
        .get_customers(&token, &format!("/api/customers/{}/", unlisted[1]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let stranger = env.member().await;
    let body = json!({"organization": stranger.org, "email": "no@example.com"});
    assert_eq!(
        env.create_customer(&token, &body).await.0,
        StatusCode::FORBIDDEN,
        "an organization it is not in stays closed"
    );
    env.assert_invariants().await;
}

fn rename(org: &str, name: &str, token: &str) -> Request {
    let body = Body::Text(json!({ "name": name }).to_string());
    let path = format!("/api/organizations/{org}/");
    with_token(
        request(Method::PATCH, &path, Some("application/json"), body),
        token,
    )
}

#[tokio::test]
async fn an_owner_renames_the_organization_and_every_copy_of_its_name() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (member, invitee) = (env.member().await, env.member().await);
    let member_token = env.join(&member.user, &owner.org, Role::Admin).await;
    let body = json!({"email": email_of(&invitee)});
    assert_eq!(
        invite(&env, &owner.org, body, &owner.token).await.0,
        StatusCode::CREATED
    );
    let before = env.item_count().await;
    let (status, answer) = send(&env, rename(&owner.org, "Acme Ltd", &member_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "rename_organization");
    let (status, answer) = send(&env, rename(&owner.org, "   ", &owner.token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    env.assert_untouched(before).await;
    env.calls.take();
    let (status, renamed) = send(&env, rename(&owner.org, "Acme Ltd", &owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        (&renamed["name"], &renamed["role"]),
        (&json!("Acme Ltd"), &json!("owner"))
    );
    assert_eq!(env.calls.take(), ["Query", "TransactWriteItems"]);
    let (_, me) = env.me(&member_token).await;
    let names: Vec<&Value> = me["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["name"])
        .collect();
    assert!(names.contains(&&json!("Acme Ltd")), "{me}");
    let (_, me) = env.me(&invitee.token).await;
    assert_eq!(me["invitations"][0]["organization"]["name"], "Acme Ltd");
    env.assert_invariants().await;
}

/// A rename racing acceptances (and a role change): whichever lands first, no copy of the
/// name is left stale, which the invariant check would report.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rename_racing_acceptances_leaves_no_stale_name() {
    let env = conflicting().await;
    let owner = env.member().await;
    let changed = env.member().await;
    env.join(&changed.user, &owner.org, Role::Employee).await;
    let mut accepting = Vec::new();
    for _ in 0..5 {
        let invitee = env.member().await;
        let body = json!({"email": email_of(&invitee)});
        let (_, invited) = invite(&env, &owner.org, body, &owner.token).await;
        let env = Arc::clone(&env);
        accepting.push(tokio::spawn(async move {
            accept(&env, &invited["token"], &invitee.token).await
        }));
    }
    let promote = set_role(&owner.org, &changed.user, "admin", &owner.token);
    let (renamed, promoted) = tokio::join!(
        send(&env, rename(&owner.org, "Renamed Meanwhile", &owner.token)),
        send(&env, promote)
    );
    assert_eq!(renamed.0, StatusCode::OK, "{}", renamed.1);
    assert_eq!(promoted.0, StatusCode::OK, "{}", promoted.1);
    for task in accepting {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    env.assert_invariants().await;
}

/// The rename lands between an acceptance's read and its write (the acceptance's transaction
/// is held back): the acceptance's condition on the invitee side sees the new name, it reads
/// again, and the new member's side carries the new name.
#[tokio::test]
async fn an_acceptance_that_read_the_old_name_reads_again() {
    let env = Arc::new(TestEnv::new().await);
    let owner = env.member().await;
    let invitee = env.member().await;
    let body = json!({"email": email_of(&invitee)});
    let (_, invited) = invite(&env, &owner.org, body, &owner.token).await;
    env.front
        .fail_next("TransactWriteItems", crm_tests::Fault::Hold, 1);
    let accepting = {
        let env = Arc::clone(&env);
        tokio::spawn(async move { accept(&env, &invited["token"], &invitee.token).await })
    };
    env.front.holding().await;
    let (status, _) = send(&env, rename(&owner.org, "Renamed Meanwhile", &owner.token)).await;
    assert_eq!(status, StatusCode::OK);
    env.front.release();
    let (status, joined) = accepting.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["organization"]["name"], "Renamed Meanwhile");
    env.assert_invariants().await;
}

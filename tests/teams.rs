//! Organizations as teams: listing members, changing their roles, removing them and
//! leaving, with at least one owner kept through every write, concurrent ones included.

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

/// Two owners demoting each other at once: both name the organization's owner count, so one
/// goes through and the other reads the count again and is refused. Never zero owners.
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
            [StatusCode::OK, StatusCode::CONFLICT],
            "{first:?} {second:?}"
        );
        let refused = if first.0 == StatusCode::CONFLICT {
            first.1
        } else {
            second.1
        };
        assert_eq!(refused["error"]["code"], "last_owner");
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

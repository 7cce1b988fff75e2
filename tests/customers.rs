//! POST /api/customers/ against a real DynamoDB-compatible server.

use std::sync::Arc;

use crm_tests::{edited, event_with, key, post_json, read, request, s, with_token, Item, TestEnv};
use lambda_http::http::{header, Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::domain::{OrgId, ProfileId, ProfileType, Role, UserId};
use shared::http::Function;
use shared::store::{Entity, MAX_ATTEMPTS};

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {value}"))
}

fn customer_profile_id(user: &str) -> String {
    ProfileId::of(UserId::parse(user).unwrap(), ProfileType::Customer).to_string()
}

/// Customer records (not claims) of this organization, of one user when given.
async fn customers_of(env: &TestEnv, org: &str, user: Option<&str>) -> Vec<Item> {
    env.scan()
        .await
        .into_iter()
        .filter(|item| Entity::of(item) == Some(Entity::Customer))
        .filter(|item| s(item, "organization") == org)
        .filter(|item| {
            let owner = item.get("user_id").and_then(|v| v.as_s().ok());
            user.is_none_or(|u| owner.map(String::as_str) == Some(u))
        })
        .collect()
}

// The five checks of the original design.

#[tokio::test]
async fn signup_creates_both_the_vendor_and_the_customer_record() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let vendor_id = str_of(&m.signup["vendor"], "id");
    let vendor = env.get(&key::vendor(vendor_id)).await.expect("vendor");
    assert_eq!(s(&vendor, "organization"), m.org);
    assert_eq!(s(&vendor, "user_id"), m.user);
    let customers = customers_of(&env, &m.org, Some(&m.user)).await;
    assert_eq!(customers.len(), 1);
    assert_eq!(s(&customers[0], "id"), str_of(&m.signup["customer"], "id"));
    assert_eq!(
        s(&customers[0], "user_profile"),
        customer_profile_id(&m.user)
    );
}

#[tokio::test]
async fn a_user_who_already_is_a_customer_gets_the_existing_record_and_nothing_is_written() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    // Another customer of the organization owns this email and code: it must not matter.
    let taken = json!({"organization": m.org, "email": "taken@example.com"});
    let (status, other) = env.create_customer(&m.token, &taken).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let before = env.item_count().await;
    env.calls.take();

    let body = json!({
        "organization": m.org, "user_id": m.user, "email": "taken@example.com",
        "name": "Someone Else", "customer_type": "business", "code": str_of(&other, "code"),
    });
    let (status, answer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, m.signup["customer"], "exactly as stored");
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems"],
        "answered from the cancellation"
    );
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_customer_without_a_user_is_standalone() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let body = json!({"organization": m.org, "email": "Pat.Lee@Example.com"});
    let (status, customer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"]);
    assert!(
        customer["user_id"].is_null() && customer["user_profile"].is_null(),
        "{customer}"
    );
    assert_eq!(customer["name"], "Pat.Lee");
    assert_eq!(customer["email"], "Pat.Lee@Example.com");
    assert_eq!(customer["customer_type"], "individual");
    assert_eq!(customer["status"], "active");
    assert!(str_of(&customer, "code").starts_with("CUS-"));
    for field in [
        "id",
        "organization",
        "code",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "customer_type",
        "status",
        "company_name",
        "created_at",
        "updated_at",
        "user_id",
        "user_profile",
        "owner_id",
        "tags",
        "address",
    ] {
        assert!(
            customer.get(field).is_some(),
            "{field} missing from {customer}"
        );
    }
    assert_eq!(
        env.item_count().await,
        before + 3 + 3 + 3 + 6,
        "record, email claim, code claim; a row in each of the 3 orders; its status, type \
         and (no) owner; its words pat, lee, example, com and the code's cus and suffix"
    );
    let stored = env
        .get(&key::customer(str_of(&customer, "id")))
        .await
        .unwrap();
    assert_eq!(s(&stored, "organization"), m.org);
}

#[tokio::test]
async fn one_user_can_be_a_customer_of_several_organizations_once_each() {
    let env = TestEnv::new().await;
    let alice = env.member().await;
    let bob = env.member().await;
    let email = str_of(&alice.signup["user"], "email");
    let body = json!({"organization": bob.org, "user_id": alice.user, "email": email});

    let (status, in_bob) = env.create_customer(&bob.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{in_bob}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(in_bob["user_id"], alice.user.as_str());
    assert_eq!(in_bob["organization"], bob.org.as_str());
    assert_eq!(in_bob["user_profile"], customer_profile_id(&alice.user));
    assert_ne!(in_bob["id"], alice.signup["customer"]["id"]);

    let (status, again) = env.create_customer(&bob.token, &body).await;
    assert_eq!((status, &again), (StatusCode::OK, &in_bob));
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "answered by the look alone"
    );
    assert_eq!(
        customers_of(&env, &bob.org, Some(&alice.user)).await.len(),
        1
    );
    assert_eq!(
        customers_of(&env, &alice.org, Some(&alice.user))
            .await
            .len(),
        1
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn customer_email_is_unique_within_an_organization_only() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let other = env.member().await;
    let first = json!({"organization": m.org, "email": "pat@example.com"});
    assert_eq!(
        env.create_customer(&m.token, &first).await.0,
        StatusCode::CREATED
    );
    let before = env.item_count().await;

    let shouted = json!({"organization": m.org, "email": "PAT@example.COM"});
    let (status, answer) = env.create_customer(&m.token, &shouted).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["fields"]["email"].is_string(), "{answer}");
    assert!(answer["error"]["fields"].get("code").is_none(), "{answer}");
    env.assert_untouched(before).await;

    let elsewhere = json!({"organization": other.org, "email": "pat@example.com"});
    let (status, answer) = env.create_customer(&other.token, &elsewhere).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

// Linking, codes, races.

#[tokio::test]
async fn a_user_making_themself_a_customer_moves_their_own_profile_in_one_call() {
    let env = TestEnv::new().await;
    let alice = env.member().await;
    let bob = env.member().await;
    let profile = key::profile(&alice.user, ProfileType::Customer);
    let before = env.get(&profile).await.unwrap();
    assert_eq!(s(&before, "organization"), alice.org);
    // Alice as an employee of Bob's organization.
    let token = env.token_as_member(&alice.user, &bob.org, Role::Employee);

    let body =
        json!({"organization": bob.org, "user_id": alice.user, "email": "alice@example.com"});
    let (status, customer) = env.create_customer(&token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"]);
    let after = env.get(&profile).await.unwrap();
    assert_eq!(s(&after, "organization"), bob.org);
    assert_eq!(s(&after, "id"), s(&before, "id"));
    assert_eq!(s(&after, "created_at"), s(&before, "created_at"));
    assert_ne!(s(&after, "updated_at"), s(&before, "updated_at"));
    let profiles = env
        .scan()
        .await
        .into_iter()
        .filter(|i| s(i, "pk") == profile.pk && Entity::of(i) == Some(Entity::Profile))
        .count();
    assert_eq!(profiles, 3, "still one profile per type");
    env.assert_invariants().await;
}

#[tokio::test]
async fn linking_someone_else_leaves_their_profile_exactly_as_it_is() {
    let env = TestEnv::new().await;
    let alice = env.member().await;
    let bob = env.member().await;
    let profile = key::profile(&alice.user, ProfileType::Customer);
    let before = env.get(&profile).await.unwrap();

    let body =
        json!({"organization": bob.org, "user_id": alice.user, "email": "alice@example.com"});
    let (status, customer) = env.create_customer(&bob.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(customer["user_profile"], s(&before, "id"));
    assert_eq!(env.get(&profile).await.unwrap(), before);
    env.assert_invariants().await;
}

#[tokio::test]
async fn linking_creates_the_customer_profile_when_the_user_has_none() {
    let env = TestEnv::new().await;
    let alice = env.member().await;
    let bob = env.member().await;
    let profile = key::profile(&alice.user, ProfileType::Customer);
    env.remove(&profile).await;

    let body =
        json!({"organization": bob.org, "user_id": alice.user, "email": "alice@example.com"});
    let (status, customer) = env.create_customer(&bob.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    let profile = env.get(&profile).await.expect("profile created");
    assert_eq!(s(&profile, "id"), customer_profile_id(&alice.user));
    assert_eq!(customer["user_profile"], s(&profile, "id"));
    assert_eq!(s(&profile, "organization"), bob.org);
    assert_eq!(s(&profile, "profile_type"), "customer");
    assert_eq!(s(&profile, "user_id"), alice.user);
    assert_eq!(profile["is_primary"].as_bool().ok(), Some(&false));
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_given_code_is_normalised_and_unique_per_organization() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let other = env.member().await;
    let first = json!({"organization": m.org, "email": "a@example.com", "code": "vip-1"});
    let (status, created) = env.create_customer(&m.token, &first).await;
    assert_eq!(
        (status, str_of(&created, "code")),
        (StatusCode::CREATED, "VIP-1")
    );
    let before = env.item_count().await;

    let clash = json!({"organization": m.org, "email": "b@example.com", "code": "VIP-1"});
    let (status, answer) = env.create_customer(&m.token, &clash).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["fields"]["code"].is_string(), "{answer}");
    env.assert_untouched(before).await;

    let elsewhere = json!({"organization": other.org, "email": "b@example.com", "code": "VIP-1"});
    assert_eq!(
        env.create_customer(&other.token, &elsewhere).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn generated_codes_are_short_readable_and_distinct() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut codes = std::collections::HashSet::new();
    for i in 0..10 {
        let body = json!({"organization": m.org, "email": format!("c{i}@example.com")});
        let (status, customer) = env.create_customer(&m.token, &body).await;
        assert_eq!(status, StatusCode::CREATED);
        let code = str_of(&customer, "code").to_owned();
        let suffix = &code[4..];
        assert!(code.len() == 12 && code.starts_with("CUS-"), "{code}");
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{code}"
        );
        assert!(!suffix.contains(['I', 'L', 'O', 'U']), "{code}");
        codes.insert(code);
    }
    assert_eq!(codes.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_for_one_user_make_one_customer() {
    let env = Arc::new(TestEnv::new().await);
    let alice = env.member().await.user;
    let owner = env.member().await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let env = Arc::clone(&env);
            let token = owner.token.clone();
            let body = json!({
                "organization": owner.org, "user_id": alice,
                "email": "alice@example.com", "name": format!("Alice {i}"),
            });
            tokio::spawn(async move { env.create_customer(&token, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    // How many collided depends on timing (the winner may commit before the others look);
    // the answers below may not.
    println!(
        "50 requests for one (organization, user): {:?}",
        env.front.stats()
    );
    let stored = customers_of(&env, &owner.org, Some(&alice)).await;
    assert_eq!(
        stored.len(),
        1,
        "exactly one customer for (organization, user)"
    );
    let id = s(&stored[0], "id");
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    for (status, answer) in &answers {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::OK,
            "never a transaction_conflict: {status}: {answer}"
        );
        assert_eq!(answer["id"], id);
    }
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_with_backoff() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    env.front.conflict_next(2);
    let body = json!({"organization": m.org, "email": "a@example.com"});
    let (status, customer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.front.stats().faults, 2);
    assert_eq!(env.calls.take(), ["TransactWriteItems"; 3]);
    assert!(env
        .get(&key::customer(str_of(&customer, "id")))
        .await
        .is_some());
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_retries_is_a_409_asking_to_retry() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    env.front.conflict_next(MAX_ATTEMPTS as usize);
    let body = json!({"organization": m.org, "email": "a@example.com"});
    let request = with_token(post_json("/api/customers/", &body), &m.token);
    let response = shared::http::Function::CreateCustomer
        .handle(&env.app, request)
        .await
        .unwrap();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "transaction_conflict");
    assert!(retry_after.is_some());
    assert_eq!(env.calls.take().len(), MAX_ATTEMPTS as usize);
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

// Refusals.

#[tokio::test]
async fn unknown_and_foreign_organizations_get_one_403_and_an_unknown_user_a_400() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let stranger = env.member().await;
    let before = env.item_count().await;
    let nowhere = OrgId::generate().to_string();
    let nobody = UserId::generate().to_string();

    let mut forbidden = Vec::new();
    for org in [&nowhere, &stranger.org] {
        for body in [
            json!({"organization": org, "email": "a@example.com"}),
            json!({"organization": org, "user_id": m.user, "email": "a@example.com"}),
        ] {
            let (status, answer) = env.create_customer(&m.token, &body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
            assert!(env.calls.take().is_empty(), "settled from the token alone");
            forbidden.push(answer);
        }
    }
    assert!(
        forbidden.windows(2).all(|w| w[0] == w[1]),
        "one answer whether or not the organization exists: {forbidden:?}"
    );

    let body = json!({"organization": m.org, "user_id": nobody, "email": "a@example.com"});
    let (status, answer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["user_id"].is_string(), "{answer}");
    assert_eq!(env.calls.take(), ["BatchGetItem"]);
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

/// (field, value): the body is valid but for `field`, set to `value` (`None`: removed),
/// and the 400 names that field.
fn invalid_customers() -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("organization", None),
        ("organization", Some(json!("ORG#x"))),
        ("organization", Some(json!(42))),
        ("email", None),
        ("email", Some(json!("not-an-email"))),
        ("email", Some(json!(["pat@example.com"]))),
        ("user_id", Some(json!("USER#1"))),
        ("customer_type", Some(json!("company"))),
        ("status", Some(json!("deleted"))),
        ("phone", Some(json!("call me maybe"))),
        ("code", Some(json!("A#B"))),
        ("code", Some(json!("x".repeat(33)))),
        ("name", Some(json!(true))),
        ("first_name", Some(json!("x".repeat(151)))),
        ("company_name", Some(json!({"a": 1}))),
    ]
}

#[tokio::test]
async fn every_invalid_request_is_a_400_naming_the_field_and_touches_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let valid = json!({"organization": m.org, "email": "pat@example.com"});
    for (field, value) in invalid_customers() {
        let body = edited(&valid, field, value);
        let (status, answer) = env.create_customer(&m.token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let named = &answer["error"]["fields"][field];
        assert!(named.is_string(), "{field}: {answer}");
    }
    assert!(
        env.calls.take().is_empty(),
        "bad input never reaches DynamoDB"
    );
    env.assert_untouched(before).await;
}

#[tokio::test]
async fn a_wrong_method_type_or_size_is_refused_before_anything_is_read() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let valid = json!({"organization": m.org, "email": "pat@example.com"}).to_string();
    let huge = json!({"organization": m.org, "email": "p@example.com", "name": "x".repeat(70_000)});
    let json = Some("application/json");
    for (method, content_type, body, expected) in [
        (
            Method::PUT,
            json,
            valid.clone(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            Some("text/csv"),
            valid.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (Method::POST, json, "{".into(), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            json,
            huge.to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let sent = request(method, "/api/customers/", content_type, Body::Text(body));
        let (status, _) = env
            .send(Function::CreateCustomer, with_token(sent, &m.token))
            .await;
        assert_eq!(status, expected);
    }
    // The method is checked before the caller: a PUT without a token is still a 405, and
    // Allow names every method the path takes.
    let tokenless = request(Method::PUT, "/api/customers/", json, Body::Text(valid));
    let response = Function::CreateCustomer
        .handle(&env.app, tokenless)
        .await
        .unwrap();
    assert_eq!(response.headers().get(header::ALLOW).unwrap(), "POST, GET");
    assert_eq!(read(response).0, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        env.calls.take().is_empty(),
        "bad input never reaches DynamoDB"
    );
    env.assert_untouched(before).await;
}

// The sample events, through lambda_http.

#[tokio::test]
async fn the_sample_events_drive_the_handler() {
    let env = TestEnv::new().await;
    let alice = env.member().await;
    let sam = env.member().await.user;
    let handle = |name: &'static str, fields: Value| {
        let request = event_with(name, Some(&alice.token), &fields);
        let app = &env.app;
        async move {
            read(
                shared::http::Function::CreateCustomer
                    .handle(app, request)
                    .await
                    .unwrap(),
            )
        }
    };

    let ids = json!({"organization": alice.org, "user_id": alice.user});
    let (status, existing) = handle("create-customer-existing-user.json", ids).await;
    assert_eq!(status, StatusCode::OK, "{existing}");
    assert_eq!(existing, alice.signup["customer"]);

    let ids = json!({"organization": alice.org, "user_id": sam});
    let (status, linked) = handle("create-customer-new-link.json", ids).await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(linked["user_id"], sam.as_str());
    assert_eq!(linked["name"], "Sam Lee");

    let ids = json!({"organization": alice.org});
    let (status, standalone) = handle("create-customer-standalone.json", ids).await;
    assert_eq!(status, StatusCode::CREATED, "{standalone}");
    assert_eq!(standalone["name"], "Acme Corp");
    assert_eq!(standalone["code"], "ACME-001");
    assert_eq!(standalone["customer_type"], "business");
    assert!(standalone["user_id"].is_null());
}

/// Characters that show as nothing (fillers, joiners, variation selectors: every
/// Default_Ignorable_Code_Point), and names that show nothing at all (a braille blank, a
/// lone combining mark), are refused in free text, naming the field.
#[tokio::test]
async fn names_that_show_nothing_or_hide_characters_are_refused() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    let valid = json!({"organization": m.org, "email": "blank@example.com"});
    for blank in [
        "\u{3164}",
        "\u{115F}",
        "\u{2800}",
        "A\u{034F}B",
        "Ann\u{FE0F}",
        "\u{0301}",
    ] {
        for field in ["first_name", "company_name"] {
            let body = edited(&valid, field, Some(json!(blank)));
            let (status, answer) = env.create_customer(&m.token, &body).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{field} {blank:?}: {answer}"
            );
            assert!(answer["error"]["fields"][field].is_string(), "{answer}");
        }
    }
    let mut signup = crm_tests::sample_signup();
    signup["username"] = json!("\u{3164}\u{3164}\u{3164}");
    let (status, answer) = env.signup(&signup).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["fields"]["username"].is_string(),
        "{answer}"
    );
    env.assert_untouched(before).await;
}

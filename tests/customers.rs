//! POST /api/customers/ against a real DynamoDB-compatible server.

use std::sync::Arc;

use crm_tests::{event_with, read, request, s, TestEnv};
use lambda_http::http::{header, Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::domain::{ProfileId, ProfileType, UserId};
use shared::store::MAX_ATTEMPTS;

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {value}"))
}

/// A signed-up user: (user id, organization id, sign-up answer).
async fn member(env: &TestEnv) -> (String, String, Value) {
    let created = env.signed_up_user().await;
    let user = str_of(&created["user"], "id").to_owned();
    let org = str_of(&created["organization"], "id").to_owned();
    env.calls.take();
    (user, org, created)
}

fn customer_profile_id(user: &str) -> String {
    ProfileId::of(UserId::parse(user).unwrap(), ProfileType::Customer).to_string()
}

/// Customer records (not claims) in the table for this organization and user.
async fn customers_of(env: &TestEnv, org: &str, user: Option<&str>) -> Vec<crm_tests::Item> {
    env.scan()
        .await
        .into_iter()
        .filter(|item| s(item, "sk") == "CUSTOMER" && s(item, "pk").starts_with("CUSTOMER#"))
        .filter(|item| s(item, "organization") == org)
        .filter(|item| {
            user.is_none_or(|u| {
                item.get("user_id")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(u)
            })
        })
        .collect()
}

// The five checks of the original design.

#[tokio::test]
async fn check_1_signup_creates_both_the_vendor_and_the_customer_record() {
    let env = TestEnv::new().await;
    let (user, org, created) = member(&env).await;
    let vendor = env
        .get(
            &format!("VENDOR#{}", str_of(&created["vendor"], "id")),
            "VENDOR",
        )
        .await
        .expect("vendor");
    assert_eq!(s(&vendor, "organization"), org);
    assert_eq!(s(&vendor, "user_id"), user);
    let customers = customers_of(&env, &org, Some(&user)).await;
    assert_eq!(customers.len(), 1);
    assert_eq!(s(&customers[0], "id"), str_of(&created["customer"], "id"));
    assert_eq!(s(&customers[0], "user_profile"), customer_profile_id(&user));
}

#[tokio::test]
async fn check_2_a_user_who_already_is_a_customer_gets_the_existing_record_and_nothing_is_written()
{
    let env = TestEnv::new().await;
    let (user, org, created) = member(&env).await;
    // Another customer of the organization owns this email: it must not matter.
    let (status, other) = env
        .create_customer(&json!({"organization": org, "email": "taken@example.com"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let before = env.item_count().await;
    env.calls.take();

    let body = json!({
        "organization": org, "user_id": user, "email": "taken@example.com",
        "name": "Someone Else", "customer_type": "business", "code": str_of(&other, "code"),
    });
    let (status, answer) = env.create_customer(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, created["customer"], "exactly as stored");
    assert_eq!(
        env.calls.take(),
        ["TransactWriteItems"],
        "answered from the cancellation reasons"
    );
    assert_eq!(env.item_count().await, before);
}

#[tokio::test]
async fn check_3_a_customer_without_a_user_is_standalone() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let before = env.item_count().await;
    let (status, customer) = env
        .create_customer(&json!({"organization": org, "email": "Pat.Lee@Example.com"}))
        .await;
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
    ] {
        assert!(
            customer.get(field).is_some(),
            "{field} missing from {customer}"
        );
    }
    assert_eq!(
        env.item_count().await,
        before + 3,
        "record, email claim, code claim"
    );
    let stored = env
        .get(&format!("CUSTOMER#{}", str_of(&customer, "id")), "CUSTOMER")
        .await
        .unwrap();
    assert_eq!(s(&stored, "organization"), org);
}

#[tokio::test]
async fn check_4_one_user_can_be_a_customer_of_several_organizations_once_each() {
    let env = TestEnv::new().await;
    let (alice, alice_org, alice_signup) = member(&env).await;
    let (_, bob_org, _) = member(&env).await;
    let email = str_of(&alice_signup["user"], "email");
    let body =
        json!({"organization": bob_org, "user_id": alice, "email": email, "first_name": "Alice"});

    let (status, in_bob) = env.create_customer(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{in_bob}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"]);
    assert_eq!(in_bob["user_id"], alice.as_str());
    assert_eq!(in_bob["organization"], bob_org.as_str());
    assert_eq!(in_bob["user_profile"], customer_profile_id(&alice));
    assert_ne!(in_bob["id"], alice_signup["customer"]["id"]);

    let (status, again) = env.create_customer(&body).await;
    assert_eq!((status, &again), (StatusCode::OK, &in_bob));
    assert_eq!(customers_of(&env, &bob_org, Some(&alice)).await.len(), 1);
    assert_eq!(customers_of(&env, &alice_org, Some(&alice)).await.len(), 1);
}

#[tokio::test]
async fn check_5_customer_email_is_unique_within_an_organization_only() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let (_, other_org, _) = member(&env).await;
    let (status, _) = env
        .create_customer(&json!({"organization": org, "email": "pat@example.com"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = env.item_count().await;

    let (status, answer) = env
        .create_customer(&json!({"organization": org, "email": "PAT@example.COM"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["fields"]["email"].is_string(), "{answer}");
    assert!(answer["error"]["fields"].get("code").is_none(), "{answer}");
    assert_eq!(env.item_count().await, before);

    let (status, answer) = env
        .create_customer(&json!({"organization": other_org, "email": "pat@example.com"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

// Linking, codes, races.

#[tokio::test]
async fn linking_moves_an_existing_customer_profile_to_the_organization() {
    let env = TestEnv::new().await;
    let (alice, alice_org, _) = member(&env).await;
    let (_, bob_org, _) = member(&env).await;
    let profile_key = (format!("USER#{alice}"), "PROFILE#customer");
    let before = env.get(&profile_key.0, profile_key.1).await.unwrap();
    assert_eq!(s(&before, "organization"), alice_org);

    let (status, _) = env
        .create_customer(
            &json!({"organization": bob_org, "user_id": alice, "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let after = env.get(&profile_key.0, profile_key.1).await.unwrap();
    assert_eq!(s(&after, "organization"), bob_org);
    assert_eq!(s(&after, "id"), s(&before, "id"));
    assert_eq!(s(&after, "created_at"), s(&before, "created_at"));
    assert_ne!(s(&after, "updated_at"), s(&before, "updated_at"));
    let profiles = env
        .scan()
        .await
        .into_iter()
        .filter(|i| s(i, "pk") == profile_key.0 && s(i, "sk").starts_with("PROFILE#"))
        .count();
    assert_eq!(profiles, 3, "still one profile per type");
}

#[tokio::test]
async fn linking_creates_the_customer_profile_when_the_user_has_none() {
    let env = TestEnv::new().await;
    let (alice, _, _) = member(&env).await;
    let (_, bob_org, _) = member(&env).await;
    env.admin
        .delete_item()
        .table_name(&env.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{alice}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("PROFILE#customer".into()),
        )
        .send()
        .await
        .unwrap();

    let (status, customer) = env
        .create_customer(
            &json!({"organization": bob_org, "user_id": alice, "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"]);
    let profile = env
        .get(&format!("USER#{alice}"), "PROFILE#customer")
        .await
        .expect("profile created");
    assert_eq!(s(&profile, "id"), customer_profile_id(&alice));
    assert_eq!(customer["user_profile"], s(&profile, "id"));
    assert_eq!(s(&profile, "organization"), bob_org);
    assert_eq!(s(&profile, "profile_type"), "customer");
    assert_eq!(s(&profile, "user_id"), alice);
    assert_eq!(profile["is_primary"].as_bool().ok(), Some(&false));
}

#[tokio::test]
async fn a_given_code_is_normalised_and_unique_per_organization() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let (_, other_org, _) = member(&env).await;
    let (status, first) = env
        .create_customer(&json!({"organization": org, "email": "a@example.com", "code": "vip-1"}))
        .await;
    assert_eq!(
        (status, str_of(&first, "code")),
        (StatusCode::CREATED, "VIP-1")
    );
    let before = env.item_count().await;
    let (status, answer) = env
        .create_customer(&json!({"organization": org, "email": "b@example.com", "code": "VIP-1"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["fields"]["code"].is_string(), "{answer}");
    assert_eq!(env.item_count().await, before);
    let (status, _) = env
        .create_customer(
            &json!({"organization": other_org, "email": "b@example.com", "code": "VIP-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn generated_codes_are_short_readable_and_distinct() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let mut codes = std::collections::HashSet::new();
    for i in 0..10 {
        let (status, customer) = env
            .create_customer(&json!({"organization": org, "email": format!("c{i}@example.com")}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let code = str_of(&customer, "code").to_owned();
        assert!(code.len() == 12 && code.starts_with("CUS-"), "{code}");
        assert!(
            code[4..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                && !code[4..].contains(['I', 'L', 'O', 'U']),
            "{code}"
        );
        codes.insert(code);
    }
    assert_eq!(codes.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_for_one_user_make_one_customer() {
    let env = Arc::new(TestEnv::new().await);
    let (alice, _, _) = member(&env).await;
    let (_, org, _) = member(&env).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let env = Arc::clone(&env);
            let body = json!({"organization": org, "user_id": alice, "email": "alice@example.com", "name": format!("Alice {i}")});
            tokio::spawn(async move { env.create_customer(&body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let stored = customers_of(&env, &org, Some(&alice)).await;
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
            "{status}: {answer}"
        );
        assert_eq!(answer["id"], id);
    }
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_with_backoff() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    env.conflicts.conflict_next(2);
    let (status, customer) = env
        .create_customer(&json!({"organization": org, "email": "a@example.com"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(env.conflicts.injected(), 2);
    assert_eq!(env.calls.take(), ["TransactWriteItems"; 3]);
    assert!(env
        .get(&format!("CUSTOMER#{}", str_of(&customer, "id")), "CUSTOMER")
        .await
        .is_some());
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_retries_is_a_409_asking_to_retry() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let before = env.item_count().await;
    env.conflicts.conflict_next(MAX_ATTEMPTS as usize);
    let response = shared::http::customers::handle_create(
        &env.app,
        crm_tests::post_json(
            "/api/customers/",
            &json!({"organization": org, "email": "a@example.com"}),
        ),
    )
    .await
    .unwrap();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "transaction_conflict");
    assert!(retry_after.is_some());
    assert_eq!(env.calls.take().len(), MAX_ATTEMPTS as usize);
    assert_eq!(env.item_count().await, before);
}

// Refusals.

#[tokio::test]
async fn an_unknown_organization_is_a_404_and_an_unknown_user_a_400() {
    let env = TestEnv::new().await;
    let (user, org, _) = member(&env).await;
    let before = env.item_count().await;
    let nowhere = shared::domain::OrgId::generate().to_string();
    let nobody = UserId::generate().to_string();

    let (status, answer) = env
        .create_customer(&json!({"organization": nowhere, "email": "a@example.com"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = env
        .create_customer(
            &json!({"organization": nowhere, "user_id": user, "email": "a@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = env
        .create_customer(&json!({"organization": org, "user_id": nobody, "email": "a@example.com"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["user_id"].is_string(), "{answer}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"; 3]);
    assert_eq!(env.item_count().await, before);
}

#[tokio::test]
async fn every_invalid_request_is_a_400_naming_the_field_and_touches_nothing() {
    let env = TestEnv::new().await;
    let (_, org, _) = member(&env).await;
    let before = env.item_count().await;
    let valid = json!({"organization": org, "email": "pat@example.com"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let cases = [
        ("organization", json!({"email": "pat@example.com"})),
        ("organization", with("organization", json!("ORG#x"))),
        ("organization", with("organization", json!(42))),
        ("email", json!({"organization": org})),
        ("email", with("email", json!("not-an-email"))),
        ("email", with("email", json!(["pat@example.com"]))),
        ("user_id", with("user_id", json!("USER#1"))),
        ("customer_type", with("customer_type", json!("company"))),
        ("status", with("status", json!("deleted"))),
        ("phone", with("phone", json!("call me maybe"))),
        ("code", with("code", json!("A#B"))),
        ("code", with("code", json!("x".repeat(33)))),
        ("name", with("name", json!(true))),
        ("first_name", with("first_name", json!("x".repeat(151)))),
        ("company_name", with("company_name", json!({"a": 1}))),
    ];
    for (field, body) in cases {
        let (status, answer) = env.create_customer(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    let call = |method: Method, content_type: Option<&'static str>, body: String| {
        let app = &env.app;
        async move {
            read(
                shared::http::customers::handle_create(
                    app,
                    request(method, "/api/customers/", content_type, Body::Text(body)),
                )
                .await
                .unwrap(),
            )
        }
    };
    assert_eq!(
        call(Method::PUT, Some("application/json"), valid.to_string())
            .await
            .0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(Method::POST, Some("text/csv"), valid.to_string())
            .await
            .0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        call(Method::POST, Some("application/json"), "{".into())
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let huge = with("name", json!("x".repeat(70_000)));
    assert_eq!(
        call(Method::POST, Some("application/json"), huge.to_string())
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(
        env.calls.take().is_empty(),
        "bad input never reaches DynamoDB"
    );
    assert_eq!(env.item_count().await, before);
}

// The sample events, through lambda_http.

#[tokio::test]
async fn the_sample_events_drive_the_handler() {
    let env = TestEnv::new().await;
    let (alice, org, alice_signup) = member(&env).await;
    let (sam, _, _) = member(&env).await;
    let handle = |name: &'static str, fields: Value| {
        let app = &env.app;
        async move {
            read(
                shared::http::customers::handle_create(app, event_with(name, &fields))
                    .await
                    .unwrap(),
            )
        }
    };

    let (status, existing) = handle(
        "create-customer-existing-user.json",
        json!({"organization": org, "user_id": alice}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{existing}");
    assert_eq!(existing, alice_signup["customer"]);

    let (status, linked) = handle(
        "create-customer-new-link.json",
        json!({"organization": org, "user_id": sam}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(linked["user_id"], sam.as_str());
    assert_eq!(linked["name"], "Sam Lee");

    let (status, standalone) = handle(
        "create-customer-standalone.json",
        json!({"organization": org}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{standalone}");
    assert_eq!(standalone["name"], "Acme Corp");
    assert_eq!(standalone["code"], "ACME-001");
    assert_eq!(standalone["customer_type"], "business");
    assert!(standalone["user_id"].is_null());
}

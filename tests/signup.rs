//! POST /api/users/ against a real DynamoDB-compatible server.

use std::sync::Arc;

use base64::Engine;
use crm_tests::{
    app_with_store_down, edited, event, event_json, key, read, request, s, sample_signup, TestEnv,
};
use lambda_http::http::{header, Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::domain::{ProfileId, ProfileType, UserId};
use shared::http::Function;
use shared::store::keys::Key;

/// User, 2 login claims, organization, membership, 3 profiles, vendor, customer, its 3
/// claims, the user's side of the membership and of the customer, the first session, the
/// email's verification and its mail. The 19 puts of a sign-up, and the rows, filter
/// entries and words of its customer.
fn items_per_signup(created: &Value) -> usize {
    19 + crm_tests::index_items(&created["customer"])
}

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

#[tokio::test]
async fn signup_writes_every_item_in_one_transaction_and_links_them() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let (status, created) = env.signup(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(env.calls.take(), ["TransactWriteItems"]);
    assert_eq!(env.item_count().await, items_per_signup(&created));
    session_is_stored_hashed(&env, &created).await;
    user_and_its_claims(&env, &body, &created).await;
    organization_and_owner(&env, &created).await;
    one_profile_of_each_type(&env, &created).await;
    vendor_and_customer(&env, &body, &created).await;
    env.assert_invariants().await;
}

async fn session_is_stored_hashed(env: &TestEnv, created: &Value) {
    let refresh = shared::auth::RefreshToken::parse(created["refresh_token"].as_str().unwrap())
        .expect("a refresh token");
    let session = env
        .get(&Key::session(refresh.session))
        .await
        .expect("the first session, in the same transaction");
    assert_eq!(s(&session, "current"), refresh.digest(), "stored hashed");
    assert!(!session
        .values()
        .any(|v| v.as_s().is_ok_and(|v| v.contains(&refresh.expose()))));
}

async fn user_and_its_claims(env: &TestEnv, body: &Value, created: &Value) {
    let user_id = id(&created["user"]);
    let user = env.get(&key::user(user_id)).await.expect("user item");
    assert!(s(&user, "password_hash").starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(s(&user, "username"), body["username"]);
    for claim in [
        key::username(body["username"].as_str().unwrap()),
        key::user_email(body["email"].as_str().unwrap()),
    ] {
        let claim = env.get(&claim).await.unwrap_or_else(|| panic!("{claim:?}"));
        assert_eq!(s(&claim, "id"), user_id);
    }
}

async fn organization_and_owner(env: &TestEnv, created: &Value) {
    let (user_id, org_id) = (id(&created["user"]), id(&created["organization"]));
    let org = env
        .get(&key::organization(org_id))
        .await
        .expect("organization item");
    assert_eq!(s(&org, "owner_id"), user_id);
    assert_eq!(s(&org, "name"), "Jane's Organization");
    let member = env
        .get(&key::membership(org_id, user_id))
        .await
        .expect("membership");
    assert_eq!(s(&member, "role"), "owner");
}

async fn one_profile_of_each_type(env: &TestEnv, created: &Value) {
    let (user_id, org_id) = (id(&created["user"]), id(&created["organization"]));
    let user_uuid = UserId::parse(user_id).unwrap();
    let profiles = created["profiles"].as_array().expect("profiles");
    assert_eq!(profiles.len(), 3);
    for profile_type in ProfileType::ALL {
        let item = env
            .get(&key::profile(user_id, profile_type))
            .await
            .unwrap_or_else(|| panic!("{profile_type} profile"));
        assert_eq!(
            s(&item, "id"),
            ProfileId::of(user_uuid, profile_type).to_string()
        );
        assert_eq!(s(&item, "organization"), org_id);
        let primary = item["is_primary"].as_bool().unwrap();
        assert_eq!(
            *primary,
            profile_type == ProfileType::Vendor,
            "{profile_type}"
        );
        let answered = profiles
            .iter()
            .find(|p| p["profile_type"] == profile_type.as_str())
            .unwrap();
        assert_eq!(answered["id"], s(&item, "id"));
        assert_eq!(answered["is_primary"], *primary);
    }
}

async fn vendor_and_customer(env: &TestEnv, body: &Value, created: &Value) {
    let (user_id, org_id) = (id(&created["user"]), id(&created["organization"]));
    let user_uuid = UserId::parse(user_id).unwrap();
    let profile = |t| ProfileId::of(user_uuid, t).to_string();
    let vendor = env
        .get(&key::vendor(id(&created["vendor"])))
        .await
        .expect("vendor");
    assert_eq!(s(&vendor, "organization"), org_id);
    assert_eq!(s(&vendor, "user_profile"), profile(ProfileType::Vendor));
    let customer = &created["customer"];
    let item = env
        .get(&key::customer(id(customer)))
        .await
        .expect("customer item");
    assert_eq!(s(&item, "organization"), org_id);
    assert_eq!(s(&item, "user_id"), user_id);
    assert_eq!(s(&item, "user_profile"), profile(ProfileType::Customer));
    assert_eq!(s(&item, "name"), "Jane Doe");
    assert_eq!(s(&item, "customer_type"), "individual");
    assert_eq!(s(&item, "status"), "active");
    assert_eq!(customer["user_profile"], s(&item, "user_profile"));
    assert_eq!(customer["code"], s(&item, "code"));
    let claim = env
        .get(&key::customer_of_user(org_id, user_id))
        .await
        .expect("org#user");
    assert_eq!(s(&claim, "customer_id"), id(customer));
    let email = body["email"].as_str().unwrap();
    assert!(env.get(&key::customer_email(org_id, email)).await.is_some());
    let code = customer["code"].as_str().unwrap();
    assert!(env.get(&key::customer_code(org_id, code)).await.is_some());
}

#[tokio::test]
async fn the_answer_never_carries_the_password_or_its_hash() {
    let env = TestEnv::new().await;
    let body = sample_signup();
    let (status, created) = env.signup(&body).await;
    assert_eq!(status, StatusCode::CREATED);
    let text = created.to_string();
    assert!(!text.contains("argon2"), "{text}");
    assert!(!text.contains("password"), "{text}");
    assert!(!text.contains(body["password"].as_str().unwrap()), "{text}");
    for key in ["id", "username", "email", "first_name", "last_name"] {
        assert!(created["user"].get(key).is_some(), "user.{key}");
    }
}

#[tokio::test]
async fn organization_name_is_taken_from_the_request_when_given() {
    let env = TestEnv::new().await;
    let mut body = sample_signup();
    body["organization_name"] = json!("  Doe Consulting ");
    let (status, created) = env.signup(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["organization"]["name"], "Doe Consulting");
}

#[tokio::test]
async fn a_taken_username_or_email_in_any_case_is_a_409_naming_it_and_writes_nothing() {
    let env = TestEnv::new().await;
    let first = sample_signup();
    env.signed_up_user_with(&first).await;
    let before = env.item_count().await;
    let shout = |v: &Value| v.as_str().unwrap().to_uppercase();

    let mut same_username = sample_signup();
    same_username["username"] = json!(shout(&first["username"]));
    let mut same_email = sample_signup();
    same_email["email"] = json!(shout(&first["email"]));
    let mut both = first.clone();
    both["username"] = json!(shout(&first["username"]));

    for (body, fields) in [
        (same_username, vec!["username"]),
        (same_email, vec!["email"]),
        (both, vec!["email", "username"]),
    ] {
        env.calls.take();
        let (status, answer) = env.signup(&body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        let named: Vec<&str> = answer["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(named, fields, "{answer}");
        assert_eq!(env.calls.take(), ["TransactWriteItems"]);
        env.assert_untouched(before).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_signups_for_one_username_make_one_user() {
    let env = Arc::new(TestEnv::new().await);
    let username = sample_signup()["username"].clone();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let env = Arc::clone(&env);
            let mut body = sample_signup();
            body["username"] = username.clone();
            tokio::spawn(async move { env.signup(&body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    println!("20 sign-ups for one username: {:?}", env.front.stats());
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    let (_, created) = answers
        .iter()
        .find(|(status, _)| *status == StatusCode::CREATED)
        .unwrap();
    let items = items_per_signup(created);
    for (status, answer) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(
            answer["error"]["code"], "conflict",
            "taken, never told to retry: {answer}"
        );
        assert!(
            answer["error"]["fields"]["username"].is_string(),
            "{answer}"
        );
    }
    assert_eq!(env.item_count().await, items, "no orphans");
    env.assert_invariants().await;
}

/// (case, field, value): the body is valid but for `field`, set to `value` (`None`:
/// removed), and the 400 names that field.
fn invalid_signups(valid: &Value) -> Vec<(&'static str, &'static str, Option<Value>)> {
    let username = valid["username"].as_str().unwrap().to_uppercase();
    let email = valid["email"].clone();
    vec![
        ("missing", "email", None),
        ("missing", "username", None),
        ("missing", "first_name", None),
        ("missing", "last_name", None),
        ("missing", "password", None),
        ("blank", "username", Some(json!("   "))),
        ("blank", "first_name", Some(json!(""))),
        ("null", "last_name", Some(Value::Null)),
        ("a number", "first_name", Some(json!(5))),
        ("an object", "email", Some(json!({"a": 1}))),
        ("an array", "organization_name", Some(json!(["x"]))),
        ("not an address", "email", Some(json!("jane.example.com"))),
        ("with a space", "username", Some(json!("jane doe"))),
        ("with #", "username", Some(json!("jane#ORG"))),
        ("too long", "username", Some(json!("j".repeat(151)))),
        ("too short", "password", Some(json!("s3cret!"))),
        ("all digits", "password", Some(json!("1234567890"))),
        ("the username", "password", Some(json!(username))),
        ("the email", "password", Some(email)),
        (
            "not the password",
            "password_confirm",
            Some(json!("something else")),
        ),
    ]
}

#[tokio::test]
async fn every_invalid_request_is_a_400_naming_the_field_and_touches_nothing() {
    let env = TestEnv::new().await;
    let valid = sample_signup();
    for (case, field, value) in invalid_signups(&valid) {
        let (status, answer) = env.signup(&edited(&valid, field, value)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field} {case}: {answer}");
        assert_eq!(
            answer["error"]["code"], "validation_failed",
            "{field} {case}"
        );
        let named = &answer["error"]["fields"][field];
        assert!(named.is_string(), "{field} {case}: {answer}");
    }
    assert!(
        env.calls.take().is_empty(),
        "bad input never reaches DynamoDB"
    );
    env.assert_untouched(0).await;
}

#[tokio::test]
async fn a_body_that_is_no_json_object_is_a_400_naming_the_body() {
    let env = TestEnv::new().await;
    for (case, raw) in [
        ("invalid JSON", "{\"email\": "),
        ("not an object", "[1, 2]"),
        ("empty", ""),
    ] {
        let json = Some("application/json");
        let post = request(Method::POST, "/api/users/", json, Body::Text(raw.into()));
        let (status, answer) = env.send(Function::Signup, post).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        let named = &answer["error"]["fields"]["body"];
        assert!(named.is_string(), "{case}: {answer}");
    }
    assert!(
        env.calls.take().is_empty(),
        "bad input never reaches DynamoDB"
    );
    env.assert_untouched(0).await;
}

#[tokio::test]
async fn several_bad_fields_are_reported_together() {
    let env = TestEnv::new().await;
    let (status, answer) = env
        .signup(&json!({"email": "nope", "password": "123"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields = answer["error"]["fields"].as_object().unwrap();
    for field in ["email", "username", "first_name", "last_name", "password"] {
        assert!(fields.contains_key(field), "{field}: {answer}");
    }
}

#[tokio::test]
async fn wrong_method_media_type_or_size_get_405_415_413() {
    let env = TestEnv::new().await;
    let body = sample_signup().to_string();
    let call = |method: Method, content_type: Option<&'static str>, body: String| {
        let app = &env.app;
        async move {
            let response = shared::http::Function::Signup
                .handle(
                    app,
                    request(method, "/api/users/", content_type, Body::Text(body)),
                )
                .await
                .unwrap();
            let allow = response.headers().get(header::ALLOW).cloned();
            (read(response), allow)
        }
    };
    let ((status, answer), allow) = call(Method::GET, None, String::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{answer}");
    assert_eq!(allow.unwrap(), "POST");
    let ((status, _), _) = call(Method::POST, Some("text/plain"), body.clone()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let ((status, _), _) = call(Method::POST, None, body.clone()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let ((status, created), _) =
        call(Method::POST, Some("application/json; charset=utf-8"), body).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut huge = sample_signup();
    huge["first_name"] = json!("x".repeat(shared::http::MAX_BODY_BYTES));
    let ((status, answer), _) =
        call(Method::POST, Some("application/json"), huge.to_string()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(
        env.item_count().await,
        items_per_signup(&created),
        "only the one valid request wrote"
    );
}

#[tokio::test]
async fn the_sample_event_signs_up_through_lambda_http() {
    let env = TestEnv::new().await;
    let response = shared::http::Function::Signup
        .handle(&env.app, event("signup.json"))
        .await
        .unwrap();
    let (status, created) = read(response);
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["username"], "janedoe");
    assert_eq!(created["organization"]["name"], "Doe Consulting");
    assert_eq!(env.item_count().await, items_per_signup(&created));
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded() {
    let env = TestEnv::new().await;
    let mut event = event_json("signup.json");
    let body = event["body"].as_str().unwrap().to_owned();
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (status, created) = read(
        shared::http::Function::Signup
            .handle(&env.app, request)
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["email"], "jane.doe@example.com");
}

#[tokio::test]
async fn an_unreachable_store_is_a_503() {
    let app = app_with_store_down().await;
    let request = crm_tests::post_json("/api/users/", &sample_signup());
    let response = shared::http::Function::Signup
        .handle(&app, request)
        .await
        .unwrap();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["error"]["code"], "service_unavailable");
    assert!(retry_after.is_some());
}

#[tokio::test]
async fn look_alike_usernames_are_the_same_name_or_refused() {
    let env = TestEnv::new().await;
    let mut first = sample_signup();
    first["username"] = json!("file_strasse_admin");
    env.signed_up_user_with(&first).await;
    let before = env.item_count().await;
    // Fullwidth letters, a ligature, ß and upper case: all the same name.
    for variant in [
        "ｆｉｌｅ_strasse_admin",
        "ﬁle_straße_admin",
        "FILE_STRASSE_ADMIN",
    ] {
        let mut body = sample_signup();
        body["username"] = json!(variant);
        let (status, answer) = env.signup(&body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{variant}: {answer}");
        assert!(
            answer["error"]["fields"]["username"].is_string(),
            "{answer}"
        );
    }
    // A Cyrillic а (U+0430) standing in for a Latin a.
    let mut body = sample_signup();
    body["username"] = json!("file_strasse_\u{430}dmin");
    let (status, answer) = env.signup(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["fields"]["username"].is_string(),
        "{answer}"
    );
    env.assert_untouched(before).await;
    // Log-in finds the account under any of the forms.
    let login = json!({"username": "ｆｉｌｅ_STRASSE_admin", "password": first["password"]});
    assert_eq!(env.login(&login).await.0, StatusCode::OK);
    env.assert_invariants().await;
}

#[tokio::test]
async fn names_with_invisible_characters_are_refused_naming_the_field() {
    let env = TestEnv::new().await;
    let before = env.item_count().await;
    for (field, value) in [
        ("first_name", "\u{200b}\u{200b}"),
        ("last_name", "\u{202e}gnp.exe"),
        ("organization_name", "Acme\u{2066}Corp"),
    ] {
        let mut body = sample_signup();
        body[field] = json!(value);
        let (status, answer) = env.signup(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    assert!(env.calls.take().is_empty());
    env.assert_untouched(before).await;
}

/// Two names that look alike, whole script against whole script, cannot both be taken: the
/// second gets the 409 naming `username` that a taken name gets, and nothing is written.
#[tokio::test]
async fn a_username_that_looks_like_a_taken_one_is_taken() {
    let env = TestEnv::new().await;
    // Digits go with any script; letters would mix them.
    let tag = uuid::Uuid::now_v7().as_u128() % 1_000_000_007;
    for (latin, lookalike) in [("coca", "соса"), ("scope", "ѕсоре"), ("oo", "οο")] {
        let mut first = sample_signup();
        first["username"] = json!(format!("{latin}_{tag}"));
        env.signed_up_user_with(&first).await;
        let before = env.item_count().await;
        let mut second = sample_signup();
        second["username"] = json!(format!("{lookalike}_{tag}"));
        let (status, answer) = env.signup(&second).await;
        assert_eq!(status, StatusCode::CONFLICT, "{lookalike}: {answer}");
        assert!(
            answer["error"]["fields"]["username"].is_string(),
            "{answer}"
        );
        env.assert_untouched(before).await;
    }
    env.assert_invariants().await;
}

/// A table from before look claims, where two look-alike names both got in: the backfill
/// gives every user the claim on their name's look, the older of the two keeping it, names
/// the younger, and changes nothing when run again; a look-alike signing up after it is
/// refused.
#[tokio::test]
async fn the_backfill_claims_the_looks_of_names_taken_before_looks_were() {
    use crm_tests::operator::backfill_username_looks;
    let env = TestEnv::new().await;
    let tag = uuid::Uuid::now_v7().as_u128() % 1_000_000_007;
    let named = |name: String| {
        let mut body = sample_signup();
        body["username"] = json!(name);
        body
    };
    let look = |name: &str| Key::username_skeleton(&shared::domain::Username::parse(name).unwrap());
    // Latin, Greek and Cyrillic: three names, one look.
    let older = format!("oo_{tag}");
    let younger = format!("\u{3bf}\u{3bf}_{tag}");
    let older_id = id(&env.signed_up_user_with(&named(older.clone())).await["user"]).to_owned();
    env.signed_up_user_with(&sample_signup()).await;
    env.remove(&look(&older)).await;
    let younger_id = id(&env.signed_up_user_with(&named(younger.clone())).await["user"]).to_owned();
    env.remove(&look(&younger)).await;
    let unclaimed = env.item_count().await;

    for run in 0..2 {
        let done = backfill_username_looks(&env.app.store, &env.scan().await)
            .await
            .unwrap();
        assert_eq!(done.claimed, 2, "run {run}");
        let [(user, holder)] = done.look_alikes.as_slice() else {
            panic!("run {run}: {:?}", done.look_alikes)
        };
        assert_eq!(
            (user.id.to_string(), holder.to_string()),
            (younger_id.clone(), older_id.clone())
        );
        // One claim written, once: the older name's (the other user's was there already).
        assert_eq!(env.item_count().await, unclaimed + 1, "run {run}");
    }
    let holder = env
        .get(&look(&older))
        .await
        .expect("the older name holds its look");
    assert_eq!(s(&holder, "user_id"), older_id);

    let (status, answer) = env.signup(&named(format!("\u{43e}\u{43e}_{tag}"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let report = crm_tests::invariants::check(&env.scan().await);
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    assert!(
        report.violations[0].contains("username look claim"),
        "{:?}",
        report.violations
    );
}

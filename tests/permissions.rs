//! Each function's IAM statements in `template.yaml` grant exactly the DynamoDB actions its
//! code paths call. On AWS a missing action is an AccessDenied and a 500 that no emulator
//! shows; here it fails, and so does an action that no code path uses.
//!
//! The actions are recorded from real calls (`CallLog::take_actions`), while every route's
//! paths run: first writes and replays, conflicts and their second looks, failures and
//! successes. The fallback serves every route, so it needs every route's actions.

use std::collections::{BTreeSet, HashMap};

use crm_tests::{post_json, request, with_header, with_token, TestEnv};
use lambda_http::http::{Method, StatusCode};
use lambda_http::Body;
use serde_json::{json, Value};
use shared::http::Function;

type Actions = BTreeSet<String>;

/// What each function's code paths called, run route by route.
async fn exercised() -> HashMap<Function, Actions> {
    // Lives as long as the test process, as the App does in a Lambda execution environment.
    // Its clock is the test's: a rotated token is presented again after the grace.
    let mut env = TestEnv::new().await;
    env.freeze_clock();
    let env: &'static TestEnv = Box::leak(Box::new(env));
    let mut used: HashMap<Function, Actions> = HashMap::new();
    let mut record = |function: Function, env: &TestEnv| {
        let actions = env.calls.take_actions();
        used.entry(function).or_default().extend(actions.clone());
        used.entry(Function::Fallback).or_default().extend(actions);
    };
    // Each function's cold start: its token keys read (and for an issuing function, its
    // own secret, of its own, so that each publishes its key), then the warm-up.
    let secrets: Vec<(String, String)> = Function::ALL
        .iter()
        .map(|f| {
            (
                format!("{f:?}"),
                format!("{f:?}'s signing secret, 32 bytes or more"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let local = crm_tests::secrets::start(&pairs).await;
    let mut read_secret = Vec::new();
    let aws = shared::config::AwsSettings {
        secrets_endpoint: Some(local.url.clone()),
        ..shared::config::AwsSettings::local()
    };
    for function in Function::ALL {
        // The function's own table says whether it reads the secret, as its cold start does.
        let arn = crm_tests::secrets::local_arn(&format!("{function:?}"));
        let read = shared::http::Handlers::of(function)
            .read_signing_key
            .map(|read| read(&aws, &arn));
        shared::app::start_tokens(&crm_tests::test_token_config(), &env.app.store, read)
            .await
            .expect("a cold start");
        if !local.take_reads().is_empty() {
            read_secret.push(function);
        }
        shared::serve::warm_up(env.app_of(function), shared::http::Handlers::of(function)).await;
        record(function, env);
    }

    let (owner, other, third) = (env.member().await, env.member().await, env.member().await);
    let unverified = env.signed_up_user().await;
    sign_up_every_way(env).await;
    record(Function::Signup, env);
    log_in_every_way(env, &owner.signup).await;
    change_password_every_way(env, &other.token).await;
    reset_password_every_way(env, &other.signup).await;
    verify_email_every_way(env, &unverified).await;
    change_user_every_way(env, &third).await;
    record(Function::Login, env);
    refresh_and_log_out(env, &owner.signup).await;
    record(Function::Session, env);
    let customer = create_every_way(env, &owner.token, &owner.org, &owner.user, &other.user).await;
    record(Function::CreateCustomer, env);
    read_every_way(env, &owner.token, &owner.org, &customer).await;
    record(Function::ReadCustomers, env);
    change_every_way(env, &owner.token, &customer, &third.user).await;
    import_every_way(env, &owner.token, &owner.org, &owner.user).await;
    record(Function::ChangeCustomer, env);
    let me = request(Method::GET, "/api/users/me", None, Body::Empty);
    assert_eq!(
        env.send(Function::Me, with_token(me, &owner.token)).await.0,
        StatusCode::OK
    );
    let organization = request(
        Method::GET,
        &format!("/api/organizations/{}", owner.org),
        None,
        Body::Empty,
    );
    assert_eq!(
        env.send(Function::Me, with_token(organization, &owner.token))
            .await
            .0,
        StatusCode::OK
    );
    record(Function::Me, env);
    manage_members_every_way(env, &owner, &other).await;
    record(Function::Teams, env);
    for function in read_secret {
        used.entry(function)
            .or_default()
            .insert("secretsmanager:GetSecretValue(TokenSigningSecret)".into());
    }
    used
}

/// Lists, promotes (with a key, replayed, after a conflict) and removes a member.
async fn manage_members_every_way(
    env: &TestEnv,
    owner: &crm_tests::Member,
    other: &crm_tests::Member,
) {
    env.join(&other.user, &owner.org, shared::domain::Role::Employee)
        .await;
    let members = format!("/api/organizations/{}/members", owner.org);
    let list = with_token(
        request(Method::GET, &members, None, Body::Empty),
        &owner.token,
    );
    assert_eq!(env.send(Function::Teams, list).await.0, StatusCode::OK);
    let path = format!("{members}/{}", other.user);
    let body = Body::Text(json!({"role": "owner"}).to_string());
    let promote = || {
        let patch = request(Method::PATCH, &path, Some("application/json"), body.clone());
        with_header(with_token(patch, &owner.token), "Idempotency-Key", "k")
    };
    env.front.conflict_next(1);
    for _ in 0..2 {
        assert_eq!(env.send(Function::Teams, promote()).await.0, StatusCode::OK);
    }
    let remove = with_token(
        request(Method::DELETE, &path, None, Body::Empty),
        &owner.token,
    );
    assert_eq!(
        env.send(Function::Teams, remove).await.0,
        StatusCode::NO_CONTENT
    );
    invite_and_accept(env, owner, other).await;
}

/// Invites `other` (made, listed, revoked, made again) and accepts as them.
async fn invite_and_accept(env: &TestEnv, owner: &crm_tests::Member, other: &crm_tests::Member) {
    let path = format!("/api/organizations/{}/invitations", owner.org);
    let body = json!({"email": other.signup["user"]["email"]});
    let mut made = Value::Null;
    for revoked in [true, false] {
        let invite = with_token(post_json(&path, &body), &owner.token);
        let (status, answer) = env.send(Function::Teams, invite).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let list = with_token(request(Method::GET, &path, None, Body::Empty), &owner.token);
        assert_eq!(env.send(Function::Teams, list).await.0, StatusCode::OK);
        if revoked {
            let one = format!("{path}/{}", answer["id"].as_str().unwrap());
            let revoke = with_token(
                request(Method::DELETE, &one, None, Body::Empty),
                &owner.token,
            );
            assert_eq!(
                env.send(Function::Teams, revoke).await.0,
                StatusCode::NO_CONTENT
            );
        }
        made = answer;
    }
    let accept = post_json("/api/invitations/accept", &json!({"token": made["token"]}));
    let (status, answer) = env
        .send(Function::Teams, with_token(accept, &other.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn sign_up_every_way(env: &TestEnv) {
    let body = crm_tests::sample_signup();
    for _ in 0..2 {
        let keyed = with_header(post_json("/api/users", &body), "Idempotency-Key", "k");
        assert_eq!(
            env.send(Function::Signup, keyed).await.0,
            StatusCode::CREATED
        );
    }
    env.front.conflict_next(1);
    let after_conflict = post_json("/api/users", &crm_tests::sample_signup());
    assert_eq!(
        env.send(Function::Signup, after_conflict).await.0,
        StatusCode::CREATED
    );
}

async fn log_in_every_way(env: &TestEnv, signup: &Value) {
    let name = &signup["user"]["username"];
    for password in ["wrong password!", "correct horse battery"] {
        let body = json!({"username": name, "password": password});
        env.send(Function::Login, post_json("/api/auth/login", &body))
            .await;
    }
}

/// Asked (for an account's email and for none), then used, to the same password.
async fn reset_password_every_way(env: &TestEnv, signup: &Value) {
    let email = signup["user"]["email"].as_str().unwrap();
    let unknown = post_json(
        "/api/auth/password-reset",
        &json!({"email": "no.one@example.com"}),
    );
    assert_eq!(
        env.send(Function::Login, unknown).await.0,
        StatusCode::ACCEPTED
    );
    let body = json!({
        "token": env.password_reset_token(email).await,
        "new_password": "correct horse battery",
    });
    let confirm = post_json("/api/auth/password-reset/confirm", &body);
    assert_eq!(
        env.send(Function::Login, confirm).await.0,
        StatusCode::NO_CONTENT
    );
}

/// New names, and an email change asked for and confirmed by its link.
async fn change_user_every_way(env: &TestEnv, member: &crm_tests::Member) {
    let new = format!("moved{}@example.com", uuid::Uuid::now_v7().simple());
    let body = json!({"last_name": "Moved", "email": new});
    let change = request(
        Method::PATCH,
        "/api/users/me",
        Some("application/json"),
        Body::Text(body.to_string()),
    );
    let (status, changed) = env
        .send(Function::Login, with_token(change, &member.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let link = env.outbox_token(&new, "email_verification").await;
    let verify = post_json("/api/users/me/email/verify", &json!({ "token": link }));
    let (status, moved) = env
        .send(Function::Login, with_token(verify, &member.token))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{moved}");
}

/// A new link mailed, then used.
async fn verify_email_every_way(env: &TestEnv, signup: &Value) {
    let token = signup["access_token"].as_str().unwrap();
    let resend = with_token(
        request(
            Method::POST,
            "/api/users/me/email/verify/resend",
            None,
            Body::Empty,
        ),
        token,
    );
    assert_eq!(
        env.send(Function::Login, resend).await.0,
        StatusCode::ACCEPTED
    );
    let email = signup["user"]["email"].as_str().unwrap();
    let link = env.outbox_token(email, "email_verification").await;
    let verify = post_json("/api/users/me/email/verify", &json!({ "token": link }));
    let verify = with_token(verify, token);
    assert_eq!(
        env.send(Function::Login, verify).await.0,
        StatusCode::NO_CONTENT
    );
}

async fn change_password_every_way(env: &TestEnv, token: &str) {
    for (current, expected) in [
        ("wrong password!", StatusCode::UNAUTHORIZED),
        ("correct horse battery", StatusCode::OK),
    ] {
        let body = json!({"current_password": current, "new_password": "correct horse battery"});
        let change = with_token(post_json("/api/users/me/password", &body), token);
        assert_eq!(env.send(Function::Login, change).await.0, expected);
    }
}

async fn refresh_and_log_out(env: &TestEnv, signup: &Value) {
    let body = json!({"refresh_token": signup["refresh_token"]});
    let grace = std::time::Duration::from_secs(shared::store::REFRESH_GRACE_SECONDS + 1);
    for expected in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let refresh = post_json("/api/auth/refresh", &body);
        assert_eq!(env.send(Function::Session, refresh).await.0, expected);
        // Presented again after the grace: reuse, which revokes.
        env.app.store.clock().advance(grace);
    }
    let log_out = post_json("/api/auth/logout", &body);
    assert_eq!(
        env.send(Function::Session, log_out).await.0,
        StatusCode::NO_CONTENT
    );
}

/// Returns a customer to read and change.
async fn create_every_way(env: &TestEnv, token: &str, org: &str, me: &str, other: &str) -> String {
    let bodies = [
        json!({"organization": org, "email": "standalone@example.com"}),
        json!({"organization": org, "email": "me@example.com", "user_id": me}),
        json!({"organization": org, "email": "other@example.com", "user_id": other}),
    ];
    let mut created = Vec::new();
    for body in &bodies {
        let create = with_token(post_json("/api/customers", body), token);
        created.push(env.send(Function::CreateCustomer, create).await);
    }
    env.front.conflict_next(1);
    let body = json!({"organization": org, "email": "conflict@example.com"});
    let keyed = with_header(post_json("/api/customers", &body), "Idempotency-Key", "k");
    env.send(Function::CreateCustomer, with_token(keyed, token))
        .await;
    created[0].1["id"]
        .as_str()
        .expect("a customer id")
        .to_owned()
}

async fn read_every_way(env: &TestEnv, token: &str, org: &str, customer: &str) {
    for path in [
        format!("/api/customers/{customer}"),
        format!("/api/customers?organization={org}"),
        format!("/api/customers?organization={org}&email=standalone@example.com"),
        format!("/api/customers?organization={org}&q=standalone"),
    ] {
        assert_eq!(
            env.get_customers(token, &path).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
}

async fn change_every_way(env: &TestEnv, token: &str, customer: &str, other: &str) {
    let patch = json!({"email": "moved@example.com", "user_id": other, "name": "Moved"});
    let (status, answer, _) = env
        .change_customer(token, customer, Some(&patch), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, _) = env.change_customer(token, customer, None, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// A batch: a creation, the caller making themselves a customer (their own profile moves,
/// as a creation's), a change, and the answer kept under a key.
async fn import_every_way(env: &TestEnv, token: &str, org: &str, caller: &str) {
    let rows = json!([
        {"email": "batch@example.com"},
        {"email": "self@example.com", "user_id": caller},
        {"email": "moved@example.com", "status": "vip"}
    ]);
    let body = json!({"organization": org, "customers": rows});
    let keyed = with_header(
        post_json("/api/customers/batch", &body),
        "Idempotency-Key",
        "b",
    );
    let (status, answer) = env
        .send(Function::ChangeCustomer, with_token(keyed, token))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// What the template grants the function that builds `binary`, named as `CallLog` names
/// actions.
fn granted(template: &serde_norway::Value, binary: &str) -> Actions {
    let resource = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    let mut granted = Actions::new();
    for policy in resource["Properties"]["Policies"]
        .as_sequence()
        .expect("Policies")
    {
        for statement in policy["Statement"].as_sequence().expect("a Statement list") {
            let text = |key: &str| serde_norway::to_string(&statement[key]).unwrap_or_default();
            let scope = if text("Condition").contains("SIGNING_KEY") {
                "(SIGNING_KEY)"
            } else if text("Resource").contains("TokenSigningSecret") {
                "(TokenSigningSecret)"
            } else if text("Resource").contains("/index/gsi1") {
                "(index/gsi1)"
            } else if text("Resource").contains(":identity/${MailFrom}") {
                "(MailFrom)"
            } else {
                ""
            };
            for action in statement["Action"].as_sequence().expect("an Action list") {
                let action = action.as_str().expect("an action");
                // DynamoDB's as `CallLog` names them; any other service's whole.
                let action = action.strip_prefix("dynamodb:").unwrap_or(action);
                granted.insert(format!("{action}{scope}"));
            }
        }
    }
    granted
}

fn template() -> serde_norway::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_function_is_granted_exactly_the_actions_its_code_calls() {
    let template = template();
    let used = exercised().await;
    let mut problems = Vec::new();
    for function in Function::ALL {
        let (used, granted) = (&used[&function], granted(&template, function.binary()));
        // A statement without a key condition grants every key, the warm-up's included.
        let covered = |action: &String| {
            granted.contains(action)
                || action
                    .strip_suffix("(SIGNING_KEY)")
                    .is_some_and(|bare| granted.contains(bare))
        };
        for action in used.iter().filter(|a| !covered(a)) {
            problems.push(format!(
                "{}: calls {action}, not granted",
                function.binary()
            ));
        }
        for action in granted.iter().filter(|a| !used.contains(*a)) {
            problems.push(format!(
                "{}: granted {action}, never called",
                function.binary()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The table-stream function's jobs, run from a real removal's stream record: granted
/// exactly what they call (the stream's own reads and the failure queue are what SAM adds
/// for the event source mapping).
#[tokio::test]
async fn the_stream_function_is_granted_exactly_what_its_jobs_call() {
    let env = TestEnv::new().await;
    let owner = env.member().await;
    let employee = env.signed_up_user().await;
    let employee = employee["user"]["id"].as_str().unwrap().to_owned();
    env.join(&employee, &owner.org, shared::domain::Role::Employee)
        .await;
    let body =
        json!({"organization": owner.org, "email": "owned@example.com", "owner_id": employee});
    let (status, answer) = env.create_customer(&owner.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let newcomer = env.signed_up_user().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    env.verify_email(&newcomer).await;
    let path = format!("/api/organizations/{}/members/{employee}/", owner.org);
    let removal = with_token(
        request(Method::DELETE, &path, None, Body::Empty),
        &owner.token,
    );
    assert_eq!(
        env.send(Function::Teams, removal).await.0,
        StatusCode::NO_CONTENT
    );
    let invitation = json!({"email": "newcomer@example.com"});
    let path = format!("/api/organizations/{}/invitations/", owner.org);
    let invite = with_token(post_json(&path, &invitation), &owner.token);
    assert_eq!(
        env.send(Function::Teams, invite).await.0,
        StatusCode::CREATED
    );
    let event = env.stream_event(&mut reader).await;
    let jobs = event.records.iter().filter_map(shared::stream::Job::of);
    assert_eq!(
        jobs.count(),
        3,
        "the verified copy, the removal and the mail"
    );
    let (mailer, mailbox) = env.mailbox().await;
    env.calls.take_actions();
    let answer = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let mut called = env.calls.take_actions();
    // SES is called as the sender, the one identity granted.
    let sent = crm_tests::mailbox::messages(&mailbox);
    assert_eq!(sent.len(), 1, "{sent:?}");
    called.insert("ses:SendEmail(MailFrom)".into());
    assert_eq!(called, granted(&template(), "table-stream"));
}

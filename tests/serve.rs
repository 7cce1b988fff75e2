//! What every function's main runs: the panic guard and the cold-start warm-up.

use crm_tests::{post_json, read, with_token, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::http::Function;

#[tokio::test]
async fn a_panic_answers_a_json_500_and_the_process_serves_the_next_request() {
    // Lives as long as the test process, as the App does in a Lambda execution environment.
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::new().await));
    let m = env.member().await;
    let body = json!({"organization": m.org, "email": "after@example.com"});
    let mut request = with_token(post_json("/api/customers/", &body), &m.token);
    request
        .headers_mut()
        .insert(shared::serve::PANIC_HEADER, "1".parse().unwrap());
    let response =
        shared::serve::guarded(&env.app, request, &shared::http::handlers::CREATE_CUSTOMER)
            .await
            .expect("a panic is an answer, not an error");
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer["error"]["code"], "internal_error");
    assert!(env.calls.take().is_empty(), "it panicked before any work");

    let request = with_token(post_json("/api/customers/", &body), &m.token);
    let response =
        shared::serve::guarded(&env.app, request, &shared::http::handlers::CREATE_CUSTOMER)
            .await
            .unwrap();
    assert_eq!(
        read(response).0,
        StatusCode::CREATED,
        "the same process serves on"
    );
}

/// Cold start rehearses each function's own request (`Function::rehearsal`) through the
/// Lambda adapter: a read as a caller nobody is, or a write route sent an empty object. It
/// must read only, change nothing, write no metrics line, and never fail init.
#[tokio::test]
async fn every_warm_up_rehearses_its_functions_request_reading_only_and_never_fails_init() {
    use shared::metrics::{MetricsConfig, Sink};
    use std::sync::{Arc, Mutex};
    use Function as F;
    let env = TestEnv::new().await;
    let m = env.member().await;
    let lines = Arc::new(Mutex::new(Vec::new()));
    // As each function has its tokens: a function that only verifies holds no signing key,
    // and rehearses with a throwaway one all the same.
    let app = |tokens| {
        let mut app = shared::app::App::new(env.app.store.clone(), tokens);
        app.metrics = MetricsConfig {
            sink: Sink::Capture(Arc::clone(&lines)),
            ..MetricsConfig::default()
        };
        &*Box::leak(Box::new(app))
    };
    let (issuer, verifier) = (
        app(crm_tests::test_tokens()),
        app(crm_tests::verifying_tokens()),
    );
    let before = env.scan().await;
    env.calls.take();
    for function in F::ALL {
        let app = if function.issues_tokens() {
            issuer
        } else {
            verifier
        };
        let status = shared::serve::warm_up(app, shared::http::Handlers::of(function)).await;
        // The connection is open already: cold start read the token keys through it.
        let (calls, answer): (&[&str], _) = match function {
            // Nobody's customer, nobody's organization: found missing.
            F::ReadCustomers | F::Fallback => (&["GetItem"], StatusCode::NOT_FOUND),
            F::Me => (&["Query", "Query"], StatusCode::UNAUTHORIZED),
            F::Teams => (&["Query"], StatusCode::OK),
            // An empty object: refused by validation, or found missing by the read it needs.
            F::ChangeCustomer => (&["BatchGetItem"], StatusCode::NOT_FOUND),
            F::Signup | F::Login | F::CreateCustomer | F::Session => (&[], StatusCode::BAD_REQUEST),
        };
        assert_eq!(env.calls.take(), calls, "{function:?}");
        assert_eq!(status, Some(answer), "{function:?}");
    }
    assert_eq!(env.scan().await, before, "a rehearsal changes nothing");
    assert!(
        lines.lock().unwrap().is_empty(),
        "a rehearsal is no request"
    );
    let (status, _) = env.me(&m.token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the real caller is served as before"
    );
    env.assert_invariants().await;

    let down = Box::leak(Box::new(crm_tests::app_with_store_down().await));
    let started = std::time::Instant::now();
    // Refused at once (503) or timed out (none), depending on how the address fails here.
    let status = shared::serve::warm_up(down, shared::http::Handlers::of(F::ReadCustomers)).await;
    assert!(
        status.is_none_or(|status| status == StatusCode::SERVICE_UNAVAILABLE),
        "{status:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "bounded: {:?}",
        started.elapsed()
    );
}

/// The EMF object every request writes, checked against the specification's required shape
/// ("Specification: Embedded metric format", CloudWatch user guide), for every line a run of
/// requests emits: a write, a read, an error, a replay and a transaction conflict.
#[tokio::test]
async fn every_request_writes_one_emf_object_of_the_specified_shape() {
    use shared::metrics::{MetricsConfig, Sink};
    use std::sync::{Arc, Mutex};
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::new().await));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut app = shared::app::App::new(env.app.store.clone(), crm_tests::test_tokens());
    app.metrics = MetricsConfig {
        namespace: "CrmTest".into(),
        service: "crm-test".into(),
        sink: Sink::Capture(Arc::clone(&lines)),
    };
    let app: &'static shared::app::App = Box::leak(Box::new(app));
    let m = env.member().await;
    let body = serde_json::json!({"organization": m.org, "email": "emf@example.com"});
    let create = || {
        crm_tests::with_header(
            with_token(crm_tests::post_json("/api/customers/", &body), &m.token),
            "Idempotency-Key",
            "emf-1",
        )
    };
    let send = |request, function| async move {
        shared::serve::guarded(app, request, shared::http::Handlers::of(function))
            .await
            .unwrap()
    };
    send(create(), Function::CreateCustomer).await;
    send(create(), Function::CreateCustomer).await;
    let list = crm_tests::get(&format!("/api/customers/?organization={}", m.org));
    send(with_token(list, &m.token), Function::ReadCustomers).await;
    let missing = crm_tests::get("/api/customers/0192f1a0-0000-7000-8000-00000000c001/");
    send(with_token(missing, &m.token), Function::ReadCustomers).await;
    env.front.conflict_next(1);
    let other = serde_json::json!({"organization": m.org, "email": "emf2@example.com"});
    let contended = with_token(crm_tests::post_json("/api/customers/", &other), &m.token);
    send(contended, Function::CreateCustomer).await;

    let lines = lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 5, "one object per request: {lines:?}");
    let objects: Vec<serde_json::Value> = lines.iter().map(|l| emf_checked(l)).collect();
    let field = |i: usize, name: &str| objects[i][name].clone();
    assert_eq!(field(0, "Outcome"), "created");
    assert_eq!(field(0, "Route"), "POST /api/customers");
    assert_eq!(field(0, "Function"), "create-customer");
    assert!(
        field(0, "WriteCapacity").as_f64().unwrap() >= 6.0,
        "{}",
        lines[0]
    );
    assert_eq!(field(1, "Outcome"), "replayed");
    assert_eq!(field(2, "Outcome"), "ok");
    assert!(
        field(2, "ReadCapacity").as_f64().unwrap() > 0.0,
        "{}",
        lines[2]
    );
    assert_eq!(field(3, "Outcome"), "not_found");
    assert_eq!(field(3, "StatusCode"), 404);
    assert_eq!(
        (
            field(4, "Outcome"),
            field(4, "Conflicts"),
            field(4, "Retries")
        ),
        (
            serde_json::json!("created"),
            serde_json::json!(1),
            serde_json::json!(1)
        )
    );
    env.assert_invariants().await;
}

/// One EMF object, checked against the specification; returns it.
fn emf_checked(line: &str) -> serde_json::Value {
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];
    let object: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
    let aws = &object["_aws"];
    assert!(
        aws["Timestamp"]
            .as_u64()
            .is_some_and(|t| t > 1_600_000_000_000),
        "{line}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics");
    assert!(!directives.is_empty());
    for directive in directives {
        let namespace = directive["Namespace"].as_str().expect("Namespace");
        assert!((1..=255).contains(&namespace.len()));
        for set in directive["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a dimension set is a list");
            assert!(set.len() <= 30);
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    object[name].is_string(),
                    "dimension {name} is a member: {line}"
                );
            }
        }
        for metric in directive["Metrics"].as_array().expect("Metrics") {
            let name = metric["Name"].as_str().expect("Name");
            let unit = metric["Unit"].as_str().expect("Unit");
            assert!(UNITS.contains(&unit), "{unit}");
            assert!(
                object[name].is_number(),
                "metric {name} is a numeric member: {line}"
            );
        }
    }
    object
}

//! Timings of each request path, end to end through the handler and the SDK over HTTP to
//! the local server, beside the floor that server sets (a bare GetItem) and one argon2id
//! hash at the production parameters. For each path, `store` is the time its DynamoDB
//! requests spent on the wire (sent to answered: the local server's own time for them), and
//! `own` is the rest: the handler, the SDK's serialisation and signing, and argon2 where the
//! path hashes (those paths name it).
//!
//! `cargo bench -p crm-tests --bench paths`; `BENCH_ROUNDS` sets the sample size.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use crm_tests::{sample_signup, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::{argon2_params, Password, PasswordHash};

fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200)
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name:<44} n={:<4} mean={:>8.3?} p50={:>8.3?} p95={:>8.3?} max={:>8.3?}",
        samples.len(),
        mean,
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

async fn time<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        f(i).await;
        samples.push(start.elapsed());
    }
    samples
}

#[tokio::main]
async fn main() {
    let n = rounds();
    println!(
        "argon2id m={} KiB t={} p={}; {} rounds; local server {}",
        argon2_params::MEMORY_KIB,
        argon2_params::ITERATIONS,
        argon2_params::PARALLELISM,
        n,
        crm_tests::endpoint()
    );

    let password = Password::parse("correct horse battery", &[]).unwrap();
    let hashes = (0..20)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(PasswordHash::create(&password));
            start.elapsed()
        })
        .collect();
    report("argon2id hash (one)", hashes);

    let env = TestEnv::new().await;
    let owner = env.member().await;
    let (org, token) = (owner.org.clone(), owner.token.clone());

    let floor = time(n, |_| async {
        env.admin
            .get_item()
            .table_name(&env.table)
            .key("pk", AttributeValue::S(format!("ORG#{org}")))
            .key("sk", AttributeValue::S("ORG".into()))
            .send()
            .await
            .unwrap();
    })
    .await;
    report("floor: bare GetItem", floor);

    let env = &env;
    let token = token.as_str();
    let few = n.min(50);
    let username = owner.signup["user"]["username"].clone();
    let login = |password: &'static str| {
        let username = username.clone();
        move |_| {
            let body = json!({"username": username, "password": password});
            async move { env.login(&body).await }
        }
    };

    measure(
        env,
        "POST /api/users/ (incl. argon2id)",
        few,
        StatusCode::CREATED,
        |_| async { env.signup(&sample_signup()).await },
    )
    .await;
    let correct = login("correct horse battery");
    measure(
        env,
        "POST /api/auth/login/ (incl. argon2id)",
        few,
        StatusCode::OK,
        correct,
    )
    .await;
    // A wrong password and an unknown user should cost the same: both verify one hash.
    let wrong = login("not the password");
    measure(
        env,
        "POST /api/auth/login/ wrong password (401)",
        few,
        StatusCode::UNAUTHORIZED,
        wrong,
    )
    .await;
    measure(
        env,
        "POST /api/auth/login/ unknown user (401)",
        few,
        StatusCode::UNAUTHORIZED,
        |i| {
            let body = json!({"username": format!("nobody{i}"), "password": "not the password"});
            async move { env.login(&body).await }
        },
    )
    .await;

    measure(
        env,
        "POST /api/customers/ standalone (201)",
        n,
        StatusCode::CREATED,
        |i| {
            let body = json!({"organization": org, "email": format!("s{i}@example.com")});
            async move { env.create_customer(token, &body).await }
        },
    )
    .await;
    let mut users = Vec::new();
    for _ in 0..few {
        users.push(env.member().await.user);
    }
    measure(env, "POST /api/customers/ new link (201)", few, StatusCode::CREATED, |i| {
        let body = json!({"organization": org, "user_id": users[i], "email": format!("u{i}@example.com")});
        async move { env.create_customer(token, &body).await }
    })
    .await;
    measure(
        env,
        "POST /api/customers/ existing user (200)",
        n,
        StatusCode::OK,
        |_| {
            let body =
                json!({"organization": org, "user_id": owner.user, "email": "x@example.com"});
            async move { env.create_customer(token, &body).await }
        },
    )
    .await;

    let customer = owner.signup["customer"]["id"].as_str().unwrap().to_owned();
    let one = format!("/api/customers/{customer}/");
    measure(env, "GET /api/customers/{id}/", n, StatusCode::OK, |_| {
        env.get_customers(token, &one)
    })
    .await;
    let page = format!("/api/customers/?organization={org}&limit=20");
    measure(
        env,
        "GET /api/customers/?limit=20",
        n,
        StatusCode::OK,
        |_| env.get_customers(token, &page),
    )
    .await;
    let lookup = format!("/api/customers/?organization={org}&code=ACME-NONE");
    measure(
        env,
        "GET /api/customers/?code= (exact)",
        n,
        StatusCode::OK,
        |_| env.get_customers(token, &lookup),
    )
    .await;
    measure(env, "PATCH /api/customers/{id}/", n, StatusCode::OK, |i| {
        let body = json!({"name": format!("Renamed {i}")});
        let customer = customer.clone();
        async move {
            let (status, body, _) = env
                .change_customer(token, &customer, Some(&body), &[])
                .await;
            (status, body)
        }
    })
    .await;
}

/// Times `n` requests made by `request`, checking each answers `expected`, and reports the
/// whole, the time on the wire to DynamoDB, and the rest.
async fn measure<F, Fut>(env: &TestEnv, name: &str, n: usize, expected: StatusCode, mut request: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = (StatusCode, serde_json::Value)>,
{
    env.calls.take_wire_time();
    let samples = time(n, |i| {
        let answer = request(i);
        async move {
            let (status, body) = answer.await;
            assert_eq!(status, expected, "{name}: {body}");
        }
    })
    .await;
    let total: Duration = samples.iter().sum();
    let store = env.calls.take_wire_time();
    let per = |d: Duration| d / u32::try_from(samples.len()).unwrap_or(u32::MAX);
    report(name, samples.clone());
    println!(
        "{:<44} store={:>8.3?} own={:>8.3?} (means per request)",
        "",
        per(store),
        per(total.saturating_sub(store))
    );
}

//! Timings of each request path, end to end through the handler and the SDK over HTTP to
//! the local server, beside the floor that server sets (a bare GetItem) and one argon2id
//! hash at the production parameters. For each path, `store` is the time its DynamoDB
//! requests spent on the wire (sent to answered: the local server's own time for them), and
//! `own` is the rest: the handler, the SDK's serialisation and signing, and argon2 where the
//! path hashes (those paths name it).
//!
//! Every path also reports the DynamoDB capacity it consumed (the server's own
//! `ConsumedCapacity`, which the harness's front asks for on each call), and the run ends with
//! what a million requests of each route cost on AWS: see [`cost_table`].
//!
//! `cargo bench -p crm-tests --bench paths`; `BENCH_ROUNDS` sets the sample size.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use crm_tests::{cost, get, post_json, request, sample_signup, with_token, Capacity, TestEnv};
use lambda_http::http::{Method, StatusCode};
use serde_json::json;
use shared::domain::{argon2_params, Password, PasswordHash};
use shared::http::Function;

/// One measured path: what it took per request.
struct Row {
    name: String,
    function: Function,
    mean: Duration,
    capacity: Capacity,
}

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

    // What every authenticated request pays before its handler (verify), and what sign-up,
    // log-in and refresh pay to sign (issue): EdDSA on ring, a token of one organization.
    let tokens = crm_tests::test_tokens();
    let roles = [shared::domain::OrgRole {
        organization: shared::domain::OrgId::generate(),
        role: shared::domain::Role::Owner,
    }];
    let user = shared::domain::UserId::generate();
    let one = |f: &mut dyn FnMut()| {
        (0..n.max(1000))
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect::<Vec<_>>()
    };
    report(
        "access token: issue (sign)",
        one(&mut || {
            std::hint::black_box(tokens.issue(user, None, &roles).is_ok());
        }),
    );
    let token = tokens.issue(user, None, &roles).unwrap().access_token;
    report(
        "access token: verify",
        one(&mut || {
            std::hint::black_box(tokens.verify(&token).is_ok());
        }),
    );

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

    env.front.meter_capacity();
    let rows = RefCell::new(Vec::new());
    let rows = &rows;
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
        (env, rows),
        "POST /api/users/ (incl. argon2id)",
        Function::Signup,
        few,
        StatusCode::CREATED,
        |_| async { env.signup(&sample_signup()).await },
    )
    .await;
    let correct = login("correct horse battery");
    measure(
        (env, rows),
        "POST /api/auth/login/ (incl. argon2id)",
        Function::Login,
        few,
        StatusCode::OK,
        correct,
    )
    .await;
    // A wrong password and an unknown user should cost the same: both verify one hash. An
    // account takes 5 failures before 429, so each sample fails on an account of its own.
    let mut accounts = Vec::new();
    let mut emails = Vec::new();
    for _ in 0..few {
        let user = env.unverified_member().await.signup["user"].clone();
        accounts.push(user["username"].clone());
        emails.push(user["email"].clone());
    }
    measure(
        (env, rows),
        "POST /api/auth/login/ wrong password (401)",
        Function::Login,
        few,
        StatusCode::UNAUTHORIZED,
        |i| {
            let body = json!({"username": accounts[i], "password": "not the password"});
            async move { env.login(&body).await }
        },
    )
    .await;
    measure(
        (env, rows),
        "POST /api/auth/login/ unknown user (401)",
        Function::Login,
        few,
        StatusCode::UNAUTHORIZED,
        |i| {
            let body = json!({"username": format!("nobody{i}"), "password": "not the password"});
            async move { env.login(&body).await }
        },
    )
    .await;
    // A reset asked for a known email and for an unknown one should look alike, in time
    // too: the same two calls, a transaction of 3 items against 1. Once per email (3 an hour).
    let reset = |email: serde_json::Value| {
        let ask = post_json("/api/auth/password-reset/", &json!({ "email": email }));
        async move { env.send(Function::Login, ask).await }
    };
    measure(
        (env, rows),
        "POST /api/auth/password-reset/ known (202)",
        Function::Login,
        few,
        StatusCode::ACCEPTED,
        |i| reset(emails[i].clone()),
    )
    .await;
    measure(
        (env, rows),
        "POST /api/auth/password-reset/ unknown (202)",
        Function::Login,
        few,
        StatusCode::ACCEPTED,
        |i| reset(json!(format!("nobody{i}@example.com"))),
    )
    .await;

    measure(
        (env, rows),
        "POST /api/customers/ standalone (201)",
        Function::CreateCustomer,
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
        users.push(env.unverified_member().await.user);
    }
    measure((env, rows), "POST /api/customers/ new link (201)",
        Function::CreateCustomer, few, StatusCode::CREATED, |i| {
        let body = json!({"organization": org, "user_id": users[i], "email": format!("u{i}@example.com")});
        async move { env.create_customer(token, &body).await }
    })
    .await;
    measure(
        (env, rows),
        "POST /api/customers/ existing user (200)",
        Function::CreateCustomer,
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
    measure(
        (env, rows),
        "GET /api/customers/{id}/",
        Function::ReadCustomers,
        n,
        StatusCode::OK,
        |_| env.get_customers(token, &one),
    )
    .await;
    let page = format!("/api/customers/?organization={org}&limit=20");
    measure(
        (env, rows),
        "GET /api/customers/?limit=20",
        Function::ReadCustomers,
        n,
        StatusCode::OK,
        |_| env.get_customers(token, &page),
    )
    .await;
    let lookup = format!("/api/customers/?organization={org}&code=ACME-NONE");
    measure(
        (env, rows),
        "GET /api/customers/?code= (exact)",
        Function::ReadCustomers,
        n,
        StatusCode::OK,
        |_| env.get_customers(token, &lookup),
    )
    .await;
    measure(
        (env, rows),
        "PATCH /api/customers/{id}/",
        Function::ChangeCustomer,
        n,
        StatusCode::OK,
        |i| {
            let body = json!({"name": format!("Renamed {i}")});
            let customer = customer.clone();
            async move {
                let (status, body, _) = env
                    .change_customer(token, &customer, Some(&body), &[])
                    .await;
                (status, body)
            }
        },
    )
    .await;

    let mut doomed = Vec::new();
    for i in 0..few {
        let body = json!({"organization": org, "email": format!("gone{i}@example.com")});
        let (_, created) = env.create_customer(token, &body).await;
        doomed.push(created["id"].as_str().unwrap().to_owned());
    }
    measure(
        (env, rows),
        "DELETE /api/customers/{id}/",
        Function::ChangeCustomer,
        few,
        StatusCode::NO_CONTENT,
        |i| {
            let customer = doomed[i].clone();
            async move {
                let (status, body, _) = env.change_customer(token, &customer, None, &[]).await;
                (status, body)
            }
        },
    )
    .await;
    measure(
        (env, rows),
        "GET /api/users/me/",
        Function::Me,
        n,
        StatusCode::OK,
        |_| env.me(token),
    )
    .await;
    let organization = format!("/api/organizations/{org}/");
    measure(
        (env, rows),
        "GET /api/organizations/{org}/",
        Function::Me,
        n,
        StatusCode::OK,
        |_| env.send(Function::Me, with_token(get(&organization), token)),
    )
    .await;
    let mut joined = Vec::new();
    for _ in 0..few {
        let member = env.member().await;
        env.join(&member.user, &org, shared::domain::Role::Employee)
            .await;
        joined.push(member.user);
    }
    let members = format!("/api/organizations/{org}/members/");
    measure(
        (env, rows),
        "GET /api/organizations/{org}/members/",
        Function::Teams,
        n,
        StatusCode::OK,
        |_| env.send(Function::Teams, with_token(get(&members), token)),
    )
    .await;
    measure(
        (env, rows),
        "PATCH /api/organizations/{org}/members/{user_id}/",
        Function::Teams,
        few,
        StatusCode::OK,
        |i| {
            let body = lambda_http::Body::Text(json!({"role": "admin"}).to_string());
            let path = format!("{members}{}/", joined[i]);
            let patch = request(Method::PATCH, &path, Some("application/json"), body);
            env.send(Function::Teams, with_token(patch, token))
        },
    )
    .await;
    measure(
        (env, rows),
        "DELETE /api/organizations/{org}/members/{user_id}/",
        Function::Teams,
        few,
        StatusCode::NO_CONTENT,
        |i| {
            let path = format!("{members}{}/", joined[i]);
            let removal = request(Method::DELETE, &path, None, lambda_http::Body::Empty);
            env.send(Function::Teams, with_token(removal, token))
        },
    )
    .await;
    teams(env, rows, (&org, token), few).await;

    // Each refresh spends the token the one before it got.
    let latest = RefCell::new(owner.signup["refresh_token"].clone());
    measure(
        (env, rows),
        "POST /api/auth/refresh/",
        Function::Session,
        n,
        StatusCode::OK,
        |_| {
            let body = json!({"refresh_token": latest.borrow().clone()});
            let latest = &latest;
            async move {
                let (status, answer) = env
                    .send(Function::Session, post_json("/api/auth/refresh/", &body))
                    .await;
                *latest.borrow_mut() = answer["refresh_token"].clone();
                (status, answer)
            }
        },
    )
    .await;
    let mut sessions = Vec::new();
    for _ in 0..few {
        sessions.push(login("correct horse battery")(0).await.1["refresh_token"].clone());
    }
    measure(
        (env, rows),
        "POST /api/auth/logout/",
        Function::Session,
        few,
        StatusCode::NO_CONTENT,
        |i| {
            let body = json!({"refresh_token": sessions[i]});
            env.send(Function::Session, post_json("/api/auth/logout/", &body))
        },
    )
    .await;
    // Back and forth between two passwords; each change hashes the new one.
    let passwords = ["correct horse battery", "another good passphrase"];
    measure(
        (env, rows),
        "POST /api/users/me/password/ (2 × argon2id)",
        Function::Login,
        few,
        StatusCode::OK,
        |i| {
            let body = json!({
                "current_password": passwords[i % 2],
                "new_password": passwords[(i + 1) % 2],
            });
            let change = with_token(post_json("/api/users/me/password/", &body), token);
            env.send(Function::Login, change)
        },
    )
    .await;

    cost_table(&rows.borrow());
}

/// What a million requests of each path cost on AWS at [`cost::price`]: Lambda's duration (the
/// mean here, rounded up to the millisecond as Lambda bills it, at the function's configured
/// memory) and request fee, DynamoDB's request units as the server reported them, and the
/// HTTP API's request fee. The durations are this machine's, on a whole core: on Lambda, below
/// 1,769 MB a function gets a share of one, so CPU-bound work (argon2) takes longer there,
/// and the GB-seconds stay about the same.
fn cost_table(rows: &[Row]) {
    let memory = cost::memory_sizes();
    println!();
    println!(
        "Cost per million requests, USD: Lambda (duration at the configured memory, and the request fee) and DynamoDB (the units the server reported)"
    );
    println!(
        "{:<44} {:>8} {:>7} {:>9} {:>6} {:>6} {:>8} {:>8} {:>8}",
        "path", "ms", "MB", "GB-s", "RRU", "WRU", "Lambda", "DynamoDB", "total"
    );
    for row in rows {
        let mb = memory[row.function.binary()];
        let (gb_seconds, lambda) = cost::lambda_per_million(row.mean, mb);
        let dynamodb = cost::dynamodb_per_million(row.capacity);
        println!(
            "{:<44} {:>8.3} {:>7} {:>9.6} {:>6.2} {:>6.2} {:>8.3} {:>8.3} {:>8.3}",
            row.name,
            row.mean.as_secs_f64() * 1000.0,
            mb,
            gb_seconds,
            row.capacity.read,
            row.capacity.write,
            lambda,
            dynamodb,
            lambda + dynamodb,
        );
    }
    println!("{}", cost::PRICES);
    println!(
        "A cancelled transaction's answer reports no capacity, so an existing customer found that way shows 0 units; AWS documents no discount for cancelled transactions."
    );
}

/// Times `n` requests made by `request`, checking each answers `expected`, and reports the
/// whole, the time on the wire to DynamoDB, the rest, and the capacity consumed; the means
/// become the path's row of the cost table.
async fn measure<F, Fut>(
    (env, rows): (&TestEnv, &RefCell<Vec<Row>>),
    name: &str,
    function: Function,
    n: usize,
    expected: StatusCode,
    mut request: F,
) where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = (StatusCode, serde_json::Value)>,
{
    env.calls.take_wire_time();
    env.front.take_capacity();
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
    let consumed = env.front.take_capacity();
    let count = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    let per = |d: Duration| d / count;
    let capacity = Capacity {
        read: consumed.read / f64::from(count),
        write: consumed.write / f64::from(count),
    };
    report(name, samples.clone());
    println!(
        "{:<44} store={:>8.3?} own={:>8.3?} read units={:.2} write units={:.2} (means per request)",
        "",
        per(store),
        per(total.saturating_sub(store)),
        capacity.read,
        capacity.write,
    );
    rows.borrow_mut().push(Row {
        name: name.to_owned(),
        function,
        mean: per(total),
        capacity,
    });
}

/// The invitation routes and the rename: `few` invitees, each invited, listed, accepted (and
/// as many invitations revoked).
async fn teams(env: &TestEnv, rows: &RefCell<Vec<Row>>, (org, token): (&str, &str), few: usize) {
    let invitations = format!("/api/organizations/{org}/invitations/");
    let mut invitees = Vec::new();
    for _ in 0..few {
        invitees.push(env.member().await);
    }
    let invite = |email: String| {
        let made = with_token(post_json(&invitations, &json!({ "email": email })), token);
        env.send(Function::Teams, made)
    };
    let tokens = RefCell::new(Vec::new());
    measure(
        (env, rows),
        "POST /api/organizations/{org}/invitations/",
        Function::Teams,
        few,
        StatusCode::CREATED,
        |i| {
            let email = invitees[i].signup["user"]["email"]
                .as_str()
                .unwrap()
                .to_owned();
            let made = invite(email);
            async {
                let (status, answer) = made.await;
                tokens.borrow_mut().push(answer["token"].clone());
                (status, answer)
            }
        },
    )
    .await;
    measure(
        (env, rows),
        "GET /api/organizations/{org}/invitations/",
        Function::Teams,
        few,
        StatusCode::OK,
        |_| env.send(Function::Teams, with_token(get(&invitations), token)),
    )
    .await;
    measure(
        (env, rows),
        "POST /api/invitations/accept/",
        Function::Teams,
        few,
        StatusCode::OK,
        |i| {
            let body = json!({ "token": tokens.borrow()[i] });
            let accept = post_json("/api/invitations/accept/", &body);
            env.send(Function::Teams, with_token(accept, &invitees[i].token))
        },
    )
    .await;
    let mut revocable = Vec::new();
    for i in 0..few {
        let (_, made) = invite(format!("revoked{i}@example.com")).await;
        revocable.push(made["id"].as_str().unwrap().to_owned());
    }
    measure(
        (env, rows),
        "DELETE /api/organizations/{org}/invitations/{id}/",
        Function::Teams,
        few,
        StatusCode::NO_CONTENT,
        |i| {
            let path = format!("{invitations}{}/", revocable[i]);
            let revoke = request(Method::DELETE, &path, None, lambda_http::Body::Empty);
            env.send(Function::Teams, with_token(revoke, token))
        },
    )
    .await;
    let organization = format!("/api/organizations/{org}/");
    measure(
        (env, rows),
        "PATCH /api/organizations/{org}/",
        Function::Teams,
        few,
        StatusCode::OK,
        |i| {
            let body = lambda_http::Body::Text(json!({"name": format!("Renamed {i}")}).to_string());
            let rename = request(Method::PATCH, &organization, Some("application/json"), body);
            env.send(Function::Teams, with_token(rename, token))
        },
    )
    .await;
}

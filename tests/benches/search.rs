//! Finding customers over one large organization: for each kind of page of 20 (no filter,
//! `sort=name`, `status=vip`, `owner=me`, `tag=…`, a one-word and a two-word `q`), the round
//! trips, read units and latency; and the write units of a creation, a change of the name
//! and a deletion. Printed as the table README.md and docs/data-model.md show.
//!
//! `cargo bench -p crm-tests --bench search`; `BENCH_CUSTOMERS` (default 10,000) sizes the
//! organization, `BENCH_ROUNDS` (default 50) the samples per row.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_tests::TestEnv;
use lambda_http::http::StatusCode;
use serde_json::json;

fn var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// 100 first names (a one-word search matches 1% of customers) and 10 last names (a
/// two-word one, 0.1%).
const FIRST: [&str; 10] = [
    "Ada", "Bela", "Cyd", "Dov", "Eli", "Fay", "Gus", "Hal", "Ira", "Jo",
];
const SYLLABLE: [&str; 10] = ["na", "ro", "ki", "lu", "me", "sa", "to", "vi", "xe", "zu"];
const LAST: [&str; 10] = [
    "Berg", "Costa", "Dahl", "Evans", "Fox", "Gray", "Hart", "Ito", "Jung", "Khan",
];

fn first_name(i: usize) -> String {
    format!("{}{}", FIRST[i % 10], SYLLABLE[(i / 10) % 10])
}

#[tokio::main]
async fn main() {
    let customers = var("BENCH_CUSTOMERS", 10_000);
    let rounds = var("BENCH_ROUNDS", 50);
    let env = Arc::new(TestEnv::new().await);
    let me = env.member().await;
    let started = Instant::now();
    seed(&env, &me.org, &me.token, &me.user, customers).await;
    println!(
        "seeded {customers} customers in {:.1?} ({:.0} a second)",
        started.elapsed(),
        customers as f64 / started.elapsed().as_secs_f64()
    );
    let two_words = format!("{}+{}", first_name(3), LAST[3]);
    let one_word = first_name(3);
    let pages = [
        ("no filter (newest first)", String::new()),
        ("sort=name", "&sort=name".to_owned()),
        ("status=vip (5%)", "&status=vip".to_owned()),
        ("owner=me (2%)", "&owner=me".to_owned()),
        ("tag=… (2%)", "&tag=Renewal".to_owned()),
        ("q, one word (1%)", format!("&q={one_word}")),
        ("q, two words (0.1%)", format!("&q={two_words}")),
    ];
    println!("\n| page of 20 | customers | round trips | read units | mean | p95 |");
    println!("|---|---|---|---|---|---|");
    for (name, query) in pages {
        let path = format!("/api/customers?organization={}&limit=20{query}", me.org);
        env.calls.take();
        env.front.meter_capacity();
        env.front.take_capacity();
        let mut samples = Vec::new();
        let mut found = 0;
        for _ in 0..rounds {
            let start = Instant::now();
            let (status, page) = env.get_customers(&me.token, &path).await;
            samples.push(start.elapsed());
            assert_eq!(status, StatusCode::OK, "{name}: {page}");
            found = page["customers"].as_array().map_or(0, Vec::len);
        }
        let calls = env.calls.take().len() as f64 / rounds as f64;
        let read = env.front.take_capacity().read / rounds as f64;
        samples.sort();
        let mean = samples.iter().sum::<Duration>() / u32::try_from(rounds).unwrap_or(1);
        let p95 = samples[(samples.len() - 1) * 95 / 100];
        println!("| {name} | {found} | {calls:.0} | {read:.1} | {mean:.2?} | {p95:.2?} |");
    }
    writes(&env, &me.org, &me.token).await;
}

/// `count` customers: every 20th a VIP, every 50th owned by the caller, every 50th (another
/// one) tagged, first names cycling through 100, last names through 10.
async fn seed(env: &Arc<TestEnv>, org: &str, token: &str, user: &str, count: usize) {
    let concurrency = 16;
    let mut next = 0;
    while next < count {
        let batch: Vec<_> = (next..count.min(next + concurrency))
            .map(|i| {
                let (env, token) = (Arc::clone(env), token.to_owned());
                let mut body = json!({
                    "organization": org,
                    "email": format!("c{i}@bench.example"),
                    "first_name": first_name(i),
                    "last_name": LAST[(i / 100) % 10],
                    "status": if i % 20 == 0 { "vip" } else { "active" },
                });
                if i % 50 == 1 {
                    body["owner_id"] = json!(user);
                }
                if i % 50 == 2 {
                    body["tags"] = json!(["Renewal"]);
                }
                tokio::spawn(async move {
                    let (status, answer) = env.create_customer(&token, &body).await;
                    assert_eq!(status, StatusCode::CREATED, "{answer}");
                })
            })
            .collect();
        next += batch.len();
        for task in batch {
            task.await.unwrap();
        }
    }
}

/// The write units of a creation, a change of the name and a deletion.
async fn writes(env: &TestEnv, org: &str, token: &str) {
    println!("\n| write | write units |\n|---|---|");
    env.front.meter_capacity();
    env.front.take_capacity();
    let body = json!({"organization": org, "email": "new@bench.example", "name": "Nora Quinn"});
    let (status, created) = env.create_customer(token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    println!(
        "| create (a two-word name) | {:.0} |",
        env.front.take_capacity().write
    );
    let patch = json!({"name": "Nadia Quist"});
    let (status, _, _) = env.change_customer(token, id, Some(&patch), &[]).await;
    assert_eq!(status, StatusCode::OK);
    println!(
        "| PATCH of the name (two new words) | {:.0} |",
        env.front.take_capacity().write
    );
    let (status, _, _) = env.change_customer(token, id, None, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    println!("| DELETE | {:.0} |", env.front.take_capacity().write);
}

//! `make bench`: cold starts of every function's release bootstrap, and of a Python boto3
//! peer doing the same DynamoDB work, against a fake Lambda Runtime API of our own and the
//! local DynamoDB. Prints one table; asserts nothing (a crash is the only failure).
//!
//! For each function, `ROUNDS` times: start the process with the Runtime API's environment;
//! init is from exec to its first `GET …/invocation/next`; the first request is from
//! handing it an event to its response; then `WARM` more requests; peak RSS is `VmHWM` from
//! /proc before the process is stopped. Every event, the first as the warm ones, is handed
//! over when the function asks for it, and timed from then (Lambda's Duration): sent into
//! an idle gap instead, a warm request is slower than the first (2.5 against 1.7 ms for
//! read-customers after 10 ms idle), and sent before it asks, it is timed with its
//! predecessor's tail.
//!
//! `cold-start <bootstrap dir> [python peer script]`; `BENCH_ROUNDS` (default 10) and
//! `BENCH_WARM` (default 100, so that peak RSS is after 100 hashing requests) size it. It
//! ends with what a million warm requests of each cost in Lambda.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use crm_tests::{event_json, TestEnv, TEST_SIGNING_SECRET};
use serde_json::{json, Value};
use tokio::sync::Notify;

/// The Runtime API's side of one invocation at a time.
#[derive(Default)]
struct Runtime {
    queue: Mutex<VecDeque<String>>,
    arrived: Notify,
    /// The process's `GET …/invocation/next` calls, and the events they were handed.
    turns: Mutex<Turns>,
    waiting: Notify,
    answered: Mutex<Option<(Instant, String)>>,
    answer: Notify,
}

#[derive(Default)]
struct Turns {
    first_asked: Option<Instant>,
    asked: usize,
    handed: usize,
    last_handed: Option<Instant>,
}

async fn next(State(rt): State<Arc<Runtime>>) -> (HeaderMap, String) {
    {
        let mut turns = rt.turns.lock().unwrap();
        turns.first_asked.get_or_insert_with(Instant::now);
        turns.asked += 1;
    }
    rt.waiting.notify_waiters();
    loop {
        let notified = rt.arrived.notified();
        if let Some(event) = rt.queue.lock().unwrap().pop_front() {
            let mut turns = rt.turns.lock().unwrap();
            turns.handed += 1;
            turns.last_handed = Some(Instant::now());
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", "bench".parse().unwrap());
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 10_000;
            headers.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench"
                    .parse()
                    .unwrap(),
            );
            headers.insert("lambda-runtime-trace-id", "Root=1-bench".parse().unwrap());
            return (headers, event);
        }
        notified.await;
    }
}

async fn respond(
    State(rt): State<Arc<Runtime>>,
    UrlPath(_id): UrlPath<String>,
    body: String,
) -> StatusCode {
    *rt.answered.lock().unwrap() = Some((Instant::now(), body));
    rt.answer.notify_one();
    StatusCode::ACCEPTED
}

async fn failed(State(rt): State<Arc<Runtime>>, body: String) -> StatusCode {
    *rt.answered.lock().unwrap() = Some((Instant::now(), format!("ERROR {body}")));
    rt.answer.notify_one();
    StatusCode::ACCEPTED
}

impl Runtime {
    /// A Runtime API on a port of its own, for one process: a killed predecessor's last
    /// `GET …/next`, still in flight, can then neither take its events nor count as its ask.
    async fn serve() -> (Arc<Self>, String, tokio::task::JoinHandle<()>) {
        let runtime = Arc::new(Runtime::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(failed))
            .route("/2018-06-01/runtime/init/error", post(failed))
            .with_state(Arc::clone(&runtime));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (runtime, api, server)
    }

    /// Hands `event` over once the function asks for it, as Lambda does; the time from then
    /// until the answer (what Lambda bills as Duration), and the answer. Every request, first
    /// or warm, so finds the function just waiting, neither busy nor long idle.
    async fn invoke(&self, event: String) -> (Duration, String) {
        loop {
            let asked = self.waiting.notified();
            let waits = {
                let turns = self.turns.lock().unwrap();
                turns.asked > turns.handed
            };
            if waits {
                break;
            }
            tokio::time::timeout(Duration::from_secs(30), asked)
                .await
                .expect("the function asks for its next event within 30 s");
        }
        self.queue.lock().unwrap().push_back(event);
        self.arrived.notify_one();
        loop {
            let notified = self.answer.notified();
            if let Some((at, body)) = self.answered.lock().unwrap().take() {
                let handed = self.turns.lock().unwrap().last_handed;
                return (at - handed.expect("an answer follows its event"), body);
            }
            tokio::time::timeout(Duration::from_secs(30), notified)
                .await
                .expect("the function answers within 30 s");
        }
    }
}

/// The event for the n-th request a function is sent.
type Events = Box<dyn Fn(usize) -> String>;

struct Target {
    name: String,
    command: Vec<String>,
    size: Option<u64>,
    event: Events,
}

#[derive(Default)]
struct Samples {
    init: Vec<Duration>,
    first: Vec<Duration>,
    warm: Vec<Duration>,
    /// Each round's first request over that round's warm median: paired, so that how busy
    /// the machine was in a round weighs on both sides of its ratio alike.
    first_over_warm: Vec<f64>,
    rss_kib: Vec<u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn spread(values: &mut [Duration]) -> String {
    values.sort();
    if values.is_empty() {
        return "-".into();
    }
    format!(
        "{:.1} / {:.1} / {:.1}",
        ms(values[0]),
        ms(values[values.len() / 2]),
        ms(values[values.len() - 1])
    )
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The name of the signing secret in the local Secrets Manager.
const SIGNING_SECRET: &str = "crm-token-signing";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map_or("target/release", String::as_str));
    let peer = args.get(1).cloned();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let warm: usize = std::env::var("BENCH_WARM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);

    let env = TestEnv::new().await;
    // The issuing functions read the test key from a local Secrets Manager, as on AWS.
    let secrets = crm_tests::secrets::start(&[(SIGNING_SECRET, TEST_SIGNING_SECRET)]).await;
    // Published, as the first issuing function to start would: the functions that only
    // verify read it at their cold start.
    env.app
        .store
        .publish_signing_key(crm_tests::test_signing_key().public())
        .await
        .expect("publishing the test key");
    let m = env.member().await;
    let customer = m.signup["customer"]["id"].as_str().unwrap().to_owned();
    let refresh = m.signup["refresh_token"].as_str().unwrap().to_owned();

    let fill = |name: &str, extra: &Value| -> String {
        let mut event = event_json(name);
        if let Some(body) = event["body"].as_str() {
            let mut body: Value = serde_json::from_str(body).unwrap();
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            event["body"] = Value::String(body.to_string());
        }
        event
            .to_string()
            .replace("0192f1a0-0000-7000-8000-00000000c001", &customer)
            .replace("0192f1a0-0000-7000-8000-00000000a001", &m.org)
            .replace("REPLACE_WITH_ACCESS_TOKEN", &m.token)
            .replace("REPLACE_WITH_REFRESH_TOKEN", &refresh)
    };
    let fixed = |text: String| -> Events { Box::new(move |_| text.clone()) };
    let login = fill(
        "login-username.json",
        &json!({"username": m.signup["user"]["username"], "password": "correct horse battery"}),
    );
    let mut update: Value =
        serde_json::from_str(&fill("update-customer.json", &json!({}))).unwrap();
    update["headers"]
        .as_object_mut()
        .unwrap()
        .remove("if-match");
    let signup_template = event_json("signup.json").to_string();
    let get_customer = fill("get-customer.json", &json!({}));
    let mut targets: Vec<(&str, Events)> = vec![
        ("read-customers", fixed(get_customer.clone())),
        ("me", fixed(fill("me.json", &json!({})))),
        (
            "create-customer",
            fixed(fill("create-customer-idempotent.json", &json!({}))),
        ),
        ("change-customer", fixed(update.to_string())),
        ("login", fixed(login)),
        ("session", fixed(fill("logout.json", &json!({})))),
        ("teams", fixed(fill("list-members.json", &json!({})))),
        ("fallback", fixed(get_customer.clone())),
    ];
    targets.push((
        "signup",
        Box::new(move |n| {
            let tag = format!("{}{n}", uuid::Uuid::now_v7().simple());
            signup_template
                .replace("janedoe", &format!("jd{}", &tag[20..]))
                .replace(
                    "jane.doe@example.com",
                    &format!("jd{}@example.com", &tag[20..]),
                )
        }),
    ));
    let mut all: Vec<Target> = targets
        .into_iter()
        .map(|(name, event)| {
            let path = dir.join(name);
            Target {
                name: name.to_owned(),
                size: std::fs::metadata(&path).ok().map(|m| m.len()),
                command: vec![path.display().to_string()],
                event,
            }
        })
        .filter(|t| t.size.is_some())
        .collect();
    if let Some(peer) = &peer {
        let python = Path::new(".local/venv/bin/python");
        all.push(Target {
            name: "python boto3 peer (GET by id)".into(),
            command: vec![python.display().to_string(), peer.clone()],
            size: None,
            event: fixed(get_customer),
        });
    }
    if all.is_empty() {
        eprintln!(
            "cold-start: no bootstraps in {}: build them first",
            dir.display()
        );
        std::process::exit(2);
    }

    println!(
        "{rounds} cold starts each, {warm} warm requests after each; ms as min / median / max; local DynamoDB (dynoxide) over loopback"
    );
    println!(
        "{:<30} {:>22} {:>22} {:>22} {:>11} {:>10} {:>10}",
        "function", "init", "first request", "warm request", "first/warm", "peak RSS", "size"
    );
    let memory = crm_tests::cost::memory_sizes();
    let mut lambda_costs = Vec::new();
    for target in &all {
        let mut samples = Samples::default();
        for round in 0..rounds {
            let (runtime, api, server) = Runtime::serve().await;
            let spawned = Instant::now();
            let mut child = Command::new(&target.command[0])
                .args(&target.command[1..])
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_RUNTIME_API", &api)
                .env("AWS_LAMBDA_FUNCTION_NAME", &target.name)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "local")
                .env("AWS_SECRET_ACCESS_KEY", "local")
                .env("AWS_ENDPOINT_URL_DYNAMODB", crm_tests::endpoint())
                .env("TABLE_NAME", &env.table)
                .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &secrets.url)
                .env(
                    "TOKEN_SIGNING_SECRET_ARN",
                    crm_tests::secrets::local_arn(SIGNING_SECRET),
                )
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{}: {e}", target.command[0]));
            // Woken by the first ask itself, so the first event is not handed over late.
            let init = loop {
                let asked = runtime.waiting.notified();
                if let Some(at) = runtime.turns.lock().unwrap().first_asked {
                    break at - spawned;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("{} exited at init: {status}", target.name);
                }
                let _ = tokio::time::timeout(Duration::from_millis(20), asked).await;
            };
            let (first, answer) = runtime.invoke((target.event)(round * (warm + 1))).await;
            assert!(!answer.starts_with("ERROR"), "{}: {answer}", target.name);
            let mut warm_samples = Vec::new();
            for i in 0..warm {
                let (took, answer) = runtime
                    .invoke((target.event)(round * (warm + 1) + i + 1))
                    .await;
                assert!(!answer.starts_with("ERROR"), "{}: {answer}", target.name);
                warm_samples.push(took);
            }
            samples.rss_kib.push(peak_rss_kib(child.id()));
            let _ = child.kill();
            let _ = child.wait();
            server.abort();
            samples.init.push(init);
            samples.first.push(first);
            warm_samples.sort();
            if let Some(median) = warm_samples.get(warm_samples.len() / 2) {
                samples.warm.push(*median);
                samples
                    .first_over_warm
                    .push(ms(first) / ms(*median).max(f64::EPSILON));
            }
        }
        let rss = samples.rss_kib.iter().max().copied().unwrap_or(0);
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v.get(v.len() / 2).copied().unwrap_or_default()
        };
        samples.first_over_warm.sort_by(f64::total_cmp);
        let ratio = samples
            .first_over_warm
            .get(samples.first_over_warm.len() / 2)
            .copied()
            .unwrap_or(f64::NAN);
        println!(
            "{:<30} {:>22} {:>22} {:>22} {:>10.2}x {:>7.1} MiB {:>10}",
            target.name,
            spread(&mut samples.init),
            spread(&mut samples.first),
            spread(&mut samples.warm),
            ratio,
            rss as f64 / 1024.0,
            target
                .size
                .map_or("-".into(), |b| format!("{:.2} MiB", b as f64 / 1048576.0)),
        );
        // The peer does read-customers' work, at its memory.
        let mb = memory
            .get(&target.name)
            .or(memory.get("read-customers"))
            .copied()
            .unwrap_or(256.0);
        let warm = median(&mut samples.warm);
        lambda_costs.push((target.name.clone(), warm, mb));
    }
    println!();
    println!("Lambda per million warm requests, USD, at the median warm request and the configured memory (DynamoDB's share: cargo bench --bench paths)");
    println!(
        "{:<30} {:>10} {:>7} {:>10} {:>10}",
        "function", "warm ms", "MB", "GB-s", "Lambda"
    );
    for (name, warm, mb) in lambda_costs {
        let (gb_seconds, usd) = crm_tests::cost::lambda_per_million(warm, mb);
        println!(
            "{name:<30} {:>10.3} {mb:>7} {gb_seconds:>10.6} {usd:>10.3}",
            ms(warm)
        );
    }
    println!("{}", crm_tests::cost::PRICES);
}

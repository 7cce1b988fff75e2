//! Metrics in CloudWatch's Embedded Metric Format (EMF): one JSON object per request, on
//! stdout, which CloudWatch Logs turns into metrics with no agent and no extra call.
//!
//! Metrics, kept few because each (name, dimensions) pair is billed as a custom metric:
//! - by `Service` and `Function`: `Requests`, `Latency`, `ServerErrors` (5xx), and the
//!   DynamoDB `ReadCapacity` and `WriteCapacity` the request consumed;
//! - by `Service`: `Conflicts` (transactions cancelled by `TransactionConflict`), `Retries`
//!   (attempts after the first), `Throttled` (answers 429 or 503).
//!
//! The route, the outcome (`created`, `existing`, `replayed`, `ok`, an error's code such as
//! `not_found` or `transaction_conflict`, `throttled`, `5xx`) and the status travel as
//! properties of the same object, so Logs Insights breaks any figure down by them at no
//! metric cost (the dashboard's capacity-per-route widget does).

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// Where EMF lines go: stdout on Lambda, a list in tests.
#[derive(Clone, Debug, Default)]
pub enum Sink {
    #[default]
    Stdout,
    Capture(Arc<Mutex<Vec<String>>>),
}

/// `METRICS_NAMESPACE` and `SERVICE_NAME` (template parameters), and the sink.
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    pub namespace: String,
    pub service: String,
    pub sink: Sink,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            namespace: "CrmApi".to_owned(),
            service: "crm".to_owned(),
            sink: Sink::Stdout,
        }
    }
}

impl MetricsConfig {
    pub fn emit(&self, line: String) {
        match &self.sink {
            Sink::Stdout => println!("{line}"),
            Sink::Capture(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).push(line),
        }
    }
}

/// What one request's DynamoDB calls and writes added up to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    pub read_units: f64,
    pub write_units: f64,
    pub conflicts: u32,
    pub retries: u32,
}

tokio::task_local! {
    static TALLY: Arc<Mutex<Tally>>;
}

/// Runs `work` with a tally of its own, which [`add`] adds to from anywhere inside it.
pub async fn counted<F: std::future::Future>(tally: Arc<Mutex<Tally>>, work: F) -> F::Output {
    TALLY.scope(tally, work).await
}

/// Adds to the current request's tally; outside a request (cold start), does nothing.
pub fn add(change: impl FnOnce(&mut Tally)) {
    let _ = TALLY.try_with(|tally| change(&mut tally.lock().unwrap_or_else(|e| e.into_inner())));
}

/// One request, as its EMF object reports it.
#[derive(Debug)]
pub struct RequestReport<'a> {
    pub function: &'a str,
    /// `POST /api/customers`, or `unmatched`.
    pub route: &'a str,
    pub outcome: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub tally: Tally,
    pub request_id: Option<&'a str>,
}

impl RequestReport<'_> {
    /// The EMF object (specification: "Embedded metric format specification", CloudWatch
    /// user guide): `_aws` names the metrics and their dimensions, and every metric and
    /// dimension is a member of the object itself.
    pub fn emf(&self, config: &MetricsConfig, timestamp_ms: u64) -> Value {
        let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
        let t = &self.tally;
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": config.namespace,
                        "Dimensions": [["Service", "Function"]],
                        "Metrics": [
                            metric("Requests", "Count"),
                            metric("Latency", "Milliseconds"),
                            metric("ServerErrors", "Count"),
                            metric("ReadCapacity", "Count"),
                            metric("WriteCapacity", "Count"),
                        ],
                    },
                    {
                        "Namespace": config.namespace,
                        "Dimensions": [["Service"]],
                        "Metrics": [
                            metric("Conflicts", "Count"),
                            metric("Retries", "Count"),
                            metric("Throttled", "Count"),
                        ],
                    },
                ],
            },
            "Service": config.service,
            "Function": self.function,
            "Requests": 1,
            "Latency": (self.latency_ms * 1000.0).round() / 1000.0,
            "ServerErrors": u8::from(self.status >= 500),
            "ReadCapacity": t.read_units,
            "WriteCapacity": t.write_units,
            "Conflicts": t.conflicts,
            "Retries": t.retries,
            "Throttled": u8::from(self.status == 429 || self.status == 503),
            "Route": self.route,
            "Outcome": self.outcome,
            "StatusCode": self.status,
            "requestId": self.request_id,
        })
    }
}

/// A request's outcome, from its answer: `created`, `replayed`, `existing` (a 200 to a
/// creation: the record was there), `ok`, or for an error its code (`throttled` for 429 and
/// 503, `5xx` for the others).
pub fn outcome(status: u16, replayed: bool, creation: bool, code: Option<&str>) -> String {
    match (status, code) {
        (_, _) if replayed => "replayed".to_owned(),
        (201, _) => "created".to_owned(),
        (200, _) if creation => "existing".to_owned(),
        (200..=299, _) => "ok".to_owned(),
        (429 | 503, _) => "throttled".to_owned(),
        (500..=599, _) => "5xx".to_owned(),
        (_, Some(code)) => code.to_owned(),
        (status, None) => status.to_string(),
    }
}

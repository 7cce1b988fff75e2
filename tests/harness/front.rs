//! A DynamoDB front in the SDK's HTTP path: what the local server never does, done here.
//!
//! - **DynamoDB's conflict rule** (developer guide, "Transaction conflict handling"), when a
//!   window is set: a `TransactWriteItems` holds every item it names, ConditionChecks
//!   included, from its arrival until `window` after the server committed it (its answer
//!   comes back when the hold ends, as a transaction's latency on AWS includes its commit).
//!   A transaction naming a held item is cancelled with `TransactionConflict` at the
//!   positions of the held items and `None` elsewhere, and never reaches the server; a
//!   `PutItem`, `UpdateItem` or `DeleteItem` on a held item gets
//!   `TransactionConflictException`. Reads pass. A transaction the server cancels releases
//!   its items at once.
//! - **Scripted faults**: the next calls of an operation answered as DynamoDB or the network
//!   would under trouble (see [`Fault`]).
//!
//! Answers are in DynamoDB's wire format, so the SDK parses them as it would AWS's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::config::{HttpClient, RuntimeComponents, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};
use shared::store::keys::{PK, SK};
use tokio::sync::Notify;

/// What a scripted call gets instead of the server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `TransactionCanceledException` with `TransactionConflict` on the first action.
    Conflict,
    /// `TransactionCanceledException` with this reason code on the first action
    /// (`ThrottlingError`, `ProvisionedThroughputExceeded`, `RequestLimitExceeded`,
    /// `ValidationError`…).
    Cancelled(&'static str),
    /// An error answer of this HTTP status and `__type` (e.g. 400
    /// `ThrottlingException`, 400 `ValidationException`, 500 `InternalServerError`).
    Error(u16, &'static str),
    /// The connection is refused: the store is unreachable.
    Unreachable,
    /// The request waits this long before it is sent on (past the SDK's attempt timeout,
    /// it is never sent).
    Stall(Duration),
    /// The request waits at the front until the test calls [`DynamoFront::release`]; the
    /// test learns it is there from [`DynamoFront::holding`]. No timing involved.
    Hold,
    /// The server applies the request, and then the answer is lost on the way back.
    LoseAnswer,
}

/// What the front saw, for tests and benchmarks to report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrontStats {
    /// `TransactWriteItems` that arrived.
    pub transactions: usize,
    /// Of those, cancelled here for naming a held item.
    pub conflicts: usize,
    /// Single-item writes refused for touching a held item.
    pub write_conflicts: usize,
    /// Calls answered with a scripted fault.
    pub faults: usize,
    /// Transactions the server committed while the conflict rule holds their items.
    pub committed: usize,
}

/// DynamoDB capacity consumed, as the server reports it when asked
/// (`ReturnConsumedCapacity = TOTAL`): read units of reads, write units of writes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

/// The calls whose units are read units.
const READS: [&str; 5] = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];

#[derive(Clone, Debug)]
pub struct DynamoFront {
    inner: SharedHttpClient,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    window: Option<Duration>,
    /// Item (table, pk, sk) to the time its hold ends; `None` while its transaction is
    /// still at the server.
    holds: HashMap<String, Option<Instant>>,
    script: VecDeque<(&'static str, Fault)>,
    stats: FrontStats,
    /// Set: every call asks for its consumed capacity, which is added up here.
    metered: Option<Capacity>,
    /// A request reached a [`Fault::Hold`].
    held: Arc<Notify>,
    /// Lets a held request go on.
    release: Arc<Notify>,
    /// A transaction was committed (see [`DynamoFront::transactions_committed`]).
    changed: Arc<Notify>,
}

impl State {
    fn held(&self, item: &str, now: Instant) -> bool {
        match self.holds.get(item) {
            Some(None) => true,
            Some(Some(until)) => *until > now,
            None => false,
        }
    }
}

impl DynamoFront {
    /// A front that applies the conflict rule with `window` when given, and otherwise only
    /// the faults it is told to.
    pub fn wrap(inner: SharedHttpClient, window: Option<Duration>) -> Self {
        let state = State {
            window,
            ..State::default()
        };
        Self {
            inner,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The next `count` calls of `operation` (e.g. `"TransactWriteItems"`) get `fault`,
    /// after any faults scripted before.
    pub fn fail_next(&self, operation: &'static str, fault: Fault, count: usize) {
        let mut state = self.state.lock().expect("front lock");
        state
            .script
            .extend(std::iter::repeat_n((operation, fault), count));
    }

    /// The next `count` transactions are cancelled with `TransactionConflict`.
    pub fn conflict_next(&self, count: usize) {
        self.fail_next("TransactWriteItems", Fault::Conflict, count);
    }

    /// Waits until a request stands at a [`Fault::Hold`].
    pub async fn holding(&self) {
        let held = Arc::clone(&self.state.lock().expect("front lock").held);
        held.notified().await;
    }

    /// Lets the request at a [`Fault::Hold`] go on.
    pub fn release(&self) {
        self.state.lock().expect("front lock").release.notify_one();
    }

    /// Waits until `count` transactions in all have been committed by the server with the
    /// conflict rule on: their items are held from then on, for the window.
    pub async fn transactions_committed(&self, count: usize) {
        let changed = Arc::clone(&self.state.lock().expect("front lock").changed);
        loop {
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stats().committed >= count {
                return;
            }
            notified.await;
        }
    }

    pub fn stats(&self) -> FrontStats {
        self.state.lock().expect("front lock").stats
    }

    /// From now on, every call asks DynamoDB for the capacity it consumes, and the front
    /// adds it up (see [`DynamoFront::take_capacity`]).
    pub fn meter_capacity(&self) {
        self.state.lock().expect("front lock").metered = Some(Capacity::default());
    }

    /// The capacity consumed since metering began or the last take.
    pub fn take_capacity(&self) -> Capacity {
        let mut state = self.state.lock().expect("front lock");
        state
            .metered
            .replace(Capacity::default())
            .unwrap_or_default()
    }
}

impl HttpClient for DynamoFront {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            inner: self.inner.http_connector(settings, components),
            front: self.clone(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    inner: SharedHttpConnector,
    front: DynamoFront,
}

impl HttpConnector for Connector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let metered = self
            .front
            .state
            .lock()
            .expect("front lock")
            .metered
            .is_some();
        if metered {
            ask_for_capacity(&mut request);
        }
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or_default()
            .to_owned();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let inner = self.inner.clone();
        let state = Arc::clone(&self.front.state);
        HttpConnectorFuture::new(async move {
            let answer = forward(&state, inner, request, &operation, &body).await;
            match answer {
                Ok(response) if metered => Ok(add_capacity(&state, &operation, response).await),
                answer => answer,
            }
        })
    }
}

/// The call's answer: a scripted fault, the conflict rule's, or the server's.
async fn forward(
    state: &Mutex<State>,
    inner: SharedHttpConnector,
    request: HttpRequest,
    operation: &str,
    body: &Value,
) -> Result<HttpResponse, ConnectorError> {
    let fault = {
        let mut state = state.lock().expect("front lock");
        let next = state.script.front().map(|(op, _)| *op);
        if next == Some(operation) {
            state.stats.faults += 1;
            state.script.pop_front().map(|(_, fault)| fault)
        } else {
            None
        }
    };
    match fault {
        Some(Fault::Conflict) => return Ok(cancelled(body, &[0], "TransactionConflict")),
        Some(Fault::Cancelled(code)) => return Ok(cancelled(body, &[0], code)),
        Some(Fault::Error(status, kind)) => return Ok(error(status, kind)),
        Some(Fault::Unreachable) => {
            return Err(ConnectorError::io("connection refused (injected)".into()))
        }
        Some(Fault::Stall(pause)) => tokio::time::sleep(pause).await,
        Some(Fault::Hold) => {
            let (held, release) = {
                let state = state.lock().expect("front lock");
                (Arc::clone(&state.held), Arc::clone(&state.release))
            };
            held.notify_one();
            release.notified().await;
        }
        Some(Fault::LoseAnswer) => {
            let _applied = inner.call(request).await;
            return Err(ConnectorError::io(
                "connection reset after the request was sent (injected)".into(),
            ));
        }
        None => {}
    }
    match operation {
        "TransactWriteItems" => transact(state, inner, request, body).await,
        "PutItem" | "UpdateItem" | "DeleteItem" => {
            let field = if operation == "PutItem" {
                "Item"
            } else {
                "Key"
            };
            let item = identity(body, field);
            let refused = {
                let mut state = state.lock().expect("front lock");
                let held = state.window.is_some() && state.held(&item, Instant::now());
                state.stats.write_conflicts += usize::from(held);
                held
            };
            if refused {
                return Ok(error(400, "TransactionConflictException"));
            }
            inner.call(request).await
        }
        _ => inner.call(request).await,
    }
}

/// Adds `"ReturnConsumedCapacity": "TOTAL"` to a DynamoDB request (local servers do not
/// check signatures).
fn ask_for_capacity(request: &mut HttpRequest) {
    let Some(mut body) = request
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
    else {
        return;
    };
    body["ReturnConsumedCapacity"] = json!("TOTAL");
    let bytes = body.to_string();
    request
        .headers_mut()
        .insert("content-length", bytes.len().to_string());
    *request.body_mut() = SdkBody::from(bytes);
}

/// Adds the capacity an answer reports (one `ConsumedCapacity`, or one per table) to the
/// meter, and gives the answer back whole.
async fn add_capacity(
    state: &Mutex<State>,
    operation: &str,
    mut response: HttpResponse,
) -> HttpResponse {
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.take_body())
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let consumed = &answer["ConsumedCapacity"];
    let units: f64 = match consumed {
        Value::Array(tables) => tables
            .iter()
            .filter_map(|t| t["CapacityUnits"].as_f64())
            .sum(),
        one => one["CapacityUnits"].as_f64().unwrap_or(0.0),
    };
    if let Some(meter) = state.lock().expect("front lock").metered.as_mut() {
        if READS.contains(&operation) {
            meter.read += units;
        } else {
            meter.write += units;
        }
    }
    *response.body_mut() = SdkBody::from(bytes);
    response
}

async fn transact(
    state: &Mutex<State>,
    inner: SharedHttpConnector,
    request: HttpRequest,
    body: &Value,
) -> Result<HttpResponse, ConnectorError> {
    let items: Vec<String> = body["TransactItems"]
        .as_array()
        .map(|actions| actions.iter().map(action_item).collect())
        .unwrap_or_default();
    let admitted = {
        let mut state = state.lock().expect("front lock");
        state.stats.transactions += 1;
        match state.window {
            None => Ok(None),
            Some(window) => {
                let now = Instant::now();
                let held: Vec<usize> = (0..items.len())
                    .filter(|i| state.held(&items[*i], now))
                    .collect();
                if held.is_empty() {
                    for item in &items {
                        state.holds.insert(item.clone(), None);
                    }
                    Ok(Some(window))
                } else {
                    state.stats.conflicts += 1;
                    Err(held)
                }
            }
        }
    };
    let window = match admitted {
        Ok(Some(window)) => window,
        Ok(None) => return inner.call(request).await,
        Err(held) => return Ok(cancelled(body, &held, "TransactionConflict")),
    };
    let answer = inner.call(request).await;
    let committed = answer.as_ref().is_ok_and(|r| r.status().is_success());
    if committed {
        let until = Instant::now() + window;
        {
            let mut state = state.lock().expect("front lock");
            for item in &items {
                state.holds.insert(item.clone(), Some(until));
            }
            state.stats.committed += 1;
            state.changed.notify_waiters();
        }
        tokio::time::sleep(window).await;
    }
    let mut state = state.lock().expect("front lock");
    let now = Instant::now();
    for item in &items {
        // Only our own hold: a later transaction cannot have taken these while we held them.
        if state
            .holds
            .get(item)
            .is_some_and(|h| h.is_none_or(|t| t <= now))
        {
            state.holds.remove(item);
        }
    }
    answer
}

/// The item an action of a transaction names.
fn action_item(action: &Value) -> String {
    if let Some(put) = action.get("Put") {
        return identity(put, "Item");
    }
    ["Update", "Delete", "ConditionCheck"]
        .iter()
        .find_map(|kind| action.get(*kind))
        .map_or_else(String::new, |a| identity(a, "Key"))
}

fn identity(request: &Value, field: &str) -> String {
    let attributes = &request[field];
    format!(
        "{}|{}|{}",
        request["TableName"], attributes[PK], attributes[SK]
    )
}

/// `TransactionCanceledException`: `code` at `positions`, `None` elsewhere.
fn cancelled(body: &Value, positions: &[usize], code: &str) -> HttpResponse {
    let actions = body["TransactItems"].as_array().map_or(1, Vec::len);
    let reasons: Vec<Value> = (0..actions)
        .map(|i| {
            if positions.contains(&i) {
                json!({"Code": code, "Message": format!("{code} (injected)")})
            } else {
                json!({"Code": "None"})
            }
        })
        .collect();
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["Code"].as_str().unwrap_or("None"))
        .collect();
    let body = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
        "CancellationReasons": reasons,
    });
    response(400, &body)
}

fn error(status: u16, kind: &str) -> HttpResponse {
    let body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": format!("{kind} (injected)"),
    });
    response(status, &body)
}

fn response(status: u16, body: &Value) -> HttpResponse {
    let mut response = HttpResponse::new(
        status.try_into().expect("a status code"),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

//! Makes the next N `TransactWriteItems` calls fail as real DynamoDB does under contention:
//! `TransactionCanceledException` with a `TransactionConflict` reason. No emulator sends
//! it, so the HTTP client answers in the server's place; nothing reaches the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::config::{HttpClient, RuntimeComponents, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct ConflictInjector {
    inner: SharedHttpClient,
    remaining: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
}

impl ConflictInjector {
    pub fn wrap(inner: SharedHttpClient) -> Self {
        Self {
            inner,
            remaining: Arc::default(),
            injected: Arc::default(),
        }
    }

    /// The next `count` transactions are answered with a conflict.
    pub fn conflict_next(&self, count: usize) {
        self.remaining.store(count, Ordering::SeqCst);
    }

    /// How many conflicts were sent so far.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

impl HttpClient for ConflictInjector {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            inner: self.inner.http_connector(settings, components),
            injector: self.clone(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    inner: SharedHttpConnector,
    injector: ConflictInjector,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let is_transaction = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|target| target.ends_with(".TransactWriteItems"));
        let take = |n: usize| n.checked_sub(1);
        if is_transaction
            && self
                .injector
                .remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
                .is_ok()
        {
            self.injector.injected.fetch_add(1, Ordering::SeqCst);
            return HttpConnectorFuture::ready(Ok(conflict(&request)));
        }
        self.inner.call(request)
    }
}

/// DynamoDB's answer: one reason per action, `TransactionConflict` on the contended one.
fn conflict(request: &HttpRequest) -> HttpResponse {
    let actions = request
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1);
    let reasons: Vec<Value> = (0..actions)
        .map(|i| match i {
            0 => json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}),
            _ => json!({"Code": "None"}),
        })
        .collect();
    let body = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
        "CancellationReasons": reasons,
    });
    let mut response = HttpResponse::new(
        400.try_into().expect("400 is a status code"),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

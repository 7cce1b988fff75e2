//! A local Secrets Manager: the `GetSecretValue` operation, for `make run` (`local-dynamodb
//! secrets`), the cold-start benchmark and the tests. The issuing functions' real Secrets
//! Manager client reads the token signing secret here when `AWS_ENDPOINT_URL_SECRETS_MANAGER`
//! points here. A secret is asked for by name or by an ARN ending `:secret:<name>`; every
//! other operation is refused as Secrets Manager refuses an unknown one.
//!
//! It keeps the names it was asked for, so that a test can say which calls reached it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// The account every local ARN names.
pub const LOCAL_ACCOUNT: &str = "000000000000";

/// The ARN a local secret `name` has, as a function's environment names it.
pub fn local_arn(name: &str) -> String {
    format!("arn:aws:secretsmanager:us-east-1:{LOCAL_ACCOUNT}:secret:{name}")
}

#[derive(Default)]
struct Store {
    /// Each secret's string, by name.
    secrets: HashMap<String, String>,
    /// The name of each `GetSecretValue` answered, in order.
    read: Mutex<Vec<String>>,
}

/// A running local Secrets Manager.
#[derive(Clone)]
pub struct LocalSecrets {
    pub url: String,
    store: Arc<Store>,
}

impl LocalSecrets {
    /// The names of the secrets read since the last call, in order.
    pub fn take_reads(&self) -> Vec<String> {
        std::mem::take(&mut self.store.read.lock().expect("reads lock"))
    }
}

/// Serves `secrets` (name, string) on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, secrets: HashMap<String, String>) {
    let store = Arc::new(Store {
        secrets,
        read: Mutex::default(),
    });
    axum::serve(listener, router(store))
        .await
        .expect("serving the local Secrets Manager");
}

fn router(store: Arc<Store>) -> Router {
    Router::new().route("/", post(operation)).with_state(store)
}

/// Starts a local Secrets Manager holding `secrets` on a free local port, for a test.
pub async fn start(secrets: &[(&str, &str)]) -> LocalSecrets {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let store = Arc::new(Store {
        secrets: secrets
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        read: Mutex::default(),
    });
    let served = router(store.clone());
    tokio::spawn(async move { axum::serve(listener, served).await });
    LocalSecrets { url, store }
}

async fn operation(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "secretsmanager.GetSecretValue" {
        return error(
            "UnknownOperationException",
            &format!("{target:?} is not served here"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error("InvalidRequestException", "not JSON");
    };
    let id = request["SecretId"].as_str().unwrap_or_default();
    let name = id.rsplit_once(":secret:").map_or(id, |(_, name)| name);
    let Some(value) = store.secrets.get(name) else {
        return error(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        );
    };
    store.read.lock().expect("reads lock").push(name.to_owned());
    let body = json!({
        "ARN": local_arn(name),
        "Name": name,
        "VersionId": "00000000-0000-0000-0000-000000000001",
        "SecretString": value,
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": 1_767_225_600.0,
    });
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

/// An error as the SDK reads one of the JSON 1.1 protocol: the code in `__type`.
fn error(code: &str, message: &str) -> Response {
    let body = json!({"__type": code, "Message": message}).to_string();
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        body,
    )
        .into_response()
}

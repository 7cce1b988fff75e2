//! A local SES (API v2): the `SendEmail` operation, for `make run` (`local-dynamodb mail`)
//! and the tests. The table-stream function's real SES client sends here when
//! `AWS_ENDPOINT_URL_SESV2` points here; each message is kept as an `.eml` file in a folder
//! a developer can open, and announced on one line.
//!
//! A recipient at a `.invalid` domain (RFC 2606: nothing can deliver there) is refused as
//! SES refuses a message for good, `MessageRejected`: how a permanent refusal is exercised.
//! Every other operation is a 404.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// Where SES v2's `SendEmail` is posted.
const SEND_EMAIL: &str = "/v2/email/outbound-emails";

struct Mailbox {
    dir: PathBuf,
    announce: bool,
}

/// Serves the mailbox on `listener` until the task is dropped: messages land in `dir`;
/// with `announce`, one line each on standard output.
pub async fn serve(listener: tokio::net::TcpListener, dir: PathBuf, announce: bool) {
    std::fs::create_dir_all(&dir).expect("the mailbox folder");
    let state = Arc::new(Mailbox { dir, announce });
    let router = Router::new()
        .route(SEND_EMAIL, post(send_email))
        .with_state(state);
    axum::serve(listener, router)
        .await
        .expect("serving the mailbox");
}

/// Starts a mailbox on a free local port, in `dir`, for a test: its URL.
pub async fn start(dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(serve(listener, dir.to_owned(), false));
    url
}

async fn send_email(State(mailbox): State<Arc<Mailbox>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BadRequestException", "not JSON");
    };
    let from = request["FromEmailAddress"].as_str().unwrap_or_default();
    let to: Vec<&str> = request["Destination"]["ToAddresses"]
        .as_array()
        .map(|all| all.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let simple = &request["Content"]["Simple"];
    let subject = simple["Subject"]["Data"].as_str();
    let text = simple["Body"]["Text"]["Data"].as_str();
    let (Some(subject), Some(text)) = (subject, text) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "no simple content",
        );
    };
    if from.is_empty() || to.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "no sender or recipient",
        );
    }
    if let Some(bad) = to
        .iter()
        .find(|a| a.to_ascii_lowercase().ends_with(".invalid"))
    {
        let why = format!("Email address is not deliverable: {bad}");
        return error(StatusCode::BAD_REQUEST, "MessageRejected", &why);
    }
    let id = uuid::Uuid::now_v7();
    let path = mailbox.dir.join(format!("{id}.eml"));
    let eml = eml(&id.to_string(), from, &to, subject, text);
    if let Err(e) = std::fs::write(&path, eml) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &e.to_string(),
        );
    }
    if mailbox.announce {
        println!(
            "mail: to {} «{subject}» → {}",
            to.join(", "),
            path.display()
        );
    }
    let body = json!({"MessageId": format!("local-{id}")}).to_string();
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

/// An SES error as the SDK reads it: the code in `x-amzn-ErrorType`, the text in `message`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"__type": code, "message": message}).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-amzn-errortype", code),
    ];
    (status, headers, body).into_response()
}

/// A message as a mail program opens it: headers, then the UTF-8 text.
fn eml(id: &str, from: &str, to: &[&str], subject: &str, text: &str) -> String {
    use base64::Engine;
    let subject = if subject.is_ascii() {
        subject.to_owned()
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(subject);
        format!("=?UTF-8?B?{encoded}?=")
    };
    format!(
        "Message-ID: <{id}@localhost>\r\nFrom: {from}\r\nTo: {}\r\n\
         Subject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        to.join(", "),
        text.replace('\n', "\r\n"),
    )
}

/// A message read back from a mailbox folder.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub path: PathBuf,
}

/// Every message in `dir`, oldest first.
pub fn messages(dir: &Path) -> Vec<Received> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let raw = std::fs::read_to_string(&path).expect("a message");
            let (head, text) = raw.split_once("\r\n\r\n").expect("headers, then the text");
            let header = |name: &str| {
                head.split("\r\n")
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap_or_default()
                    .to_owned()
            };
            Received {
                to: header("To: "),
                subject: header("Subject: "),
                text: text.replace("\r\n", "\n"),
                path,
            }
        })
        .collect()
}

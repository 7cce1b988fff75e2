//! What a 500 logs. Alone in its test binary: `tracing` caches whether a log line is wanted
//! per call site, process-wide, so a test that captures logs with a thread-local subscriber
//! must not share its process with tests that log first.

use crm_tests::{read, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::json;

/// Log lines written through `tracing`, kept for a test to read.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test]
async fn a_500_logs_its_cause_once_with_the_request_id_and_answers_none_of_it() {
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::new().await));
    let m = env.member().await;
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(logs.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);
    let fields = json!({"organization": m.org});
    let mut request =
        crm_tests::event_with("create-customer-standalone.json", Some(&m.token), &fields);
    request
        .headers_mut()
        .insert(shared::serve::PANIC_HEADER, "1".parse().unwrap());
    let response =
        shared::serve::guarded(&env.app, request, &shared::http::handlers::CREATE_CUSTOMER)
            .await
            .unwrap();
    let (status, answer) = read(response);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!answer.to_string().contains("panic"), "{answer}");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let answered: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("answered 500"))
        .collect();
    assert_eq!(answered.len(), 1, "one line for one 500:\n{text}");
    let line: serde_json::Value = serde_json::from_str(answered[0]).unwrap();
    assert!(
        line["fields"]["cause"].as_str().unwrap().contains("panic"),
        "{line}"
    );
    let request_id = crm_tests::event_json("create-customer-standalone.json")["requestContext"]
        ["requestId"]
        .clone();
    assert_eq!(line["spans"][0]["api_request_id"], request_id, "{line}");
}

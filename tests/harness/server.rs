//! Where the tests' DynamoDB lives: `AWS_ENDPOINT_URL_DYNAMODB` when set (DynamoDB Local,
//! LocalStack, ministack, a real account), else a dynoxide server embedded in this process.

use std::sync::OnceLock;

/// The endpoint every test of this process talks to.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(url) if !url.is_empty() => url,
        _ => start_embedded(),
    })
}

/// Each `#[tokio::test]` has its own runtime, and a server spawned on one dies with it, so
/// the server gets a thread and a runtime of its own that live as long as the process.
fn start_embedded() -> String {
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("dynoxide".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the local server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a free loopback port");
                let port = listener.local_addr().expect("a bound address").port();
                let db = dynoxide::Database::memory().expect("an in-memory database");
                ready
                    .send(port)
                    .expect("the test thread waits for the port");
                dynoxide::server::serve_with_shutdown(listener, db, std::future::pending())
                    .await
                    .expect("the local DynamoDB server runs");
            });
        })
        .expect("a thread for the local server");
    let port = address.recv().expect("the local server starts");
    format!("http://127.0.0.1:{port}")
}

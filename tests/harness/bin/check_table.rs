//! `check-table`: verifies every cross-item invariant of `docs/data-model.md` over a whole
//! table, read-only.
//!
//! The table is `TABLE_NAME` (default `crm-local`, the `make run` table); the DynamoDB is the
//! standard AWS configuration, so `AWS_ENDPOINT_URL_DYNAMODB` points it at a local server
//! and its absence at AWS itself. It scans page by page (strongly consistent), reports
//! progress on stderr, prints a summary, and exits 1 on any violation.

use std::process::ExitCode;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::Client;
use crm_tests::invariants;

#[tokio::main]
async fn main() -> ExitCode {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "crm-local".into());
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(shared::app::https_client());
    // A local server takes any credentials; AWS gets the caller's own.
    let local = endpoint
        .as_deref()
        .is_some_and(|e| e.contains("127.0.0.1") || e.contains("localhost"));
    if local && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "check-table",
            ));
    }
    let client = Client::new(&loader.load().await);
    let place = endpoint.as_deref().unwrap_or("AWS");
    eprintln!("check-table: scanning {table} at {place}");
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = match client
            .scan()
            .table_name(&table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) => {
                eprintln!(
                    "check-table: scanning {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                );
                return ExitCode::from(2);
            }
        };
        items.extend(page.items().iter().cloned());
        eprintln!("check-table: {} items read", items.len());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let report = invariants::check(&items);
    println!("table {table}: {} items", items.len());
    for (entity, count) in &report.entities {
        println!("  {entity:<18} {count}");
    }
    for violation in &report.violations {
        println!("VIOLATION {violation}");
    }
    println!("{} violations", report.violations.len());
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

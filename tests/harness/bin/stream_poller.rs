//! `stream-poller`: Lambda's event source mapping for `make run`. Reads the local table's
//! stream (the real Streams client against the local server), keeps the records the
//! template's filter lets through, and hands each batch to the table-stream function the
//! way Lambda does: `cargo lambda invoke table-stream` against `cargo lambda watch`, with
//! the event Lambda sends. A batch that reports failures is delivered again (3 attempts,
//! as the mapping retries), then written to the failure file, the local failure queue.
//! Restarted, it reads the stream from its start: the jobs are idempotent.
//!
//! `stream-poller --endpoint URL --table NAME --invoke-port PORT --failures FILE`

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crm_tests::stream::{lambda_event, passes_filter, StreamReader};

struct Args {
    endpoint: String,
    table: String,
    port: String,
    failures: PathBuf,
}

fn args() -> Args {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        endpoint: "http://127.0.0.1:8000".into(),
        table: "crm-local".into(),
        port: "9000".into(),
        failures: PathBuf::from(".local/stream-failures.jsonl"),
    };
    while let (Some(flag), Some(value)) = (args.next(), args.next()) {
        match flag.as_str() {
            "--endpoint" => parsed.endpoint = value,
            "--table" => parsed.table = value,
            "--invoke-port" => parsed.port = value,
            "--failures" => parsed.failures = value.into(),
            other => {
                eprintln!("stream-poller: unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    parsed
}

/// One delivery: the function's answer, or why there was none.
fn invoke(args: &Args, event: &serde_json::Value) -> Result<serde_json::Value, String> {
    let file = std::env::temp_dir().join(format!("stream-event-{}.json", std::process::id()));
    std::fs::write(&file, event.to_string()).map_err(|e| e.to_string())?;
    let output = Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "table-stream",
            "--output-format",
            "json",
        ])
        .args(["--invoke-address", "127.0.0.1", "--invoke-port", &args.port])
        .arg("--data-file")
        .arg(&file)
        .output()
        .map_err(|e| format!("cargo lambda invoke: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("the answer: {e}"))
}

#[tokio::main]
async fn main() {
    let args = args();
    let sdk = crm_tests::sdk_config(&args.endpoint).await;
    let mut reader = StreamReader::new(aws_sdk_dynamodbstreams::Client::new(&sdk), &args.table);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let records = match reader.read().await {
            Ok(records) => records,
            Err(e) => {
                eprintln!("stream-poller: reading the stream: {e}");
                continue;
            }
        };
        let records: Vec<_> = records.into_iter().filter(passes_filter).collect();
        if records.is_empty() {
            continue;
        }
        let event = lambda_event(&records, &args.table);
        let mut outcome = Err(String::new());
        for attempt in 1..=3 {
            outcome = invoke(&args, &event).and_then(|answer| {
                match answer["batchItemFailures"].as_array() {
                    Some(failed) if !failed.is_empty() => Err(format!("failures: {answer}")),
                    _ => Ok(()),
                }
            });
            if outcome.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(attempt)).await;
        }
        match outcome {
            Ok(()) => println!("table-stream: {} record(s) handled", records.len()),
            Err(why) => {
                eprintln!(
                    "table-stream: gave up on a batch ({why}); kept in {}",
                    args.failures.display()
                );
                let line = serde_json::json!({"error": why, "event": event});
                let mut kept = std::fs::read_to_string(&args.failures).unwrap_or_default();
                kept.push_str(&format!("{line}\n"));
                if let Err(e) = std::fs::write(&args.failures, kept) {
                    eprintln!("stream-poller: writing {}: {e}", args.failures.display());
                }
            }
        }
    }
}

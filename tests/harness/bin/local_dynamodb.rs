//! The local DynamoDB for `make run`.
//!
//! `local-dynamodb serve --port 8000 --data .local/dynamodb.sqlite --table crm-local`:
//! dynoxide on a file (so data outlives restarts), the table created if missing; prints
//! `ready <url>` once requests can be sent, and stops on Ctrl-C or SIGTERM.
//!
//! `local-dynamodb ensure-table --endpoint <url> --table <name>`: only creates the table on
//! another server (DynamoDB Local, LocalStack) when it is missing.
//!
//! `local-dynamodb mail --port 8025 --dir .local/mail`: the local SES (`SendEmail` of API
//! v2, `crm_tests::mailbox`): each message an `.eml` file in the folder and a line on
//! standard output; prints `ready <url>` first.
//!
//! `local-dynamodb secrets --port 8026 --secret crm-token-signing=.local/token-secret`: the
//! local Secrets Manager (`GetSecretValue`, `crm_tests::secrets`), each secret's string read
//! from its file at start; prints `ready <url>` first.

use std::process::ExitCode;

use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::Client;

const USAGE: &str = "usage:\n  local-dynamodb serve --port <port> --data <file> --table <name>\n  local-dynamodb ensure-table --endpoint <url> --table <name>\n  local-dynamodb mail --port <port> --dir <folder>\n  local-dynamodb secrets --port <port> --secret <name>=<file>...";

fn option(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match (args.first().map(String::as_str), option(&args, "--table")) {
        (Some("serve"), Some(table)) => {
            let port = option(&args, "--port").unwrap_or_else(|| "8000".into());
            let data = option(&args, "--data").unwrap_or_else(|| ".local/dynamodb.sqlite".into());
            serve(&port, &data, &table).await
        }
        (Some("mail"), _) => {
            let port = option(&args, "--port").unwrap_or_else(|| "8025".into());
            let dir = option(&args, "--dir").unwrap_or_else(|| ".local/mail".into());
            mail(&port, &dir).await
        }
        (Some("secrets"), _) => {
            let port = option(&args, "--port").unwrap_or_else(|| "8026".into());
            secrets(&port, &args).await
        }
        (Some("ensure-table"), Some(table)) => match option(&args, "--endpoint") {
            Some(endpoint) => ensure_table(&endpoint, &table).await,
            None => Err(USAGE.into()),
        },
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-dynamodb: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn serve(port: &str, data: &str, table: &str) -> Result<(), Error> {
    if let Some(dir) = std::path::Path::new(data).parent() {
        std::fs::create_dir_all(dir)?;
    }
    drop(dynoxide::Database::new(data)?);
    index_stream_records(data)?;
    let db = dynoxide::Database::new(data)?;
    // A developer's table, not a system of record: commits are not synced to disk (the
    // write-ahead log keeps the file whole if this process dies; a power cut may lose the
    // last writes), and the page cache is 64 MB instead of 2. An import of 10,000 customers
    // writes about 500 MB here.
    db.enable_bulk_loading()?;
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(dynoxide::server::serve_with_shutdown(
        listener,
        db,
        shutdown(),
    ));
    ensure_table(&url, table).await?;
    println!("ready {url} table={table} data={data}");
    server.await??;
    Ok(())
}

async fn secrets(port: &str, args: &[String]) -> Result<(), Error> {
    let mut secrets = std::collections::HashMap::new();
    for pair in args
        .windows(2)
        .filter(|w| w[0] == "--secret")
        .map(|w| &w[1])
    {
        let (name, file) = pair.split_once('=').ok_or(USAGE)?;
        let value = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        secrets.insert(name.to_owned(), value.trim().to_owned());
    }
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "ready http://{} secrets={}",
        listener.local_addr()?,
        secrets.len()
    );
    tokio::select! {
        () = crm_tests::secrets::serve(listener, secrets) => {}
        () = shutdown() => {}
    }
    Ok(())
}

async fn mail(port: &str, dir: &str) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("ready http://{} mail={dir}", listener.local_addr()?);
    tokio::select! {
        () = crm_tests::mailbox::serve(listener, dir.into(), true) => {}
        () = shutdown() => {}
    }
    Ok(())
}

/// dynoxide keeps a table's stream in one SQLite table without an index, and finds the next
/// sequence number (every write), a shard's range (every `DescribeStream`) and a page of
/// records (every `GetRecords`) by reading all of it: a long-lived `make run` table slows
/// down with every write (an import of 2,000 customers fell to 3 rows a second). These
/// indexes on the very expressions its queries use make each a lookup. Created between two
/// opens of the file, by the SQLite dynoxide itself links.
fn index_stream_records(data: &str) -> Result<(), Error> {
    let connection = rusqlite::Connection::open(data)?;
    connection.execute_batch(
        "CREATE INDEX IF NOT EXISTS crm_stream_records_by_table
             ON _stream_records (table_name, CAST(sequence_number AS INTEGER));
         CREATE INDEX IF NOT EXISTS crm_stream_records_by_shard
             ON _stream_records (table_name, shard_id, CAST(sequence_number AS INTEGER));",
    )?;
    Ok(())
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn ensure_table(endpoint: &str, table: &str) -> Result<(), Error> {
    let client = Client::new(&crm_tests::sdk_config(endpoint).await);
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(DescribeTableError::ResourceNotFoundException(_))
            ) =>
        {
            crm_tests::create_table(&client, table).await
        }
        Err(e) => Err(aws_sdk_dynamodb::error::DisplayErrorContext(e)
            .to_string()
            .into()),
    }
}

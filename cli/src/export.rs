//! `crm export --org ORG [filters] [-o FILE]`: every matching customer as CSV, in the
//! columns `crm import` reads back (so an export imported into another organization
//! reproduces the customers), paging through the list 100 at a time.

use std::io::Write;
use std::path::PathBuf;

use crate::api::Client;
use crate::columns::{exported, EXPORTED};
use crate::progress::Progress;
use crate::{Failure, Outcome};

#[derive(clap::Args)]
pub struct Options {
    /// The organization's id.
    #[arg(long)]
    org: String,
    /// Only customers matching every word (a prefix of a word of their name, email, phone…).
    #[arg(long)]
    q: Option<String>,
    /// active, inactive, prospect or vip.
    #[arg(long)]
    status: Option<String>,
    /// individual or business.
    #[arg(long)]
    customer_type: Option<String>,
    /// me, none, or a member's user id.
    #[arg(long)]
    owner: Option<String>,
    /// One tag.
    #[arg(long)]
    tag: Option<String>,
    /// The file to write (standard output when left out); written whole or not at all.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The list's query string: the organization, a full page, and the filters asked for.
fn list_query(options: &Options) -> String {
    let mut query = format!("organization={}&limit=100", encode(&options.org));
    for (name, value) in [
        ("q", &options.q),
        ("status", &options.status),
        ("customer_type", &options.customer_type),
        ("owner", &options.owner),
        ("tag", &options.tag),
    ] {
        if let Some(value) = value {
            query.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    query
}

pub fn run(options: &Options) -> Result<Outcome, Failure> {
    let client = Client::logged_in()?;
    let query = list_query(options);
    let temporary = options
        .output
        .as_ref()
        .map(|path| path.with_extension("partial"));
    let sink: Box<dyn Write> = match &temporary {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(Failure::io(format!("writing {}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = csv::Writer::from_writer(sink);
    let failed = |e: csv::Error| Failure::msg(format!("writing the CSV: {e}"));
    writer.write_record(EXPORTED).map_err(failed)?;
    let mut progress = Progress::new("customers", None);
    let mut cursor: Option<String> = None;
    let mut count = 0_u64;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/customers?{query}&cursor={}", encode(c)),
            None => format!("/api/customers?{query}"),
        };
        let answer = client.call("GET", &path, None, None)?;
        if answer.status != 200 {
            return Err(answer.failure("exporting"));
        }
        let customers = answer.body["customers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for customer in &customers {
            writer.write_record(exported(customer)).map_err(failed)?;
        }
        count += customers.len() as u64;
        progress.advance(customers.len() as u64);
        cursor = answer.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    writer.flush().map_err(Failure::io("writing the CSV"))?;
    drop(writer);
    let elapsed = progress.finish();
    if let (Some(temporary), Some(output)) = (&temporary, &options.output) {
        std::fs::rename(temporary, output)
            .map_err(Failure::io(format!("writing {}", output.display())))?;
    }
    eprintln!(
        "exported {count} customers in {:.1} s",
        elapsed.as_secs_f64()
    );
    Ok(Outcome::Done)
}

//! `crm import FILE --org ORG`: every row upserted by email, 100 rows a request, a few
//! requests at once. Each answered batch is appended to a journal before the next is
//! counted, so an interrupted import (Ctrl-C, a crash, the network gone) run again sends
//! only what is left; a batch whose answer was lost is sent again under the same
//! `Idempotency-Key` and answered as the first time. Rows are upserted by email, so even a
//! journal lost with the machine cannot make a duplicate.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use crm_domain::{sha256_hex, CustomerUpsert, FieldErrors, OrgId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::api::Client;
use crate::columns::{parse_map, Mapping};
use crate::progress::Progress;
use crate::{config_dir, Failure, Outcome};

const BATCH_ROWS: usize = 100;

/// Each record, with the line it starts on.
type Records = Vec<(u64, csv::StringRecord)>;
/// Passes over rows the API answered `retry` (busy, or held by other writers).
const ROUNDS: u32 = 6;

#[derive(clap::Args)]
pub struct Options {
    /// A CSV file with a header row (UTF-8, with or without a byte-order mark).
    file: PathBuf,
    /// The organization's id.
    #[arg(long)]
    org: String,
    /// Names a column's field (`--map "Mail=email"`), or leaves it out (`--map "Notes="`).
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Check every row here, with the API's own rules, and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    jobs: u16,
    /// Where the refused rows go (default: FILE's name with `.refused.csv`).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Forget an unfinished import of this file and start over.
    #[arg(long)]
    restart: bool,
}

/// A row's result, as the journal keeps it and the report shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Done {
    line: u64,
    status: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    errors: BTreeMap<String, String>,
}

struct Row {
    line: u64,
    fields: Map<String, Value>,
}

pub fn run(options: &Options) -> Result<Outcome, Failure> {
    let org = OrgId::parse(&options.org)
        .map_err(|_| Failure::msg(format!("--org {}: not an organization id", options.org)))?;
    let bytes = std::fs::read(&options.file)
        .map_err(Failure::io(format!("reading {}", options.file.display())))?;
    let (headers, records) = read_csv(&options.file, &bytes)?;
    let mapping = Mapping::of(&headers, &parse_map(&options.map)?)?;
    if !mapping.ignored.is_empty() {
        eprintln!("leaving out the columns {}", mapping.ignored.join(", "));
    }
    let (rows, refused) = check(org, &mapping, &records);
    let report = options
        .report
        .clone()
        .unwrap_or_else(|| refused_path(&options.file));
    if options.dry_run {
        println!(
            "{} rows would be sent, {} refused (nothing was sent)",
            rows.len(),
            refused.len()
        );
        return finish_report(&report, &headers, &records, &refused);
    }
    let client = Client::logged_in()?;
    let journal = Journal::open(org, &bytes, &options.map, options.restart)?;
    let started = std::time::Instant::now();
    let mut progress = Progress::new("rows", Some(records.len() as u64));
    progress.advance(refused.len() as u64);
    let done = send_rows(&client, org, &journal, &rows, options.jobs, &mut progress)?;
    progress.finish();
    let (counts, refused) = tally(&rows, &done, refused);
    let summary: Vec<String> = STATUSES
        .iter()
        .map(|s| format!("{s} {}", counts.get(s).copied().unwrap_or(0)))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} · {} rows in {seconds:.1} s ({:.0} rows/s)",
        summary.join(" · "),
        records.len(),
        records.len() as f64 / seconds.max(0.001)
    );
    journal.remove();
    finish_report(&report, &headers, &records, &refused)
}

/// Every row's result: what the journal says was done before, then what the API answers,
/// pass after pass over the rows still to send (those it answered `retry`), pausing longer
/// before each.
fn send_rows(
    client: &Client,
    org: OrgId,
    journal: &Journal,
    rows: &[Row],
    jobs: u16,
    progress: &mut Progress,
) -> Result<HashMap<u64, Done>, Failure> {
    let mut done: HashMap<u64, Done> = journal.done.iter().map(|d| (d.line, d.clone())).collect();
    if !done.is_empty() {
        eprintln!("resuming: {} rows were done before", done.len());
    }
    progress.advance(done.len() as u64);
    for round in 0..ROUNDS {
        let pending: Vec<&Row> = rows
            .iter()
            .filter(|r| done.get(&r.line).is_none_or(|d| d.status == "retry"))
            .collect();
        if pending.is_empty() {
            break;
        }
        if round > 0 {
            std::thread::sleep(Duration::from_secs(u64::from(round)));
        }
        for row in send_all(client, org, journal, &pending, jobs, progress)? {
            done.insert(row.line, row);
        }
    }
    Ok(done)
}

const STATUSES: [&str; 6] = [
    "created",
    "updated",
    "unchanged",
    "invalid",
    "conflict",
    "retry",
];

/// Counts per status, and every refused row: refused here, refused by the API, or still to
/// be retried after every pass.
fn tally(
    rows: &[Row],
    done: &HashMap<u64, Done>,
    mut refused: Vec<Done>,
) -> (BTreeMap<&'static str, usize>, Vec<Done>) {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    *counts.entry("invalid").or_default() += refused.len();
    for row in rows {
        let result = done.get(&row.line).cloned().unwrap_or_else(|| Done {
            line: row.line,
            status: "retry".to_owned(),
            errors: BTreeMap::from([("customer".to_owned(), "not sent".to_owned())]),
        });
        let status = STATUSES
            .into_iter()
            .find(|s| *s == result.status)
            .unwrap_or("retry");
        if matches!(status, "invalid" | "conflict" | "retry") {
            refused.push(result);
        }
        *counts.entry(status).or_default() += 1;
    }
    (counts, refused)
}

/// The header and every record, with the line each starts on. A quoted field may hold
/// commas and line breaks; lines may end in CRLF.
fn read_csv(file: &Path, bytes: &[u8]) -> Result<(Vec<String>, Records), Failure> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Err(Failure::msg(format!(
            "{}: not UTF-8 text (line {line}); save it as CSV UTF-8",
            file.display()
        )));
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let not_csv = |e: csv::Error| {
        Failure::msg(format!(
            "{}: not a CSV file this can read: {e}",
            file.display()
        ))
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(not_csv)?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(not_csv)?;
        let start = record.position().map_or(0, |p| p.byte() as usize);
        // A record's position may be the last byte of the line before (the `\n` of a CRLF).
        let before = &bytes[..(start + 1).min(bytes.len())];
        let line = 1 + before.iter().filter(|b| **b == b'\n').count() as u64;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        records.push((line, record));
    }
    if records.is_empty() {
        return Err(Failure::msg(format!(
            "{}: no rows under the header",
            file.display()
        )));
    }
    Ok((headers, records))
}

/// Every row checked with the API's own parsers; a second row with an email is refused, as
/// a batch refuses it, wherever in the file it is.
fn check(
    org: OrgId,
    mapping: &Mapping,
    records: &[(u64, csv::StringRecord)],
) -> (Vec<Row>, Vec<Done>) {
    let mut rows = Vec::new();
    let mut refused = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for (line, record) in records {
        let fields = mapping.row(record);
        let invalid = |errors: FieldErrors| Done {
            line: *line,
            status: "invalid".to_owned(),
            errors,
        };
        match CustomerUpsert::from_fields(org, fields.clone()) {
            Err(errors) => refused.push(invalid(errors)),
            Ok(row) => match first_line.get(&row.form.email.normalized()) {
                Some(first) => refused.push(invalid(FieldErrors::from([(
                    "email".to_owned(),
                    format!("is the email of line {first}"),
                )]))),
                None => {
                    first_line.insert(row.form.email.normalized(), *line);
                    rows.push(Row {
                        line: *line,
                        fields,
                    });
                }
            },
        }
    }
    (rows, refused)
}

/// Sends `pending` in batches, `jobs` at a time; every answered batch is journaled. Stops at
/// the first batch that fails, with what was answered before it kept.
fn send_all(
    client: &Client,
    org: OrgId,
    journal: &Journal,
    pending: &[&Row],
    jobs: u16,
    progress: &mut Progress,
) -> Result<Vec<Done>, Failure> {
    let batches: VecDeque<&[&Row]> = pending.chunks(BATCH_ROWS).collect();
    let queue = Mutex::new(batches);
    let stop = AtomicBool::new(false);
    let (sender, answers) = mpsc::channel::<Result<Vec<Done>, Failure>>();
    let mut answered = Vec::new();
    let mut failure = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (queue, stop, sender) = (&queue, &stop, sender.clone());
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Some(batch) = queue.lock().expect("lock").pop_front() else {
                    return;
                };
                let result = send_batch(client, org, &journal.run, batch);
                if sender.send(result).is_err() {
                    return;
                }
            });
        }
        drop(sender);
        for result in answers {
            match result {
                Ok(rows) => {
                    if let Err(e) = journal.append(&rows) {
                        stop.store(true, Ordering::Relaxed);
                        failure.get_or_insert(e);
                        continue;
                    }
                    let finished = rows.iter().filter(|r| r.status != "retry").count();
                    progress.advance(finished as u64);
                    answered.extend(rows);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(e);
                }
            }
        }
    });
    match failure {
        Some(e) => Err(Failure::msg(format!(
            "{e}\nthe import stopped; what was answered is kept: run the same command again to finish it"
        ))),
        None => Ok(answered),
    }
}

/// One batch, under a key made of the run and its rows: sent again after a lost answer, it
/// is answered as the first time.
fn send_batch(
    client: &Client,
    org: OrgId,
    run: &str,
    batch: &[&Row],
) -> Result<Vec<Done>, Failure> {
    let lines: Vec<String> = batch.iter().map(|r| r.line.to_string()).collect();
    let key = format!(
        "crm-import-{}",
        &sha256_hex(format!("{run}:{}", lines.join(",")).as_bytes())[..40]
    );
    let customers: Vec<Value> = batch
        .iter()
        .map(|r| Value::Object(r.fields.clone()))
        .collect();
    let body = json!({"organization": org.to_string(), "customers": customers});
    let answer = client.call("POST", "/api/customers/batch", Some(&body), Some(&key))?;
    if answer.status != 200 {
        return Err(answer.failure("importing"));
    }
    let results = answer.body["results"]
        .as_array()
        .filter(|results| results.len() == batch.len())
        .ok_or_else(|| Failure::msg("the API answered a batch without a result for each row"))?;
    Ok(batch
        .iter()
        .zip(results)
        .map(|(row, result)| Done {
            line: row.line,
            status: result["status"].as_str().unwrap_or("retry").to_owned(),
            errors: serde_json::from_value(result["errors"].clone()).unwrap_or_default(),
        })
        .collect())
}

/// What an unfinished import of one file into one organization has done: one JSON line per
/// answered batch, after a first line naming the run.
struct Journal {
    path: PathBuf,
    run: String,
    done: Vec<Done>,
}

impl Journal {
    fn open(org: OrgId, file: &[u8], map: &[String], restart: bool) -> Result<Self, Failure> {
        let id = sha256_hex(format!("{org}\n{}\n{}", map.join("\n"), sha256_hex(file)).as_bytes());
        let dir = config_dir()?.join("imports");
        std::fs::create_dir_all(&dir)
            .map_err(Failure::io(format!("creating {}", dir.display())))?;
        let path = dir.join(format!("{}.jsonl", &id[..32]));
        if !restart {
            if let Ok(file) = std::fs::File::open(&path) {
                let mut lines = std::io::BufReader::new(file).lines().map_while(Result::ok);
                if let Some(run) = lines.next() {
                    // A line cut short by a crash is not an answer.
                    let done = lines
                        .filter_map(|line| serde_json::from_str::<Vec<Done>>(&line).ok())
                        .flatten()
                        .filter(|d| d.status != "retry")
                        .collect();
                    return Ok(Self { path, run, done });
                }
            }
        }
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| Failure::msg(format!("no random source: {e}")))?;
        let run = crm_domain::hex(&nonce);
        std::fs::write(&path, format!("{run}\n"))
            .map_err(Failure::io(format!("writing {}", path.display())))?;
        Ok(Self {
            path,
            run,
            done: Vec::new(),
        })
    }

    fn append(&self, rows: &[Done]) -> Result<(), Failure> {
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new().append(true).open(&self.path)?;
            let mut line = serde_json::to_vec(rows).expect("results serialize");
            line.push(b'\n');
            file.write_all(&line)?;
            file.sync_data()
        };
        write().map_err(Failure::io(format!("writing {}", self.path.display())))
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn refused_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!("{stem}.refused.csv"))
}

/// The refused rows, with their lines and reasons, beside their cells as they were.
fn finish_report(
    report: &Path,
    headers: &[String],
    records: &[(u64, csv::StringRecord)],
    refused: &[Done],
) -> Result<Outcome, Failure> {
    let mut unique: Vec<&Done> = Vec::new();
    let mut seen = HashSet::new();
    for d in refused {
        if seen.insert(d.line) {
            unique.push(d);
        }
    }
    if unique.is_empty() {
        let _ = std::fs::remove_file(report);
        return Ok(Outcome::Done);
    }
    unique.sort_by_key(|d| d.line);
    let cells: HashMap<u64, &csv::StringRecord> = records.iter().map(|(l, r)| (*l, r)).collect();
    let failed = Failure::io(format!("writing {}", report.display()));
    let write = || -> Result<(), csv::Error> {
        let mut writer = csv::Writer::from_path(report)?;
        let mut header = vec!["line".to_owned(), "status".to_owned(), "reason".to_owned()];
        header.extend(headers.iter().cloned());
        writer.write_record(&header)?;
        for d in &unique {
            let reason: Vec<String> = d.errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            let mut row = vec![d.line.to_string(), d.status.clone(), reason.join("; ")];
            if let Some(record) = cells.get(&d.line) {
                row.extend(record.iter().map(str::to_owned));
            }
            row.resize(header.len(), String::new());
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    };
    write().map_err(|e| failed(std::io::Error::other(e)))?;
    eprintln!("{} rows refused: see {}", unique.len(), report.display());
    Ok(Outcome::Partial)
}

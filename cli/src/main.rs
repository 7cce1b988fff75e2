//! `crm`: log in to a CRM API, import customers from CSV, export them to CSV.
//!
//! Exit codes: 0 success; 1 failure (nothing or not everything could be done: a wrong
//! password, an unreachable API, a file that is not CSV); 2 a usage error; 3 partial
//! success (the job ran to its end, and some rows were refused: see the report).

mod api;
mod columns;
mod export;
mod import;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "crm",
    version,
    about = "Import and export a CRM's customers as CSV"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log in and keep the session (a refresh token, readable by you alone) in the
    /// platform's config directory.
    Login {
        /// The API's base URL, as `make run` prints it or the stack's ApiUrl output.
        #[arg(long, env = "CRM_API")]
        api: String,
        /// Your username or email (asked for when left out).
        #[arg(long, env = "CRM_USERNAME")]
        username: Option<String>,
    },
    /// Forget the session kept by `crm login`.
    Logout,
    /// Upsert every row of a CSV file into an organization by email. Interrupted, the same
    /// command again finishes the job.
    Import(import::Options),
    /// Write an organization's customers (all, or those matching filters) as CSV.
    Export(export::Options),
}

/// What went wrong, in one line.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Message(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl Failure {
    pub fn msg(text: impl Into<String>) -> Self {
        Self::Message(text.into())
    }

    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// How a finished job went.
pub enum Outcome {
    Done,
    /// Some rows were refused.
    Partial,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Login { api, username } => api::login(&api, username).map(|()| Outcome::Done),
        Command::Logout => api::logout().map(|()| Outcome::Done),
        Command::Import(options) => import::run(&options),
        Command::Export(options) => export::run(&options),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(failure) => {
            eprintln!("crm: error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Where `crm` keeps its session and its unfinished imports: `CRM_CONFIG_DIR` when set,
/// else the platform's config directory (`~/.config/crm` on Linux).
pub fn config_dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("CRM_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|dir| dir.join("crm"))
        .ok_or_else(|| Failure::msg("no config directory: set CRM_CONFIG_DIR"))
}

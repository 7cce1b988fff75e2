//! JSON logs, one object a line, as CloudWatch Logs Insights reads them.

use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;

/// `RUST_LOG` sets the level (`error`, `warn`, `info`, `debug`, `trace`); the default, and
/// the answer to anything else, is `info`. A level, not a directive list: the filter that
/// parses directives brings a regex engine into every bootstrap.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|raw| LevelFilter::from_str(raw.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_target(false)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .init();
}

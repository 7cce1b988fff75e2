//! JSON logs, one object a line, as CloudWatch Logs Insights reads them.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` sets the filter; the default is `info`.
pub fn init() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .init();
}

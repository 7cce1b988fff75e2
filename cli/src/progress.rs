//! Progress on a terminal (a bar with rows per second and the time left), plain lines at
//! most every two seconds elsewhere, on standard error either way.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// Counts `what` (rows, customers) up to `total` when known.
    pub fn new(what: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(total) => {
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                }
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = match total {
                Some(_) => "{bar:30} {pos}/{len} {msg} · {per_sec} · {eta} left",
                None => "{spinner} {pos} {msg} · {per_sec}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_message(what);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            what,
            total,
            done: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn advance(&mut self, by: u64) {
        self.done += by;
        match &self.bar {
            Some(bar) => bar.inc(by),
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                self.last_line = Instant::now();
                eprintln!("{}", self.line());
            }
            None => {}
        }
    }

    fn line(&self) -> String {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        match self.total {
            Some(total) => format!("{}/{total} {} ({rate:.0}/s)", self.done, self.what),
            None => format!("{} {} ({rate:.0}/s)", self.done, self.what),
        }
    }

    pub fn finish(self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}

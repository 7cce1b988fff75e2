//! The documents that restate code, checked against it so that they cannot drift:
//! - the README's first session is the start of `scripts/walkthrough.sh`, which CI runs;
//! - `docs/routes.md`'s map of functions and routes is `shared::http::ROUTES`.
//!
//! Each region sits between `<!-- BEGIN <name> -->` and `<!-- END <name> -->`. A test that
//! fails prints the text it expected; `UPDATE_DOCS=1 cargo test -p crm-tests --test docs`
//! writes it in.

use std::path::{Path, PathBuf};

use shared::http::{Function, ROUTES};

fn repo(file: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(file)
}

fn read(file: &str) -> String {
    let path = repo(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks (or, with `UPDATE_DOCS=1`, rewrites) the region `name` of `file`.
fn check_region(file: &str, name: &str, expected: &str) {
    let text = read(file);
    let (begin, end) = (
        format!("<!-- BEGIN {name} -->\n"),
        format!("<!-- END {name} -->"),
    );
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{file} has no `{}` line", begin.trim()))
        + begin.len();
    let stop = start
        + text[start..]
            .find(&end)
            .unwrap_or_else(|| panic!("{file} has no `{end}` line"));
    if text[start..stop] == *expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{expected}{}", &text[..start], &text[stop..]);
        std::fs::write(repo(file), updated).unwrap();
        return;
    }
    panic!(
        "{file}'s `{name}` differs from what it restates; run \
         `UPDATE_DOCS=1 cargo test -p crm-tests --test docs`, or put in:\n{expected}"
    );
}

/// The lines of `script` from the one after `from` up to the one before `to`.
fn between<'a>(script: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    script
        .lines()
        .skip_while(|line| *line != from)
        .skip(1)
        .take_while(|line| *line != to)
        .collect()
}

/// The README's first session: the script's helper and its first part, with the API at
/// `make run`'s address.
fn first_session(script: &str) -> String {
    let mut lines = vec!["API=http://127.0.0.1:9000"];
    lines.extend(script.lines().filter(|line| line.starts_with("json() ")));
    lines.extend(between(
        script,
        "# ---- walk-through ----",
        "# ---- a team ----",
    ));
    format!("```bash\n{}\n```\n", lines.join("\n"))
}

#[test]
fn the_readme_first_session_is_the_walk_through_script() {
    let script = read("scripts/walkthrough.sh");
    assert!(
        script.contains("\nAPI=${API:-http://127.0.0.1:9000}\n"),
        "the script's API line changed: change first_session too"
    );
    let session = first_session(&script);
    assert!(session.lines().count() > 10, "{session}");
    check_region("README.md", "first-session", &session);
}

/// One row per function: the routes `ROUTES` gives it; the fallback's row says what else it
/// answers.
fn route_map() -> String {
    let mut table =
        String::from("| function | routes (each also with a trailing slash) |\n|---|---|\n");
    for function in Function::ALL {
        let routes: Vec<String> = ROUTES
            .iter()
            .filter(|route| route.function == function)
            .map(|route| format!("`{} {}`", route.method, route.path))
            .collect();
        let cell = if function == Function::Fallback {
            "API Gateway's `$default` route: every path above with a trailing slash, any \
             other method (405 with `Allow`), any other path (404), and CORS preflights"
                .to_owned()
        } else {
            routes.join("<br>")
        };
        table.push_str(&format!("| `{}` | {cell} |\n", function.binary()));
    }
    table
}

#[test]
fn the_route_map_is_the_route_table() {
    let map = route_map();
    for route in ROUTES.iter() {
        assert!(map.contains(&format!("`{} {}`", route.method, route.path)));
    }
    check_region("docs/routes.md", "route-map", &map);
}

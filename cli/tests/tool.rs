//! The `crm` binary against the API served over HTTP on loopback (every route, on a local
//! DynamoDB): a messy CSV, the same file again, an import killed half-way and run again, a
//! dry run, and an export imported into another organization.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use crm_tests::{Member, TestEnv};
use serde_json::Value;
use shared::domain::Role;
use tokio::process::Command;

struct Tool {
    api: String,
    home: PathBuf,
}

impl Tool {
    async fn new(env: &Arc<TestEnv>) -> Self {
        let api = crm_tests::http::serve(env.clone()).await;
        let home = std::env::temp_dir().join(format!("crm-cli-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&home).unwrap();
        Self { api, home }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_crm"));
        command
            .args(args)
            .env("CRM_CONFIG_DIR", self.home.join("config"))
            .env_remove("CRM_API")
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("crm runs")
    }

    async fn login(&self, member: &Member) {
        let username = member.signup["user"]["username"].as_str().unwrap();
        let out = self
            .command(&["login", "--api", &self.api, "--username", username])
            .env("CRM_PASSWORD", "correct horse battery")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn customers(env: &TestEnv, m: &Member, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!(
            "/api/customers?organization={}&limit=100{query}{cursor}",
            m.org
        );
        let (_, page) = env.get_customers(&m.token, &path).await;
        all.extend(page["customers"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

const MESSY: &str = "\u{feff}id,E-mail,First Name,Last Name,Company,Tags,Status\r\n\
1,pat@example.com,Pat,Lee,\"Acme, Inc.\",vip;wholesale,active\r\n\
2,jurgen@example.com,Jürgen,Müller,Müller GmbH,,Prospect\r\n\
3,kai@example.com,Kai,Berg,\"Berg\r\nund Söhne\",,\r\n\
4,PAT@example.com,Dup,,,,\r\n\
5,not-an-email,X,,,,\r\n\
6,existing@example.com,Eve,,,,vip\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messy_file_is_counted_and_reported_and_a_second_run_changes_nothing() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let body =
        serde_json::json!({"organization": m.org, "email": "existing@example.com", "name": "Eve"});
    assert_eq!(env.create_customer(&m.token, &body).await.0, 201);
    let tool = Tool::new(&env).await;
    tool.login(&m).await;
    let file = tool.file("messy.csv", MESSY);
    let path = file.to_str().unwrap();

    let dry = tool
        .run(&["import", path, "--org", &m.org, "--dry-run"])
        .await;
    assert_eq!(dry.status.code(), Some(3), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("3 rows would be sent, 3 refused"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(
        customers(&env, &m, "").await.len(),
        2,
        "a dry run sends nothing"
    );

    let out = tool.run(&["import", path, "--org", &m.org]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "partial: {stdout} {}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("created 2 · updated 1 · unchanged 0 · invalid 3 · conflict 0 · retry 0"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(tool.home.join("messy.refused.csv")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert!(
        lines[0].starts_with("line,status,reason,id,E-mail"),
        "{report}"
    );
    assert!(lines[1].starts_with("4,invalid,company_name: "), "{report}");
    assert!(
        report.contains("6,invalid,email: is the email of line 2"),
        "{report}"
    );
    assert!(report.contains("7,invalid,email: "), "{report}");

    let pat = &customers(&env, &m, "&email=pat@example.com").await[0];
    assert_eq!(pat["company_name"], "Acme, Inc.");
    assert_eq!(pat["tags"], serde_json::json!(["vip", "wholesale"]));
    let found = customers(&env, &m, "&q=muller").await;
    assert_eq!(found.len(), 1, "accents survive: {found:?}");
    assert_eq!(found[0]["status"], "prospect");
    let eve = &customers(&env, &m, "&email=existing@example.com").await[0];
    assert_eq!(eve["status"], "vip");

    let again = tool.run(&["import", path, "--org", &m.org]).await;
    assert!(
        text(&again.stdout).contains("created 0 · updated 0 · unchanged 3 · invalid 3"),
        "{}",
        text(&again.stdout)
    );
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_half_way_and_run_again_makes_each_customer_once() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let tool = Tool::new(&env).await;
    tool.login(&m).await;
    let mut csv = String::from("email,name\n");
    for i in 0..300 {
        csv.push_str(&format!("c{i}@example.com,Customer {i}\n"));
    }
    let file = tool.file("many.csv", &csv);
    let path = file.to_str().unwrap();
    let mut child = tool
        .command(&["import", path, "--org", &m.org, "--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journals = tool.home.join("config").join("imports");
    let answered = |dir: &Path| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                text.lines().count() >= 2
            })
    };
    for _ in 0..2000 {
        if answered(&journals) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap();
    let killed = child.wait().await.unwrap();
    assert!(!killed.success(), "killed before the end");
    let before = customers(&env, &m, "").await.len() - 1;
    assert!(before > 0 && before < 300, "half-way: {before}");

    let out = tool.run(&["import", path, "--org", &m.org]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("resuming"),
        "{}",
        text(&out.stderr)
    );
    let all = customers(&env, &m, "").await;
    assert_eq!(all.len(), 301, "each row once, and the member's own");
    let mut emails: Vec<&str> = all.iter().map(|c| c["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), 301);
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_into_another_organization_reproduces_its_customers() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let other = env.member().await;
    env.join(&m.user, &other.org, Role::Admin).await;
    for (email, tags) in [
        ("a@example.com", "vip"),
        ("b@example.com", "vip;north"),
        ("c@example.com", "south"),
    ] {
        let body = serde_json::json!({
            "organization": m.org, "email": email, "name": format!("Name of {email}"),
            "company_name": "Firm, Ltd", "tags": tags.split(';').collect::<Vec<_>>(),
            "address": {"city": "Köln", "country": "DE"}
        });
        assert_eq!(env.create_customer(&m.token, &body).await.0, 201);
    }
    let tool = Tool::new(&env).await;
    tool.login(&m).await;
    let exported = tool.home.join("vip.csv");
    let out = tool
        .run(&[
            "export",
            "--org",
            &m.org,
            "--tag",
            "vip",
            "-o",
            exported.to_str().unwrap(),
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and two customers: {csv}");

    let out = tool
        .run(&["import", exported.to_str().unwrap(), "--org", &other.org])
        .await;
    assert!(
        out.status.success(),
        "{} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("created 2"),
        "{}",
        text(&out.stdout)
    );
    for email in ["a@example.com", "b@example.com"] {
        let query = format!("&email={email}");
        let (a, b) = (
            &customers(&env, &m, &query).await[0],
            &customers(&env, &other, &query).await[0],
        );
        for field in [
            "name",
            "company_name",
            "tags",
            "address",
            "status",
            "customer_type",
            "code",
        ] {
            assert_eq!(a[field], b[field], "{email} {field}");
        }
    }
    let missing = tool.run(&["export", "--org", "not-an-org"]).await;
    assert_eq!(missing.status.code(), Some(1));
    let message = text(&missing.stderr);
    assert!(
        message.starts_with("crm: error: ") && message.lines().count() == 1,
        "{message}"
    );
    env.assert_invariants().await;
}

//! The API over HTTPS (or HTTP on loopback), the session `crm login` keeps, and retries:
//! 429 and 503 after their `Retry-After`, a dropped connection after a pause; an access
//! token is refreshed when it is about to expire or the API refuses it.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ureq::Agent;

use crate::{config_dir, Failure};

/// Access tokens live 15 minutes; one older than this is refreshed first.
const REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);
/// Tries of a request the API answers 429 or 503 (each after its `Retry-After`).
const TRIES: u32 = 8;
/// Tries of a request the network drops: about four seconds of pauses, so that an API that
/// is not there is said at once, and a blip is ridden out.
const NETWORK_TRIES: u32 = 4;

/// What `crm login` keeps: never the password, never an access token.
#[derive(Serialize, Deserialize)]
struct Saved {
    api: String,
    refresh_token: String,
}

fn session_file() -> Result<PathBuf, Failure> {
    Ok(config_dir()?.join("session.json"))
}

/// The session file, readable and writable by its owner alone, replaced atomically.
fn save(saved: &Saved) -> Result<(), Failure> {
    let path = session_file()?;
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).map_err(Failure::io(format!("creating {}", dir.display())))?;
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = |path: &PathBuf| -> std::io::Result<()> {
        let mut file = options.open(path)?;
        file.write_all(&serde_json::to_vec(saved).expect("a session serializes"))?;
        file.sync_all()
    };
    write(&temporary).map_err(Failure::io(format!("writing {}", temporary.display())))?;
    std::fs::rename(&temporary, &path).map_err(Failure::io(format!("writing {}", path.display())))
}

pub fn login(api: &str, username: Option<String>) -> Result<(), Failure> {
    let api = api.trim_end_matches('/').to_owned();
    let name = match username {
        Some(name) => name,
        None => {
            eprint!("Username or email: ");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(Failure::io("reading the username"))?;
            line.trim().to_owned()
        }
    };
    let password = match std::env::var("CRM_PASSWORD") {
        Ok(password) => password,
        Err(_) => rpassword::prompt_password("Password: ")
            .map_err(Failure::io("reading the password (or set CRM_PASSWORD)"))?,
    };
    let field = if name.contains('@') {
        "email"
    } else {
        "username"
    };
    let client = Client::bare(&api);
    let body = json!({ field: name, "password": password });
    let answer = client.send_once("POST", "/api/auth/login", Some(&body), None)?;
    let tokens = match answer.status {
        200 => answer.body,
        400 | 401 => return Err(Failure::msg("wrong username or password")),
        429 => {
            return Err(Failure::msg(
                "too many failed log-ins: wait a minute and try again",
            ))
        }
        _ => return Err(answer.failure("logging in")),
    };
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .ok_or_else(|| Failure::msg("the API answered a log-in without a refresh token"))?;
    save(&Saved {
        api: api.clone(),
        refresh_token: refresh_token.to_owned(),
    })?;
    eprintln!(
        "Logged in to {api}; the session is kept in {}",
        session_file()?.display()
    );
    Ok(())
}

pub fn logout() -> Result<(), Failure> {
    let path = session_file()?;
    if let Ok(text) = std::fs::read(&path) {
        if let Ok(saved) = serde_json::from_slice::<Saved>(&text) {
            let body = json!({"refresh_token": saved.refresh_token});
            // Ending the session on the server is a courtesy: the file goes either way.
            let _ =
                Client::bare(&saved.api).send_once("POST", "/api/auth/logout", Some(&body), None);
        }
        std::fs::remove_file(&path).map_err(Failure::io(format!("removing {}", path.display())))?;
    }
    eprintln!("Logged out.");
    Ok(())
}

/// An answer: its status, its JSON body (`Null` when none), and `Retry-After` in seconds.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    retry_after: Option<u64>,
}

impl Answer {
    /// The API's own message for an answer the command cannot use.
    pub fn failure(&self, doing: &str) -> Failure {
        let message = self.body["error"]["message"]
            .as_str()
            .unwrap_or("no message");
        let fields = self.body["error"]["fields"]
            .as_object()
            .map(|fields| {
                let named: Vec<String> = fields
                    .iter()
                    .map(|(f, m)| format!("{f} {}", m.as_str().unwrap_or("")))
                    .collect();
                format!(" ({})", named.join("; "))
            })
            .unwrap_or_default();
        Failure::msg(format!(
            "{doing}: the API answered {}: {message}{fields}",
            self.status
        ))
    }
}

struct Access {
    token: String,
    at: Instant,
}

/// The API, logged in.
pub struct Client {
    api: String,
    agent: Agent,
    refresh_token: Mutex<String>,
    access: Mutex<Option<Access>>,
}

impl Client {
    fn bare(api: &str) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Self {
            api: api.trim_end_matches('/').to_owned(),
            agent: config.into(),
            refresh_token: Mutex::new(String::new()),
            access: Mutex::new(None),
        }
    }

    /// The session `crm login` kept, refreshed.
    pub fn logged_in() -> Result<Self, Failure> {
        let path = session_file()?;
        let text = std::fs::read(&path)
            .map_err(|_| Failure::msg("not logged in: run `crm login --api URL` first"))?;
        let saved: Saved = serde_json::from_slice(&text).map_err(|_| {
            Failure::msg(format!(
                "{} is damaged: run `crm login` again",
                path.display()
            ))
        })?;
        let client = Self::bare(&saved.api);
        *client.refresh_token.lock().expect("lock") = saved.refresh_token;
        client.refresh(None)?;
        Ok(client)
    }

    /// A fresh access token (unless another thread got one since `stale` was refused). The
    /// refresh token rotates: the new one is saved before it is used.
    fn refresh(&self, stale: Option<&str>) -> Result<String, Failure> {
        let mut access = self.access.lock().expect("lock");
        if let Some(current) = access.as_ref() {
            if stale != Some(current.token.as_str()) && current.at.elapsed() < REFRESH_AFTER {
                return Ok(current.token.clone());
            }
        }
        let mut refresh_token = self.refresh_token.lock().expect("lock");
        let body = json!({"refresh_token": *refresh_token});
        let answer = self.send_retrying("POST", "/api/auth/refresh", Some(&body), None)?;
        if answer.status != 200 {
            return Err(Failure::msg("the session has ended: run `crm login` again"));
        }
        let (Some(token), Some(next)) = (
            answer.body["access_token"].as_str(),
            answer.body["refresh_token"].as_str(),
        ) else {
            return Err(Failure::msg("the API answered a refresh without tokens"));
        };
        save(&Saved {
            api: self.api.clone(),
            refresh_token: next.to_owned(),
        })?;
        next.clone_into(&mut refresh_token);
        *access = Some(Access {
            token: token.to_owned(),
            at: Instant::now(),
        });
        Ok(token.to_owned())
    }

    /// `method path` as the logged-in user, with an `Idempotency-Key` when given.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Answer, Failure> {
        let token = self.refresh(None)?;
        let headers = |token: &str| vec![("Authorization".to_owned(), format!("Bearer {token}"))];
        let mut extra = headers(&token);
        extra.extend(key.map(|k| ("Idempotency-Key".to_owned(), k.to_owned())));
        let answer = self.send_retrying(method, path, body, Some(&extra))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let token = self.refresh(Some(&token))?;
        let mut extra = headers(&token);
        extra.extend(key.map(|k| ("Idempotency-Key".to_owned(), k.to_owned())));
        self.send_retrying(method, path, body, Some(&extra))
    }

    /// Sends until the API answers something other than 429 or 503, or the network is back.
    fn send_retrying(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: Option<&[(String, String)]>,
    ) -> Result<Answer, Failure> {
        let mut pause = Duration::from_millis(500);
        let (mut busy, mut dropped) = (0, 0);
        loop {
            match self.send_once(method, path, body, headers) {
                Ok(answer) if matches!(answer.status, 429 | 503) && busy + 1 < TRIES => {
                    busy += 1;
                    let wait = answer.retry_after.map_or(pause, Duration::from_secs);
                    std::thread::sleep(wait.min(Duration::from_secs(60)));
                }
                Ok(answer) => return Ok(answer),
                Err(_) if dropped + 1 < NETWORK_TRIES => {
                    dropped += 1;
                    std::thread::sleep(pause);
                }
                Err(failure) => return Err(failure),
            }
            pause = (pause * 2).min(Duration::from_secs(16));
        }
    }

    fn send_once(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: Option<&[(String, String)]>,
    ) -> Result<Answer, Failure> {
        let url = format!("{}{path}", self.api);
        let unreachable =
            |e: ureq::Error| Failure::msg(format!("cannot reach the API at {}: {e}", self.api));
        let mut response = match (method, body) {
            ("GET", _) => {
                let mut request = self.agent.get(&url);
                for (name, value) in headers.unwrap_or_default() {
                    request = request.header(name, value);
                }
                request.call().map_err(unreachable)?
            }
            (_, body) => {
                let mut request = self.agent.post(&url);
                for (name, value) in headers.unwrap_or_default() {
                    request = request.header(name, value);
                }
                request
                    .send_json(body.unwrap_or(&Value::Null))
                    .map_err(unreachable)?
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                Failure::msg(format!(
                    "{} answered {status} with something that is not the API's JSON: is the URL right?",
                    self.api
                ))
            })?
        };
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }
}

//! The integration tests' harness: a DynamoDB-compatible server reached over HTTP with the
//! real SDK, a fresh table per test, a count of the calls a handler makes, and helpers to
//! drive handlers with API Gateway requests.

mod calls;
pub mod cost;
mod front;
pub mod http;
pub mod invariants;
pub mod key;
pub mod mailbox;
pub mod operator;
pub mod secrets;
mod server;
pub mod stream;
mod table;

use std::collections::HashMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use aws_sdk_dynamodb::Client;
use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::app::{dynamodb_config, App};
use shared::auth::{SigningKey, Tokens};
use shared::http::Function;
use shared::store::Store;

pub use calls::CallLog;
pub use front::{Capacity, DynamoFront, Fault, FrontStats};
pub use server::endpoint;
pub use table::create_table;

pub type Item = HashMap<String, AttributeValue>;

/// The secret the signing key of every app the tests build is derived from (as a Secrets
/// Manager secret's string would be).
pub const TEST_SIGNING_SECRET: &str = "test-only signing secret, at least 32 bytes long";

pub fn test_token_config() -> shared::config::TokenConfig {
    shared::config::TokenConfig {
        signing_secret: None,
        lifetime: std::time::Duration::from_secs(900),
        refresh_lifetime: std::time::Duration::from_secs(30 * 24 * 3600),
        issuer: "crm-api".into(),
        audience: "crm-api".into(),
    }
}

pub fn test_signing_key() -> SigningKey {
    SigningKey::from_secret(TEST_SIGNING_SECRET).expect("a valid test secret")
}

/// Tokens as a function that issues them holds them: the test key, and its public half as
/// if just read from the table.
pub fn test_tokens() -> Tokens {
    let tokens = Tokens::new(&test_token_config(), Some(test_signing_key()));
    tokens.learn(
        &[test_signing_key().public().clone()],
        std::time::Instant::now(),
    );
    tokens
}

/// Tokens as a function that only verifies holds them: the test key's public half, as if
/// just read from the table.
pub fn verifying_tokens() -> Tokens {
    let tokens = Tokens::new(&test_token_config(), None);
    tokens.learn(
        &[test_signing_key().public().clone()],
        std::time::Instant::now(),
    );
    tokens
}

/// One test's world: its own table, the app under test (whose calls are counted and pass
/// through a [`DynamoFront`]), and an uncounted client for looking at the table.
pub struct TestEnv {
    /// As a function that issues tokens has it (the test key).
    pub app: App,
    /// The same, as a function that only verifies tokens has it: what [`TestEnv::send`] hands
    /// the routes of such functions, so that one that tried to issue a token would fail.
    pub verifier: App,
    pub calls: CallLog,
    pub front: DynamoFront,
    /// The app's own client: counted, and through the front.
    pub client: Client,
    /// Not counted: for reading the table back.
    pub admin: Client,
    pub table: String,
}

/// SDK settings for a DynamoDB endpoint: the caller's region and credentials when set, else
/// `us-east-1` and the dummy credentials a local server accepts.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(shared::app::https_client())
        .endpoint_url(endpoint)
        .region(Region::new(
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ));
    // A local server takes any credentials; a real account gets the caller's own.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader =
            loader.credentials_provider(Credentials::new("local", "local", None, None, "tests"));
    }
    loader.load().await
}

/// Set (in milliseconds) to run every test on a store that applies DynamoDB's conflict
/// rule; `make test` runs the suite once without and once with it.
pub const CONFLICT_WINDOW_VAR: &str = "CRM_TEST_CONFLICT_WINDOW_MS";

/// The conflict window `CRM_TEST_CONFLICT_WINDOW_MS` asks for, if any.
pub fn conflict_window_from_env() -> Option<std::time::Duration> {
    let raw = std::env::var(CONFLICT_WINDOW_VAR).ok()?;
    let ms: u64 = raw
        .parse()
        .unwrap_or_else(|_| panic!("{CONFLICT_WINDOW_VAR}={raw:?} is not a number of ms"));
    Some(std::time::Duration::from_millis(ms))
}

impl TestEnv {
    /// A fresh table; the conflict rule applies when `CRM_TEST_CONFLICT_WINDOW_MS` is set.
    pub async fn new() -> Self {
        Self::with_conflict_window(conflict_window_from_env()).await
    }

    /// A fresh table behind a front that applies DynamoDB's conflict rule with `window`
    /// (`None`: the plain emulator).
    pub async fn with_conflict_window(window: Option<std::time::Duration>) -> Self {
        Self::build(window, |config| config).await
    }

    /// Like [`TestEnv::new`], with the SDK settings changed by `adjust` (short timeouts, say).
    pub async fn build(
        window: Option<std::time::Duration>,
        adjust: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> Self {
        let sdk = sdk_config(endpoint()).await;
        let admin = Client::new(&sdk);
        let table = format!("crm-test-{}", uuid::Uuid::now_v7().simple());
        create_table(&admin, &table)
            .await
            .unwrap_or_else(|e| panic!("creating {table} at {}: {e}", endpoint()));
        let calls = CallLog::default();
        let front = DynamoFront::wrap(shared::app::https_client(), window);
        let client = Client::from_conf(
            adjust(
                dynamodb_config(aws_sdk_dynamodb::config::Builder::from(&sdk))
                    .interceptor(calls.clone())
                    .http_client(front.clone()),
            )
            .build(),
        );
        // The test key is known to both apps without being published: a test's table holds
        // only what its requests wrote (tests/signing_keys.rs publishes keys).
        let store = Store::new(client.clone(), table.clone());
        Self {
            app: App::new(store.clone(), test_tokens()),
            verifier: App::new(store, verifying_tokens()),
            client,
            calls,
            front,
            admin,
            table,
        }
    }

    /// Stops the app's clock at the system's now and hands it over, for a test to move by
    /// hand: what depends on the time then depends on the test alone.
    pub fn freeze_clock(&mut self) -> shared::domain::Clock {
        let clock = shared::domain::Clock::frozen(shared::domain::Clock::system().now());
        self.app.store = self.app.store.clone().with_clock(clock.clone());
        self.verifier.store = self.app.store.clone();
        clock
    }

    /// Like [`TestEnv::new`], with the SDK's own retries and timeouts shortened so that
    /// exhausting them takes milliseconds (3 attempts, 300 ms each).
    pub async fn impatient() -> Self {
        use aws_sdk_dynamodb::config::retry::RetryConfig;
        use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
        use std::time::Duration;
        Self::build(conflict_window_from_env(), |config| {
            config
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(5)),
                )
                .timeout_config(
                    TimeoutConfig::builder()
                        .operation_attempt_timeout(Duration::from_millis(300))
                        .operation_timeout(Duration::from_secs(3))
                        .build(),
                )
        })
        .await
    }

    /// Panics with every violation when the table breaks an invariant of the data model.
    pub async fn assert_invariants(&self) {
        let report = invariants::check(&self.scan().await);
        assert!(
            report.is_clean(),
            "{} invariant violations:\n{}",
            report.violations.len(),
            report.violations.join("\n")
        );
    }

    /// Every item in the table.
    pub async fn scan(&self) -> Vec<Item> {
        operator::scan(&self.admin, &self.table, |_| {})
            .await
            .expect("scan")
    }

    pub async fn item_count(&self) -> usize {
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .admin
                .scan()
                .table_name(&self.table)
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("count scan");
            count += usize::try_from(page.count()).expect("a count is not negative");
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return count;
            }
        }
    }

    /// The item at `key`, read consistently and uncounted.
    pub async fn get(&self, key: &shared::store::keys::Key) -> Option<Item> {
        self.admin
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Deletes the item under `key` behind the app's back (a table from before some change).
    pub async fn remove(&self, key: &shared::store::keys::Key) {
        self.admin
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .send()
            .await
            .expect("delete item");
    }

    /// Writes `item` as it is, behind the app's back (an item as an older version wrote it).
    pub async fn put(&self, item: Item) {
        self.admin
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .expect("put item");
    }

    /// POST /api/users/ with a JSON body; returns the status and the JSON answer.
    pub async fn signup(&self, body: &Value) -> (StatusCode, Value) {
        let response = shared::http::Function::Signup
            .handle(
                self.app_of(shared::http::Function::Signup),
                post_json("/api/users/", body),
            )
            .await
            .expect("handlers answer every request");
        read(response)
    }

    /// POST /api/customers/ with a JSON body, as the holder of `token`.
    pub async fn create_customer(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let request = with_token(post_json("/api/customers/", body), token);
        let response = shared::http::Function::CreateCustomer
            .handle(self.app_of(shared::http::Function::CreateCustomer), request)
            .await
            .expect("handlers answer every request");
        read(response)
    }

    /// POST /api/customers/batch/ for `organization` with `rows`, as the holder of `token`.
    pub async fn import_customers(
        &self,
        token: &str,
        organization: &str,
        rows: &Value,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({"organization": organization, "customers": rows});
        let request = with_token(post_json("/api/customers/batch/", &body), token);
        let response = shared::http::Function::ChangeCustomer
            .handle(self.app_of(shared::http::Function::ChangeCustomer), request)
            .await
            .expect("handlers answer every request");
        read(response)
    }

    /// POST /api/auth/login/.
    pub async fn login(&self, body: &Value) -> (StatusCode, Value) {
        let response = shared::http::Function::Login
            .handle(
                self.app_of(shared::http::Function::Login),
                post_json("/api/auth/login/", body),
            )
            .await
            .expect("handlers answer every request");
        read(response)
    }

    /// GET on a customers path (`/api/customers/{id}/`, or the list with its query string).
    pub async fn get_customers(&self, token: &str, path_and_query: &str) -> (StatusCode, Value) {
        let request = with_token(get(path_and_query), token);
        let response = shared::http::Function::ReadCustomers
            .handle(self.app_of(shared::http::Function::ReadCustomers), request)
            .await
            .expect("handlers answer every request");
        read(response)
    }

    /// PATCH (with `body`) or DELETE (without) of /api/customers/{id}/, as the holder of
    /// `token`, with extra `headers` (`If-Match`, `Idempotency-Key`). Returns the status, the
    /// JSON answer (`Null` for 204) and the answer's headers.
    pub async fn change_customer(
        &self,
        token: &str,
        id: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value, lambda_http::http::HeaderMap) {
        let (method, content, text) = match body {
            Some(body) => (
                Method::PATCH,
                Some("application/json"),
                Body::Text(body.to_string()),
            ),
            None => (Method::DELETE, None, Body::Empty),
        };
        let mut request = with_token(
            request(method, &format!("/api/customers/{id}/"), content, text),
            token,
        );
        for (name, value) in headers {
            request.headers_mut().insert(
                lambda_http::http::HeaderName::from_bytes(name.as_bytes()).expect("a header"),
                value.parse().expect("a header value"),
            );
        }
        let request = lambda_http::RequestExt::with_path_parameters(
            request,
            HashMap::from([("id".to_owned(), id.to_owned())]),
        );
        let response = shared::http::Function::ChangeCustomer
            .handle(self.app_of(shared::http::Function::ChangeCustomer), request)
            .await
            .expect("handlers answer every request");
        let headers = response.headers().clone();
        if response.status() == StatusCode::NO_CONTENT {
            return (response.status(), Value::Null, headers);
        }
        let (status, body) = read(response);
        (status, body, headers)
    }

    /// Signs a user up (each call with a fresh username and email) and returns the answer.
    pub async fn signed_up_user(&self) -> Value {
        self.signed_up_user_with(&sample_signup()).await
    }

    pub async fn signed_up_user_with(&self, body: &Value) -> Value {
        let (status, answer) = self.signup(body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }
}

/// An app whose DynamoDB endpoint refuses connections: the store is down.
pub async fn app_with_store_down() -> App {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = dead.local_addr().expect("an address").port();
    drop(dead);
    let sdk = sdk_config(&format!("http://127.0.0.1:{port}")).await;
    App::new(
        Store::new(
            Client::from_conf(
                dynamodb_config(aws_sdk_dynamodb::config::Builder::from(&sdk)).build(),
            ),
            "crm-down",
        ),
        test_tokens(),
    )
}

/// A valid sign-up body with a username and email no other call returns.
pub fn sample_signup() -> Value {
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    serde_json::json!({
        "email": format!("jane.{tag}@example.com"),
        "username": format!("jane_{tag}"),
        "first_name": "Jane",
        "last_name": "Doe",
        "password": "correct horse battery",
    })
}

/// `body` with `field` set to `value`, or removed when `value` is `None`.
pub fn edited(body: &Value, field: &str, value: Option<Value>) -> Value {
    let mut body = body.clone();
    match value {
        Some(value) => body[field] = value,
        None => {
            body.as_object_mut().expect("an object").remove(field);
        }
    }
    body
}

/// A signed-up user as the tests use one.
pub struct Member {
    pub user: String,
    pub org: String,
    pub token: String,
    pub signup: Value,
}

impl TestEnv {
    /// A reader of this test's table stream, from its start: what Lambda's poller reads.
    /// A local SES mailbox in a fresh folder (`mailbox`), and a mailer that sends to it as
    /// the table-stream function does.
    pub async fn mailbox(&self) -> (shared::mailer::Mailer, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("crm-mail-{}", uuid::Uuid::now_v7()));
        let url = mailbox::start(&dir).await;
        let from = shared::domain::Email::parse("crm@example.com").expect("an address");
        (
            shared::mailer::Mailer::new(shared::mailer::client_at(&url), from),
            dir,
        )
    }

    /// Asks for a reset of `email`'s password (the route itself) and takes the token from
    /// the link of its mail, read from the outbox before it is sent.
    pub async fn password_reset_token(&self, email: &str) -> String {
        let ask = post_json(
            "/api/auth/password-reset/",
            &serde_json::json!({ "email": email }),
        );
        let (status, answer) = self.send(Function::Login, ask).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        self.outbox_token(email, "password_reset").await
    }

    /// Verifies the email of the user `signup` answered, through the route, with the token
    /// of the link sign-up (or the newest resend) mailed.
    pub async fn verify_email(&self, signup: &Value) {
        let email = signup["user"]["email"].as_str().expect("an email");
        let access = signup["access_token"].as_str().expect("an access token");
        self.verify_email_of(email, access).await;
    }

    /// Verifies `email` as the holder of `access`, with the newest link mailed to it.
    async fn verify_email_of(&self, email: &str, access: &str) {
        let token = self.outbox_token(email, "email_verification").await;
        let verify = post_json(
            "/api/users/me/email/verify/",
            &serde_json::json!({ "token": token }),
        );
        let (status, answer) = self.send(Function::Login, with_token(verify, access)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    }

    /// The token of the link in the newest pending mail of `kind` to `email`, read from the
    /// outbox before it is sent (`password_reset`, `email_verification`).
    pub async fn outbox_token(&self, email: &str, kind: &str) -> String {
        let text = self.outbox_text(email, kind).await;
        let token = text.split("#token=").nth(1).expect("a link with a token");
        token
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// The text of the newest pending mail of `kind` to `email`, read from the outbox.
    pub async fn outbox_text(&self, email: &str, kind: &str) -> String {
        let mut pending: Vec<Item> = Vec::new();
        let mut start = None;
        loop {
            // Filtered by the server: a bench's table holds thousands of other items.
            let page = self
                .admin
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression("#entity = :mail AND #status = :pending AND #kind = :kind")
                .expression_attribute_names("#entity", "entity")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_values(":mail", AttributeValue::S("MAIL".into()))
                .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
                .expression_attribute_values(":kind", AttributeValue::S(kind.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("the outbox scan");
            pending.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        pending.retain(|item| {
            let to = item.get("to").and_then(|v| v.as_s().ok());
            to.is_some_and(|to| to.eq_ignore_ascii_case(email))
        });
        pending.sort_by_key(|item| item["id"].as_s().cloned().unwrap_or_default());
        pending
            .last()
            .and_then(|item| item["text"].as_s().ok())
            .unwrap_or_else(|| panic!("a pending {kind} mail to {email} in the outbox"))
            .clone()
    }

    /// Hands what the stream holds now to the table-stream function (as Lambda does), with
    /// a fresh local mailbox: the messages it sent. Panics on a failed batch.
    pub async fn deliver_mail(&self, reader: &mut stream::StreamReader) -> Vec<mailbox::Received> {
        let (mailer, dir) = self.mailbox().await;
        let event = self.stream_event(reader).await;
        let answer = shared::stream::handle(&self.app, &mailer, event).await;
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
        mailbox::messages(&dir)
    }

    pub async fn stream_reader(&self) -> stream::StreamReader {
        let client = aws_sdk_dynamodbstreams::Client::new(&sdk_config(endpoint()).await);
        stream::StreamReader::new(client, &self.table)
    }

    /// The records written since `reader` last read that the template's filter lets
    /// through, as the event Lambda hands the table-stream function.
    pub async fn stream_event(
        &self,
        reader: &mut stream::StreamReader,
    ) -> aws_lambda_events::event::dynamodb::Event {
        let records: Vec<_> = reader
            .read()
            .await
            .expect("the stream reads")
            .into_iter()
            .filter(stream::passes_filter)
            .collect();
        serde_json::from_value(stream::lambda_event(&records, &self.table))
            .expect("the event Lambda sends")
    }
}

impl TestEnv {
    /// Signs a fresh user up and verifies their email with the link sign-up mailed (read
    /// from the outbox): the user most tests want. Their organization is their own. Tests of
    /// an unverified account use [`Self::signed_up_user`].
    pub async fn member(&self) -> Member {
        let signup = self.signed_up_user().await;
        self.verify_email(&signup).await;
        self.calls.take();
        Self::member_of(signup)
    }

    /// A signed-up user whose email is not verified: for the many owners a test makes who
    /// never accept an invitation (finding the link scans the table's outbox, which grows
    /// with the test).
    pub async fn unverified_member(&self) -> Member {
        let signup = self.signed_up_user().await;
        self.calls.take();
        Self::member_of(signup)
    }

    fn member_of(signup: Value) -> Member {
        Member {
            user: signup["user"]["id"].as_str().expect("user id").to_owned(),
            org: signup["organization"]["id"]
                .as_str()
                .expect("org id")
                .to_owned(),
            token: signup["access_token"].as_str().expect("a token").to_owned(),
            signup,
        }
    }
}

impl TestEnv {
    /// A token claiming `user` is a member of `org` with `role`, whether or not it is stored:
    /// what a token issued before a removal or a demotion says. Customer routes trust it for
    /// its lifetime; writes that grant, change or remove membership do not.
    pub fn token_as_member(&self, user: &str, org: &str, role: shared::domain::Role) -> String {
        let user = shared::domain::UserId::parse(user).expect("a user id");
        let organization = shared::domain::OrgId::parse(org).expect("an org id");
        self.app
            .tokens
            .issue(
                user,
                None,
                &[shared::domain::OrgRole { organization, role }],
            )
            .expect("the test app issues tokens")
            .access_token
    }
}

impl TestEnv {
    /// Makes `user` a member of `org` with `role` the way the API does: they verify their
    /// email if they have not, an owner of `org` invites them (as an admin, when they are to be an owner), they accept, and an owner
    /// makes them owner. Returns an access token carrying their roles now; the calls made
    /// are not counted.
    pub async fn join(&self, user: &str, org: &str, role: shared::domain::Role) -> String {
        use shared::domain::Role;
        let user = shared::domain::UserId::parse(user).expect("a user id");
        let owner = self.token_now(self.an_owner(org).await).await;
        let user_item = self
            .get(&shared::store::keys::Key::user(user))
            .await
            .expect("the user");
        let invited_as = if role == Role::Employee {
            "employee"
        } else {
            "admin"
        };
        let verified = user_item
            .get("email_verified")
            .and_then(|v| v.as_bool().ok());
        if verified != Some(&true) {
            let access = self.token_now(user).await;
            self.verify_email_of(s(&user_item, "email"), &access).await;
        }
        let body = serde_json::json!({"email": s(&user_item, "email"), "role": invited_as});
        let path = format!("/api/organizations/{org}/invitations/");
        let invite = with_token(post_json(&path, &body), &owner);
        let (status, invited) = self.send(Function::Teams, invite).await;
        assert_eq!(status, StatusCode::CREATED, "{invited}");
        let body = serde_json::json!({"token": invited["token"]});
        let accept = with_token(
            post_json("/api/invitations/accept/", &body),
            &self.token_now(user).await,
        );
        let (status, joined) = self.send(Function::Teams, accept).await;
        assert_eq!(status, StatusCode::OK, "{joined}");
        if role == Role::Owner {
            let path = format!("/api/organizations/{org}/members/{user}/");
            let body = Body::Text(serde_json::json!({"role": "owner"}).to_string());
            let promote = request(Method::PATCH, &path, Some("application/json"), body);
            let (status, promoted) = self
                .send(Function::Teams, with_token(promote, &owner))
                .await;
            assert_eq!(status, StatusCode::OK, "{promoted}");
        }
        self.calls.take();
        self.token_now(user).await
    }

    /// An owner of `org`, as its `MEMBER` items say.
    async fn an_owner(&self, org: &str) -> shared::domain::UserId {
        let org = shared::domain::OrgId::parse(org).expect("an org id");
        let (pk, prefix) = shared::store::keys::Key::members_of(org);
        let members = self
            .admin
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .expression_attribute_values(":member", AttributeValue::S(prefix))
            .consistent_read(true)
            .send()
            .await
            .expect("the organization's members");
        let owner = members
            .items()
            .iter()
            .find(|m| s(m, "role") == "owner")
            .expect("an organization has an owner");
        shared::domain::UserId::parse(s(owner, "user_id")).expect("a user id")
    }

    /// An access token for `user` with the roles their user item carries now, as refresh
    /// would issue it.
    pub async fn token_now(&self, user: shared::domain::UserId) -> String {
        let item = self
            .get(&shared::store::keys::Key::user(user))
            .await
            .expect("the user");
        let roles: Vec<shared::domain::OrgRole> =
            serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(item["memberships"].clone())
                .expect("roles");
        let email: shared::domain::Email =
            serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(item["email"].clone())
                .expect("an email");
        self.calls.take();
        self.app
            .tokens
            .issue(user, Some(&email), &roles)
            .expect("the test app issues tokens")
            .access_token
    }
}

impl TestEnv {
    /// Sends `request` to `function`, as API Gateway hands it over; the status and the JSON
    /// answer (`Null` for a 204).
    pub async fn send(&self, function: Function, request: Request) -> (StatusCode, Value) {
        let response = function
            .handle(self.app_of(function), request)
            .await
            .expect("handlers answer every request");
        if response.status() == StatusCode::NO_CONTENT {
            return (response.status(), Value::Null);
        }
        read(response)
    }

    /// The app as `function` has it: holding the signing key or not.
    pub fn app_of(&self, function: Function) -> &App {
        if function.issues_tokens() {
            &self.app
        } else {
            &self.verifier
        }
    }

    /// GET /api/users/me as the holder of `token`.
    pub async fn me(&self, token: &str) -> (StatusCode, Value) {
        let get = request(Method::GET, "/api/users/me", None, Body::Empty);
        self.send(Function::Me, with_token(get, token)).await
    }

    /// Panics unless the table holds exactly `before` items: nothing was written.
    pub async fn assert_untouched(&self, before: usize) {
        assert_eq!(self.item_count().await, before, "nothing is written");
    }
}

pub fn with_header(mut request: Request, name: &'static str, value: &str) -> Request {
    request
        .headers_mut()
        .insert(name, value.parse().expect("a header value"));
    request
}

pub fn with_token(mut request: Request, token: &str) -> Request {
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    request
}

fn query_of(path_and_query: &str) -> HashMap<String, String> {
    let Some((_, query)) = path_and_query.split_once('?') else {
        return HashMap::new();
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn post_json(path: &str, body: &Value) -> Request {
    request(
        Method::POST,
        path,
        Some("application/json"),
        Body::Text(body.to_string()),
    )
}

/// A GET of `path_and_query` as API Gateway hands it over: the query string parsed, and a
/// customer's `{id}` as its route's path parameter.
pub fn get(path_and_query: &str) -> Request {
    let request = lambda_http::http::Request::builder()
        .method(Method::GET)
        .uri(format!("https://api.example.com{path_and_query}"))
        .body(Body::Empty)
        .expect("a valid request");
    let request =
        lambda_http::RequestExt::with_query_string_parameters(request, query_of(path_and_query));
    let path = path_and_query.split('?').next().unwrap_or_default();
    let id = path.trim_end_matches('/').strip_prefix("/api/customers/");
    match id.filter(|id| !id.is_empty()) {
        Some(id) => lambda_http::RequestExt::with_path_parameters(
            request,
            HashMap::from([("id".to_owned(), id.to_owned())]),
        ),
        None => request,
    }
}

pub fn request(method: Method, path: &str, content_type: Option<&str>, body: Body) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body).expect("a valid request")
}

/// The status and JSON body of a response; every response of this API is JSON.
pub fn read(response: Response<Body>) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "every response is JSON"
    );
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("a JSON body"),
        Body::Binary(bytes) => serde_json::from_slice(bytes).expect("a JSON body"),
        _ => Value::Null,
    };
    (status, body)
}

/// An event file from `events/`, parsed by lambda_http exactly as Lambda would hand it over.
pub fn event(name: &str) -> Request {
    lambda_http::request::from_str(&event_json(name).to_string()).expect("an API Gateway event")
}

/// An event file as JSON, for tests that fill in ids before handing it over.
pub fn event_json(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses an event after overwriting fields of its JSON body and, when given, its bearer
/// token: the sample events carry placeholder ids and tokens that a test replaces with ones
/// it created.
pub fn event_with(name: &str, token: Option<&str>, fields: &Value) -> Request {
    let mut event = event_json(name);
    if let Some(token) = token {
        event["headers"]["authorization"] = Value::String(format!("Bearer {token}"));
    }
    let fields = fields.as_object().expect("an object of fields");
    if !fields.is_empty() {
        let mut body: Value = serde_json::from_str(event["body"].as_str().expect("a JSON body"))
            .expect("a JSON body");
        for (field, value) in fields {
            body[field] = value.clone();
        }
        event["body"] = Value::String(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event")
}

/// The string attribute `name` of an item.
pub fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .unwrap_or_else(|| panic!("{name} is not a string attribute"))
}

/// The keys a customer is filed under: its rows (one per order, first), its filter entries
/// and its words.
pub fn customer_index_keys(customer: &shared::domain::Customer) -> Vec<shared::store::keys::Key> {
    use shared::store::keys::Key;
    let org = customer.organization;
    let rows = shared::domain::CustomerOrder::ALL
        .into_iter()
        .map(|order| Key::customer_row(order, customer));
    let facets = customer
        .facets()
        .into_iter()
        .map(|facet| Key::customer_facet(org, &facet, customer.id));
    let words = customer
        .search_words()
        .into_iter()
        .map(|word| Key::customer_word(org, &word, customer.id));
    rows.chain(facets).chain(words).collect()
}

/// The items a customer is filed under beside its record and claims (a row in each order,
/// an entry per filter value and per word), from the customer as the API returned it.
pub fn index_items(customer: &serde_json::Value) -> usize {
    let customer: shared::domain::Customer =
        serde_json::from_value(customer.clone()).expect("the API answers with a customer");
    shared::domain::CustomerOrder::ALL.len()
        + customer.facets().len()
        + customer.search_words().len()
}

//! What the operator tools (`check-table`, `backfill-username-looks`,
//! `backfill-customer-index`) share: a client for the
//! table they are pointed at, and reading it whole.
//!
//! The table is `TABLE_NAME` (default `crm-local`, the `make run` table); the DynamoDB is the
//! standard AWS configuration, so `AWS_ENDPOINT_URL_DYNAMODB` points it at a local server
//! and its absence at AWS itself.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::Client;
use shared::domain::User;
use shared::store::keys::Key;
use shared::store::{report, Entity, LookClaim, Refiled, Store};

use crate::Item;

pub struct Operator {
    pub client: Client,
    pub table: String,
    /// The endpoint, or "AWS".
    pub place: String,
    tool: &'static str,
}

impl Operator {
    pub async fn connect(tool: &'static str) -> Self {
        let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "crm-local".into());
        let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(shared::app::https_client());
        // A local server takes any credentials; AWS gets the caller's own.
        let local = endpoint
            .as_deref()
            .is_some_and(|e| e.contains("127.0.0.1") || e.contains("localhost"));
        if local && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(Credentials::new("local", "local", None, None, tool));
        }
        Self {
            client: Client::new(&loader.load().await),
            table,
            place: endpoint.unwrap_or_else(|| "AWS".into()),
            tool,
        }
    }

    /// Every item, page by page (strongly consistent), with progress on stderr.
    pub async fn scan(&self) -> Result<Vec<Item>, String> {
        scan(&self.client, &self.table, |read| {
            eprintln!("{}: {read} items read", self.tool);
        })
        .await
        .map_err(|e| format!("scanning {} at {}: {e}", self.table, self.place))
    }
}

/// Every item of `table`, strongly consistent, calling `progress` after each page.
pub async fn scan(
    client: &Client,
    table: &str,
    progress: impl Fn(usize),
) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        items.extend(page.items().iter().cloned());
        progress(items.len());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// What the backfill of username looks did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LooksBackfilled {
    /// Users whose look is claimed by them (now, or already).
    pub claimed: usize,
    /// (user, the older user whose name looks the same and holds the look): pairs that
    /// signed up before looks were claimed. Both keep their names; an operator decides.
    pub look_alikes: Vec<(User, shared::domain::UserId)>,
}

/// Claims the look of every user's username among `items`, oldest account first, so that of
/// two look-alike names that both exist, the one taken first keeps the look.
pub async fn backfill_username_looks(
    store: &Store,
    items: &[Item],
) -> Result<LooksBackfilled, String> {
    let mut users = items
        .iter()
        .filter(|item| item.get("entity") == Some(&Entity::User.attribute()))
        .map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item::<User>(item.clone())
                .map_err(|e| format!("an unreadable user ({e}): {:?}", item.get("pk")))
        })
        .collect::<Result<Vec<User>, String>>()?;
    // UUIDv7 ids: in order of sign-up.
    users.sort_by_key(|user| user.id);
    let mut done = LooksBackfilled::default();
    for user in users {
        let claim = store.claim_username_look(&user).await;
        match claim.map_err(|e| format!("claiming {}'s look: {}", user.id, report(&e)))? {
            LookClaim::Theirs => done.claimed += 1,
            LookClaim::TakenBy(holder) => done.look_alikes.push((user, holder)),
        }
    }
    Ok(done)
}

/// What `backfill-customer-index` did.
#[derive(Debug, Default)]
pub struct IndexBackfilled {
    pub filed: usize,
    /// Already filed (by a write since search, or a run before).
    pub already: usize,
    /// Deleted between the scan and their turn.
    pub gone: usize,
}

/// Files every customer that has no row yet under its rows, filters and words, oldest
/// first. A customer that has its created-order row was filed by its last write (or by a
/// run before), so a second run, or one after a crash, does only what is left.
pub async fn backfill_customer_index(
    store: &Store,
    items: &[Item],
) -> Result<IndexBackfilled, String> {
    let keys: std::collections::HashSet<(String, String)> = items
        .iter()
        .filter_map(Key::of_item)
        .map(|key| (key.pk, key.sk))
        .collect();
    let mut customers = items
        .iter()
        .filter(|item| item.get("entity") == Some(&Entity::Customer.attribute()))
        .map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item::<shared::domain::Customer>(item.clone())
                .map_err(|e| format!("an unreadable customer ({e}): {:?}", item.get("pk")))
        })
        .collect::<Result<Vec<_>, String>>()?;
    customers.sort_by_key(|customer| customer.id);
    let mut done = IndexBackfilled::default();
    for customer in customers {
        let row = Key::customer_row(shared::domain::CustomerOrder::Created, &customer);
        if keys.contains(&(row.pk, row.sk)) {
            done.already += 1;
            continue;
        }
        let refiled = store.refile_customer(customer.id).await;
        match refiled.map_err(|e| format!("filing customer {}: {}", customer.id, report(&e)))? {
            Refiled::Filed => done.filed += 1,
            Refiled::Gone => done.gone += 1,
        }
    }
    Ok(done)
}

//! `backfill-customer-index`: files every customer written before search (its rows in the
//! three orders, its filter entries, its words), oldest first, so that lists, filters and
//! search find it. Safe to run while the API serves (each customer is one transaction held
//! to the record's version) and to run again: customers already filed are skipped, so a run
//! after a crash does only what is left.

use std::process::ExitCode;

use crm_tests::operator::{backfill_customer_index, Operator};
use shared::store::Store;

#[tokio::main]
async fn main() -> ExitCode {
    let operator = Operator::connect("backfill-customer-index").await;
    let store = Store::new(operator.client.clone(), operator.table.clone());
    let done = match operator.scan().await {
        Ok(items) => backfill_customer_index(&store, &items).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(done) => {
            println!(
                "{} customers filed, {} already filed, {} deleted meanwhile",
                done.filed, done.already, done.gone
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("backfill-customer-index: {e}");
            ExitCode::from(2)
        }
    }
}

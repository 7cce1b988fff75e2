//! `check-table`: verifies every cross-item invariant of `docs/data-model.md` over a whole
//! table, read-only: the table `TABLE_NAME` at `AWS_ENDPOINT_URL_DYNAMODB` (see
//! `crm_tests::operator`). It prints a summary and exits 1 on any violation.

use std::process::ExitCode;

use crm_tests::invariants;
use crm_tests::operator::Operator;

#[tokio::main]
async fn main() -> ExitCode {
    let operator = Operator::connect("check-table").await;
    let table = &operator.table;
    eprintln!("check-table: scanning {table} at {}", operator.place);
    let items = match operator.scan().await {
        Ok(items) => items,
        Err(e) => {
            eprintln!("check-table: {e}");
            return ExitCode::from(2);
        }
    };
    let report = invariants::check(&items);
    println!("table {table}: {} items", items.len());
    for (entity, count) in &report.entities {
        println!("  {entity:<18} {count}");
    }
    for violation in &report.violations {
        println!("VIOLATION {violation}");
    }
    println!("{} violations", report.violations.len());
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! `check-table`: verifies every cross-item invariant of `docs/data-model.md` over a whole
//! table, read-only: the table `TABLE_NAME` at `AWS_ENDPOINT_URL_DYNAMODB` (see
//! `crm_tests::operator`). It prints a summary and exits 1 on any violation.
//!
//! `check-table --repair` first mends what a past version left and a conditional write can
//! mend safely while the API serves (employee profiles still pointing at an organization
//! their user was removed from; customers still owned by a member who left, when the
//! table-stream job did not run, say after a batch ended in the failure queue: the same job
//! is run again; memberships listing a user by an out-of-date copy: the stream's copy job
//! is run again), then checks.

use std::process::ExitCode;

use crm_tests::invariants;
use crm_tests::operator::Operator;
use shared::store::Store;

#[tokio::main]
async fn main() -> ExitCode {
    let repair = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--repair") => true,
        Some(other) => {
            eprintln!("check-table: unknown argument {other:?} (usage: check-table [--repair])");
            return ExitCode::from(2);
        }
    };
    let operator = Operator::connect("check-table").await;
    let table = &operator.table;
    eprintln!("check-table: scanning {table} at {}", operator.place);
    let mut items = match operator.scan().await {
        Ok(items) => items,
        Err(e) => {
            eprintln!("check-table: {e}");
            return ExitCode::from(2);
        }
    };
    if repair {
        let store = Store::new(operator.client.clone(), table.clone());
        let mut mended = 0;
        for (user, org) in invariants::dangling_employee_profiles(&items) {
            match store.repair_employee_profile(user, org).await {
                Ok(true) => mended += 1,
                Ok(false) => {}
                Err(e) => {
                    eprintln!("check-table: repairing user {user}'s profile: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        println!("{mended} employee profiles pointed away from organizations their users left");
        let mut unassigned = 0;
        for (org, owner) in invariants::departed_owners(&items) {
            match store.unassign_departed_owner(org, owner).await {
                Ok(count) => unassigned += count,
                Err(e) => {
                    eprintln!(
                        "check-table: unassigning {owner}'s customers in {org}: {}",
                        shared::store::report(&e)
                    );
                    return ExitCode::from(2);
                }
            }
        }
        println!("{unassigned} customers of members who left unassigned");
        let mut copied = 0;
        for user in invariants::stale_member_copies(&items) {
            match store.copy_member_names(user).await {
                Ok(count) => copied += count,
                Err(e) => {
                    eprintln!("check-table: copying user {user} onto their memberships: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        println!("{copied} memberships' copies of their users brought in step");
        items = match operator.scan().await {
            Ok(items) => items,
            Err(e) => {
                eprintln!("check-table: {e}");
                return ExitCode::from(2);
            }
        };
    }
    let report = invariants::check(&items);
    println!("table {table}: {} items", items.len());
    for (entity, count) in &report.entities {
        println!("  {entity:<18} {count}");
    }
    for violation in &report.violations {
        println!("VIOLATION {violation}");
    }
    let stale = invariants::stale_member_copies(&items).len();
    if stale > 0 {
        // Seconds behind a change while the stream's job runs; more after a failed batch.
        println!(
            "{stale} users listed by out-of-date copies (not a violation; --repair copies them)"
        );
    }
    println!("{} violations", report.violations.len());
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

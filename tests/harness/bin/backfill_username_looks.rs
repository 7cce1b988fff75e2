//! `backfill-username-looks`: gives every user who signed up before username looks were
//! claimed (UTS #39 confusable skeletons) the claim on their name's look, oldest account
//! first. Safe to run while the API serves and to run again: each claim is one conditional
//! `PutItem`. Prints the look-alike pairs it finds (both keep their names; the younger one
//! has no look claim, which `check-table` reports until an operator decides) and exits 1 if
//! there are any.

use std::process::ExitCode;

use crm_tests::operator::{backfill_username_looks, Operator};
use shared::store::Store;

#[tokio::main]
async fn main() -> ExitCode {
    let operator = Operator::connect("backfill-username-looks").await;
    let store = Store::new(operator.client.clone(), operator.table.clone());
    let done = match operator.scan().await {
        Ok(items) => backfill_username_looks(&store, &items).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(done) => {
            println!("{} users' looks claimed", done.claimed);
            for (user, holder) in &done.look_alikes {
                println!(
                    "LOOK-ALIKE user {} ({}) looks like user {holder}, who holds the look",
                    user.id, user.username
                );
            }
            if done.look_alikes.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("backfill-username-looks: {e}");
            ExitCode::from(2)
        }
    }
}

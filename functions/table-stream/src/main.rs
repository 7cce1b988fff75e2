//! The table's stream: background work, one job per record (`shared::stream`). Not an HTTP
//! function: Lambda's event source mapping calls it with batches of stream records.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::stream::run().await
}

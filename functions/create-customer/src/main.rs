//! POST /api/customers/

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::customers::handle_create).await
}

//! GET /api/customers/{id}/ and GET /api/customers/

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::customers::handle_read).await
}

//! PATCH and DELETE /api/customers/{id}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::customer_changes::handle).await
}

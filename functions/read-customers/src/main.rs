//! GET /api/customers and GET /api/customers/{id}: list, look up and read customers.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::ReadCustomers`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::ReadCustomers).await
}

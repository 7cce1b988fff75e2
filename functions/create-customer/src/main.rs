//! POST /api/customers: create a customer, or find the user's existing one.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::CreateCustomer`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::CreateCustomer).await
}

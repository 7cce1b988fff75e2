//! Create a customer, or find the user's existing one.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::CreateCustomer`:
//! - POST /api/customers

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::CREATE_CUSTOMER).await
}

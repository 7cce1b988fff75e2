//! List, look up and read customers.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::ReadCustomers`:
//! - GET /api/customers
//! - GET /api/customers/{id}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::READ_CUSTOMERS).await
}

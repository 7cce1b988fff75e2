//! Correct, remove or import customers.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::ChangeCustomer`:
//! - PATCH /api/customers/{id}
//! - DELETE /api/customers/{id}
//! - POST /api/customers/batch

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::CHANGE_CUSTOMER).await
}

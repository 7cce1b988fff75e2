//! PATCH and DELETE /api/customers/{id}: correct or remove a customer.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::ChangeCustomer`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::ChangeCustomer).await
}

//! GET /api/users/me: the caller, their organizations and customer records.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::Me`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::Me).await
}

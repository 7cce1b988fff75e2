//! POST /api/auth/login: log-in.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::Login`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::Login).await
}

//! POST /api/auth/refresh and POST /api/auth/logout: rotate or end a session.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::Session`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::Session).await
}

//! Refresh and log-out: rotate or end a session.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Session`:
//! - POST /api/auth/refresh
//! - POST /api/auth/logout

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::SESSION).await
}

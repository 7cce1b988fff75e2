//! API Gateway's `$default` route: every route of `shared::http::ROUTES` in its slashed form
//! (`/api/users/`), which HTTP API routes cannot name, and a JSON 404 or 405 for anything
//! else.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::FALLBACK).await
}

//! The caller's own view, and an organization as its member sees it.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Me`:
//! - GET /api/users/me
//! - GET /api/organizations/{org}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::ME).await
}

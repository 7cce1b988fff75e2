//! POST /api/users: sign-up.
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::Signup`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::Signup).await
}

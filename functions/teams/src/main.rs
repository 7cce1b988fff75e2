//! An organization's members: list them, change their roles, remove them (or leave).
//! Its routes are the ones `shared::http::ROUTES` gives to `Function::Teams`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::Function::Teams).await
}

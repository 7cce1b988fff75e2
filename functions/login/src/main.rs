//! POST /api/auth/login/

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::login::handle).await
}

//! POST /api/auth/refresh and POST /api/auth/logout

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::session::handle).await
}

//! GET /api/users/me

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::users::handle_me).await
}

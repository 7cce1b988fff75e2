//! API Gateway's `$default` route: every path with its trailing slash (`/api/users/`), which

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(shared::http::routes::dispatch).await
}

//! API Gateway's `$default` route: every path with its trailing slash (`/api/users/`), which
//! HTTP API routes cannot name, and a JSON 404 for anything else.

use lambda_http::{run, service_fn, Error};
use shared::app::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        shared::http::routes::dispatch(&app, request)
    }))
    .await
}

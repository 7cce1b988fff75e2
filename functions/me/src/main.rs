//! GET /api/users/me

use lambda_http::{run, service_fn, Error};
use shared::app::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = App::from_env().await?;
    run(service_fn(|request| {
        shared::http::users::handle_me(&app, request)
    }))
    .await
}

//! What every function's `main` does: configure once at cold start, open the connection to
//! DynamoDB before the first request arrives, and serve requests so that a panic in one
//! answers a JSON 500 and leaves the execution environment serving the next.

use std::future::Future;
use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, Response};

use crate::app::App;
use crate::http::ApiError;

/// How long cold start waits for the warm-up call before going on without it.
const WARM_UP_LIMIT: Duration = Duration::from_secs(1);

/// Runs `handler` as this function: logs, configuration and warm-up once, then requests.
/// Fails (and so the function refuses to start) only when the configuration is unusable.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, lambda_http::Error>> + Send + 'static,
{
    crate::telemetry::init();
    // Lives as long as the execution environment; requests borrow it from their own tasks.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    warm_up(app).await;
    lambda_http::run(service_fn(move |request| guarded(app, request, handler))).await
}

/// Resolves credentials and the endpoint and opens the connection (TLS included on AWS)
/// with one cheap read, so that the first request costs what a warm one does. Whatever
/// happens, init goes on: a function that cannot reach DynamoDB yet may later.
pub async fn warm_up(app: &App) {
    match tokio::time::timeout(WARM_UP_LIMIT, app.store.warm_up()).await {
        Ok(Ok(())) => tracing::debug!("warmed up"),
        Ok(Err(error)) => tracing::warn!(%error, "warm-up failed; serving anyway"),
        Err(_) => tracing::warn!(limit = ?WARM_UP_LIMIT, "warm-up timed out; serving anyway"),
    }
}

/// Runs one request in a task of its own: a panic ends that task only, and the request gets
/// the API's JSON 500 instead of the runtime's error.
pub async fn guarded<F, Fut>(
    app: &'static App,
    request: Request,
    handler: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Body>, lambda_http::Error>> + Send + 'static,
{
    let task = async move {
        #[cfg(feature = "test-hooks")]
        if request.headers().contains_key(PANIC_HEADER) {
            panic!("{PANIC_HEADER} asked for a panic");
        }
        handler(app, request).await
    };
    match tokio::spawn(task).await {
        Ok(answer) => answer,
        Err(failure) => {
            tracing::error!(panicked = failure.is_panic(), "request task failed");
            let response = ApiError::Internal.into_response();
            debug_assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            Ok(response)
        }
    }
}

/// With the `test-hooks` feature only: a request carrying this header panics inside its
/// task, so tests can check that a panic answers 500 and the process serves on.
#[cfg(feature = "test-hooks")]
pub const PANIC_HEADER: &str = "x-test-panic";

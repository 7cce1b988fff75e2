//! What every function's `main` does: configure once at cold start, open the connection to
//! DynamoDB before the first request arrives, and serve requests so that a panic in one
//! answers a JSON 500 and leaves the execution environment serving the next.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::app::App;
use crate::domain::{unix_now_ms, PasswordHash};
use crate::http::{route_of, ApiError, ErrorCode, Function, Operation, Route};
use crate::metrics::{self, RequestReport, Tally};

/// How long cold start waits for the warm-up call before going on without it.
const WARM_UP_LIMIT: Duration = Duration::from_secs(1);

/// Runs `function`: logs, configuration and warm-up once, then requests. Fails (and so the
/// function refuses to start) only when the configuration is unusable.
pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    // Lives as long as the execution environment; requests borrow it from their own tasks.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    // Alongside the connection: argon2's memory and code, where passwords are checked.
    let hashing = function
        .checks_passwords()
        .then(|| tokio::task::spawn_blocking(PasswordHash::warm_up));
    warm_up(app).await;
    if let Some(hashing) = hashing {
        if hashing.await.is_err() {
            tracing::warn!("the password hashing warm-up panicked; serving anyway");
        }
    }
    lambda_http::run(service_fn(move |request| guarded(app, request, function))).await
}

/// Resolves credentials and the endpoint and opens the connection (TLS included on AWS)
/// with one cheap read, so that the first request costs what a warm one does. Whatever
/// happens, init goes on: a function that cannot reach DynamoDB yet may later.
pub async fn warm_up(app: &App) {
    match tokio::time::timeout(WARM_UP_LIMIT, app.store.warm_up()).await {
        Ok(Ok(())) => tracing::debug!("warmed up"),
        Ok(Err(error)) => {
            tracing::warn!(error = %error.report(), "warm-up failed; serving anyway");
        }
        Err(_) => tracing::warn!(limit = ?WARM_UP_LIMIT, "warm-up timed out; serving anyway"),
    }
}

/// Runs one request in a task of its own, inside a span that names the request (so every
/// log line of it, a 500's cause included, carries its id): a panic ends that task only, and
/// the request gets the API's JSON 500 instead of the runtime's error.
pub async fn guarded(
    app: &'static App,
    request: Request,
    function: Function,
) -> Result<Response<Body>, lambda_http::Error> {
    let started = Instant::now();
    let span = request_span(&request);
    let route = route_of(&request);
    let request_id = request
        .lambda_context_ref()
        .map(|context| context.request_id.clone());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let task = metrics::counted(Arc::clone(&tally), async move {
        #[cfg(feature = "test-hooks")]
        if request.headers().contains_key(PANIC_HEADER) {
            panic!("{PANIC_HEADER} asked for a panic");
        }
        function.handle(app, request).await
    });
    let answer = match tokio::spawn(task.instrument(span.clone())).await {
        Ok(answer) => answer,
        Err(failure) => {
            let response = span.in_scope(|| ApiError::internal(failure).into_response());
            debug_assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            Ok(response)
        }
    };
    if let Ok(response) = &answer {
        let tally = *tally.lock().unwrap_or_else(|e| e.into_inner());
        report(
            app,
            function,
            route,
            response,
            (started, tally, request_id.as_deref()),
        );
    }
    answer
}

/// Writes the request's EMF object (see `crate::metrics`).
fn report(
    app: &App,
    function: Function,
    route: Option<&Route>,
    response: &Response<Body>,
    (started, tally, request_id): (Instant, Tally, Option<&str>),
) {
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("Idempotent-Replayed");
    let creation = route.is_some_and(|r| r.operation == Operation::CreateCustomer);
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    let route = route.map(|r| format!("{} {}", r.method, r.path));
    let report = RequestReport {
        function: function.binary(),
        route: route.as_deref().unwrap_or("unmatched"),
        outcome: &metrics::outcome(status, replayed, creation, code),
        status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        tally,
        request_id,
    };
    let line = report.emf(&app.metrics, unix_now_ms()).to_string();
    app.metrics.emit(line);
}

/// The span of one request: Lambda's request id, and API Gateway's (as its access log has it).
fn request_span(request: &Request) -> tracing::Span {
    let lambda = request
        .lambda_context_ref()
        .map(|context| context.request_id.clone());
    let api = match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
            context.request_id.clone()
        }
        _ => None,
    };
    tracing::info_span!("request", request_id = lambda, api_request_id = api)
}

/// With the `test-hooks` feature only: a request carrying this header panics inside its
/// task, so tests can check that a panic answers 500 and the process serves on.
#[cfg(feature = "test-hooks")]
pub const PANIC_HEADER: &str = "x-test-panic";

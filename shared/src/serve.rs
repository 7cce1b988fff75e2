//! What every function's `main` does: configure once at cold start, open the connection to
//! DynamoDB before the first request arrives, and serve requests so that a panic in one
//! answers a JSON 500 and leaves the execution environment serving the next.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lambda_http::http::{Method, StatusCode};
use lambda_http::{service_fn, Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::app::App;
use crate::domain::{unix_now_ms, Email, OrgId, OrgRole, Role, UserId};
use crate::http::{route_of, ApiError, ErrorCode, Function, Handlers, Operation, Route};
use crate::metrics::{self, RequestReport, Tally};

/// How long cold start waits for the warm-up call before going on without it.
const WARM_UP_LIMIT: Duration = Duration::from_secs(1);

/// Runs the function whose handlers are `handlers` (its binary names its own table, so that
/// it links only its own handlers): logs, configuration and warm-up once, then requests.
/// Fails (and so the function refuses to start) only when the configuration is unusable.
pub async fn run(handlers: &'static Handlers) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    // Lives as long as the execution environment; requests borrow it from their own tasks.
    let app = App::from_env(handlers.token_use()).await?;
    let app: &'static App = Box::leak(Box::new(app));
    warm_up(app, handlers).await;
    lambda_http::run(service_fn(move |request| guarded(app, request, handlers))).await
}

/// Makes the first request cost what a warm one does. The connection to DynamoDB is open
/// already (TLS included on AWS): configuration read the token keys through it
/// (`app::start_tokens`). Where passwords are checked, faults in argon2's memory; then runs
/// the function's own kind of request once, end to end,
/// from the Lambda event's JSON to the response's, so that its code is paged in and whatever
/// is built lazily is built before a caller waits. Under provisioned concurrency and Lambda's
/// proactive initialization, init runs before any request arrives.
///
/// The rehearsal ([`Function::rehearsal`]) comes last, so that what it warmed is still warm:
/// run beside argon2's 19 MiB instead, it left the fallback's first request at 1.6–1.8× a
/// warm one, against 1.3–1.4× after it (`make bench`).
///
/// The rehearsal is made as a caller nobody is: a member of one fresh organization only,
/// asking for fresh ids, so its reads find nothing and it cannot write. A write route is
/// sent an empty object, which validation refuses before any call, or which a change
/// finds nothing to apply to. Its token is signed by a throwaway key, verified here until the
/// rehearsal ends and never again ([`crate::auth::Tokens::rehearsal_token`]), so a function
/// that only verifies rehearses too; it writes no metrics line.
///
/// Whatever happens, init goes on: a function that cannot reach DynamoDB yet may later.
/// Returns the rehearsal's status, when it finished in time.
pub async fn warm_up(app: &'static App, handlers: &'static Handlers) -> Option<StatusCode> {
    let work = async {
        if let Some(hashing) = handlers.warm_passwords {
            if tokio::task::spawn_blocking(hashing).await.is_err() {
                tracing::warn!("the password hashing warm-up panicked; serving anyway");
            }
        }
        rehearse(app, handlers)
            .instrument(tracing::debug_span!("rehearsal"))
            .await
    };
    match tokio::time::timeout(WARM_UP_LIMIT, work).await {
        Ok(status) => status,
        Err(_) => {
            tracing::warn!(limit = ?WARM_UP_LIMIT, "warm-up timed out; serving anyway");
            None
        }
    }
}

/// One request of the function's rehearsal route, through the same adapter and JSON as a real
/// invocation. A failure is logged and ignored: the rehearsal only saves time.
async fn rehearse(app: &'static App, handlers: &'static Handlers) -> Option<StatusCode> {
    let organization = OrgId::generate();
    // RFC 2606's `.invalid`: nobody's address, so that the token carries one, as real ones do.
    let email = Email::parse("nobody@rehearsal.invalid").ok();
    let (token, kid) = app.tokens.rehearsal_token(
        UserId::generate(),
        email.as_ref(),
        &[OrgRole {
            organization,
            role: Role::Owner,
        }],
    );
    // Forgotten however the rehearsal ends: answered, or dropped at the warm-up's limit.
    struct Forget<'a>(&'a crate::auth::Tokens, String);
    impl Drop for Forget<'_> {
        fn drop(&mut self) {
            self.0.forget(&self.1);
        }
    }
    let _forget = Forget(&app.tokens, kid);
    let route = handlers.function.rehearsal();
    let event = rehearsal_event(route, organization, &token.access_token);
    rehearse_event(app, handlers, event).await
}

/// Runs `event` as an invocation of the function: its status.
async fn rehearse_event(
    app: &'static App,
    handlers: &'static Handlers,
    event: serde_json::Value,
) -> Option<StatusCode> {
    use lambda_http::{request::LambdaRequest, Context, LambdaEvent, Service};
    // From text, as the runtime has it: the same parsing code runs.
    let payload: LambdaRequest = match serde_json::from_str(&event.to_string()) {
        Ok(payload) => payload,
        Err(error) => {
            tracing::warn!(%error, "the rehearsal's event does not parse");
            return None;
        }
    };
    // All a request runs, its metrics line made but not written.
    let mut adapter = lambda_http::Adapter::from(service_fn(move |request| async move {
        answer_and_report(app, request, handlers).await.0
    }));
    let response = adapter
        .call(LambdaEvent::new(payload, Context::default()))
        .await
        .ok()?;
    #[derive(serde::Deserialize)]
    struct Sent {
        #[serde(rename = "statusCode")]
        status: u16,
    }
    let sent: Sent = serde_json::from_slice(&serde_json::to_vec(&response).ok()?).ok()?;
    StatusCode::from_u16(sent.status).ok()
}

/// An HTTP API (payload 2.0) event for `route`, its `{org}` the token's organization and its
/// other parameters fresh ids, so that whatever it reads does not exist.
fn rehearsal_event(route: &Route, organization: OrgId, token: &str) -> serde_json::Value {
    let path = route
        .path
        .split('/')
        .map(|segment| match segment {
            "{org}" => organization.to_string(),
            s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/");
    let mut headers = serde_json::json!({"authorization": format!("Bearer {token}")});
    let body = (route.method != Method::GET).then(|| {
        headers["content-type"] = "application/json".into();
        "{}"
    });
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "body": body,
        "requestContext": {
            "http": {"method": route.method.as_str(), "path": path},
            "requestId": "rehearsal",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    })
}

/// Runs one request in a task of its own, inside a span that names the request (so every
/// log line of it, a 500's cause included, carries its id): a panic ends that task only, and
/// the request gets the API's JSON 500 instead of the runtime's error. Then writes the
/// request's EMF object (see `crate::metrics`).
pub async fn guarded(
    app: &'static App,
    request: Request,
    handlers: &'static Handlers,
) -> Result<Response<Body>, lambda_http::Error> {
    let (answer, report) = answer_and_report(app, request, handlers).await;
    if let Some(line) = report {
        app.metrics.emit(line);
    }
    answer
}

/// What [`guarded`] does but write: the answer, and the EMF object to write.
async fn answer_and_report(
    app: &'static App,
    request: Request,
    handlers: &'static Handlers,
) -> (Result<Response<Body>, lambda_http::Error>, Option<String>) {
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
        handlers.handle(app, request).await
    });
    let answer = match tokio::spawn(task.instrument(span.clone())).await {
        Ok(answer) => answer,
        Err(failure) => {
            let response = span.in_scope(|| ApiError::internal(failure).into_response());
            debug_assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            Ok(response)
        }
    };
    let report = answer.as_ref().ok().map(|response| {
        let tally = *tally.lock().unwrap_or_else(|e| e.into_inner());
        report(
            app,
            handlers.function,
            route,
            response,
            (started, tally, request_id.as_deref()),
        )
    });
    (answer, report)
}

/// The request's EMF object (see `crate::metrics`), one line.
fn report(
    app: &App,
    function: Function,
    route: Option<&Route>,
    response: &Response<Body>,
    (started, tally, request_id): (Instant, Tally, Option<&str>),
) -> String {
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
    report.emf(&app.metrics, unix_now_ms()).to_string()
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

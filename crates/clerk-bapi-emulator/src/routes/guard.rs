//! The middleware in front of every emulated endpoint: counts the request, buffers its body
//! (within a deadline), logs it with its caller, then either runs the endpoint or applies the
//! route's fault, and records how it ended.

use super::input::bearer;
use crate::app::App;
use crate::bodies::{DripBody, OversizedBody, ResetBody};
use crate::conn::{ConnHandle, KillSwitch};
use crate::errors::{generic_error_body, json_response, ApiError, JSON_CONTENT_TYPE};
use crate::faults::{Fault, Route};
use crate::reqlog::RecordedRequest;
use crate::state::Caller;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest request body the emulator reads (Clerk's requests are tiny).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Largest endpoint response a body-rewriting fault buffers (endpoint bodies are small).
const RESPONSE_BUFFER_LIMIT: usize = 16 * 1024 * 1024;
/// `slow_drip` defaults: a few bytes at a time, with pauses.
const DEFAULT_DRIP_CHUNK: usize = 4;
const DEFAULT_DRIP_INTERVAL_MS: u64 = 50;
/// Default body of the `non_json` fault: what a proxy in front of an API typically answers.
const DEFAULT_NON_JSON_BODY: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";

/// Middleware state: which route this instance of the guard protects.
#[derive(Clone)]
pub struct RouteCtx {
    pub app: App,
    pub route: Route,
}

/// Marker extension on responses that were never sent (hang, drop), so the log keeps `status: None`.
#[derive(Clone, Copy)]
struct NotSent;

pub async fn guard(State(ctx): State<RouteCtx>, req: Request, next: Next) -> Response {
    let RouteCtx { app, route } = ctx;
    let started = Instant::now();
    app.counters.increment(Some(route));
    let conn = req.extensions().get::<ConnHandle>().map(|c| c.0.clone());
    let (parts, body) = req.into_parts();
    let now = app.clock.now_ms();
    let bytes = match tokio::time::timeout(app.body_timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return refuse(&app, route, &parts, now, started, ApiError::body_too_large(BODY_LIMIT)),
        Err(_) => return refuse(&app, route, &parts, now, started, ApiError::body_timeout(app.body_timeout.as_secs())),
    };
    let fault = app.faults.take(route);
    let mut entry = RecordedRequest::new(Some(route), &parts, &bytes, now, fault.as_ref().map(Fault::kind));
    identify_caller(&app, &parts.headers, now, &mut entry);
    let seq = app.log.record(entry);
    let mutating = mutates(route, &parts.method);
    let req = Request::from_parts(parts, Body::from(bytes));
    let response = match fault {
        None => next.run(req).await,
        Some(fault) => apply(&app, fault, conn, req, next).await,
    };
    let latency = Some(started.elapsed().as_secs_f64() * 1000.0);
    let status = response.extensions().get::<NotSent>().is_none().then(|| response.status().as_u16());
    app.log.finish(seq, status, latency);
    if mutating && response.status().is_success() {
        app.changed();
    }
    response
}

/// Does a successful request of `route` change what the dashboard shows or the state file keeps?
fn mutates(route: Route, method: &Method) -> bool {
    match route {
        Route::M2mCreate | Route::M2mRevoke => true,
        Route::Machines => *method != Method::GET,
        Route::Jwks | Route::M2mList | Route::M2mVerify | Route::OauthVerify | Route::ApiKeyVerify => false,
    }
}

/// Logs and answers a request whose body could not be read (too large, too slow).
fn refuse(app: &App, route: Route, parts: &axum::http::request::Parts, now: i64, started: Instant, error: ApiError) -> Response {
    let seq = app.log.record(RecordedRequest::new(Some(route), parts, b"", now, None));
    app.log.finish(seq, Some(error.status.as_u16()), Some(started.elapsed().as_secs_f64() * 1000.0));
    error.into_response()
}

/// Names the caller in the log entry: the machine whose key was used, the instance, or
/// `unknown` — never the key itself.
fn identify_caller(app: &App, headers: &HeaderMap, now: i64, entry: &mut RecordedRequest) {
    let Some(credential) = bearer(headers) else { return };
    let state = app.state();
    match state.authenticate(credential, now) {
        Some(Caller::Instance(_)) => entry.caller = Some("instance".into()),
        Some(Caller::Machine { instance, machine_id }) => {
            entry.caller = Some("machine".into());
            entry.caller_machine_name = state.instances.get(instance).and_then(|i| i.machine(&machine_id)).map(|m| m.name.clone());
            entry.caller_machine_id = Some(machine_id);
        }
        None => entry.caller = Some("unknown".into()),
    }
}

/// Same accounting for requests no route matched (404/405), so clients hitting wrong paths are
/// visible in counters (`other`) and the log. Admin paths are not counted.
pub async fn unmatched(app: &App, req: Request, error: ApiError) -> Response {
    if req.uri().path().starts_with("/__emulator") {
        return error.into_response();
    }
    app.counters.increment(None);
    let (parts, body) = req.into_parts();
    let bytes = tokio::time::timeout(app.body_timeout, axum::body::to_bytes(body, BODY_LIMIT)).await.ok().and_then(Result::ok).unwrap_or_default();
    let seq = app.log.record(RecordedRequest::new(None, &parts, &bytes, app.clock.now_ms(), None));
    app.log.set_status(seq, error.status.as_u16());
    error.into_response()
}

fn kill(conn: &Option<Arc<KillSwitch>>) -> Response {
    match conn {
        Some(switch) => {
            switch.kill();
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(NotSent);
            response
        }
        // Only reachable when the router is served without the emulator's listener.
        None => ApiError::internal("This connection cannot be dropped by the emulator.").into_response(),
    }
}

fn status_code(status: u16) -> StatusCode {
    // Fault statuses are validated (100..=999) when set; 500 is a fallback that cannot trigger.
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn raw_response(status: u16, body: impl Into<Body>, content_type: Option<&str>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status_code(status);
    let ct = HeaderValue::from_str(content_type.unwrap_or(JSON_CONTENT_TYPE)).unwrap_or(HeaderValue::from_static(JSON_CONTENT_TYPE));
    response.headers_mut().insert(header::CONTENT_TYPE, ct);
    response
}

/// Runs the endpoint and returns its response split with the body buffered.
async fn run_buffered(next: Next, req: Request) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = next.run(req).await.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, axum::body::to_bytes(body, RESPONSE_BUFFER_LIMIT).await.unwrap_or_default())
}

/// Resolves once the emulator is shutting down (or gone). Returns `()` so no `watch::Ref`
/// (which is not `Send`) lives across an await.
async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

async fn apply(app: &App, fault: Fault, conn: Option<Arc<KillSwitch>>, req: Request, next: Next) -> Response {
    let mut shutdown = app.shutdown_rx();
    match fault {
        Fault::Delay { ms } => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => next.run(req).await,
                _ = stopped(&mut shutdown) => kill(&conn),
            }
        }
        Fault::Hang => {
            stopped(&mut shutdown).await;
            kill(&conn)
        }
        Fault::Status { status, retry_after, body, content_type } => {
            let body = body.unwrap_or_else(|| generic_error_body(status_code(status)).to_string());
            let mut response = raw_response(status, body, content_type.as_deref());
            if let Some(value) = retry_after.and_then(|r| HeaderValue::from_str(&r.header_text()).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Fault::NonJson { status, body, content_type } => raw_response(status.unwrap_or(200), body.unwrap_or_else(|| DEFAULT_NON_JSON_BODY.to_owned()), content_type.as_deref()),
        Fault::TruncatedJson => {
            let (parts, bytes) = run_buffered(next, req).await;
            let cut = bytes.slice(..bytes.len() / 2);
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::Oversized { bytes, status } => raw_response(status.unwrap_or(200), Body::new(OversizedBody::new(bytes)), None),
        Fault::SlowDrip { chunk_bytes, interval_ms } => {
            let (parts, bytes) = run_buffered(next, req).await;
            let interval = Duration::from_millis(interval_ms.unwrap_or(DEFAULT_DRIP_INTERVAL_MS));
            Response::from_parts(parts, Body::new(DripBody::new(bytes, chunk_bytes.unwrap_or(DEFAULT_DRIP_CHUNK), interval, shutdown)))
        }
        Fault::Drop => kill(&conn),
        Fault::Reset { after_bytes } => {
            let (parts, bytes) = run_buffered(next, req).await;
            let len = bytes.len();
            // Always withhold at least one byte, so the message is incomplete.
            let keep = after_bytes.unwrap_or(len / 2).min(len.saturating_sub(1));
            Response::from_parts(parts, Body::new(ResetBody::new(bytes.slice(..keep), len as u64, conn)))
        }
        Fault::Redirect { location, status } => {
            let mut response = json_response(status_code(status.unwrap_or(302)), &serde_json::json!({}));
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
    }
}

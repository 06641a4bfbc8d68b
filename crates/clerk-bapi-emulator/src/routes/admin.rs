//! The admin API under `/__emulator/…` (documented in the crate docs) for what belongs to the
//! running emulator rather than an instance: its info, faults, counters, request log and clock.
//! What the JS helper, out-of-process tests and the dashboard use.

use super::input::{admin_body as body, path};
use crate::app::App;
use crate::errors::{json_response, ApiError};
use crate::faults::{FaultRule, Route};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) type AdminResult = Result<Response, ApiError>;

pub(super) fn ok(body: &Value) -> AdminResult {
    Ok(json_response(StatusCode::OK, body))
}

fn route(name: &str) -> Result<Route, ApiError> {
    Route::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Route::ALL.iter().map(|r| r.as_str()).collect();
        let mut e = ApiError::not_found("Route").with_param("route");
        e.long_message = format!("Unknown route {name:?}; routes are: {}.", names.join(", "));
        e
    })
}

pub async fn info(State(app): State<App>) -> AdminResult {
    ok(&app.info_json())
}

pub async fn list_faults(State(app): State<App>) -> AdminResult {
    ok(&json!({ "faults": app.faults.snapshot() }))
}

pub async fn set_fault(State(app): State<App>, name: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let route = route(&path(name)?)?;
    let rule: FaultRule = body(&bytes)?;
    app.faults.set(route, rule.clone()).map_err(ApiError::admin_invalid)?;
    ok(&json!({ "route": route, "fault": rule }))
}

pub async fn clear_fault(State(app): State<App>, name: Result<Path<String>, PathRejection>) -> AdminResult {
    let route = route(&path(name)?)?;
    app.faults.clear(route);
    ok(&json!({ "cleared": [route] }))
}

pub async fn clear_faults(State(app): State<App>) -> AdminResult {
    app.faults.clear_all();
    ok(&json!({ "cleared": Route::ALL }))
}

pub async fn counters(State(app): State<App>) -> AdminResult {
    ok(&json!(app.counters.snapshot()))
}

pub async fn reset_counters(State(app): State<App>) -> AdminResult {
    app.counters.reset();
    ok(&json!(app.counters.snapshot()))
}

pub async fn requests(State(app): State<App>) -> AdminResult {
    ok(&json!({ "requests": app.log.snapshot() }))
}

/// The dashboard's view of the log: summaries only (no bodies, queries or credentials).
pub async fn request_summaries(State(app): State<App>) -> AdminResult {
    ok(&json!({ "requests": app.log.summaries() }))
}

pub async fn clear_requests(State(app): State<App>) -> AdminResult {
    app.log.clear();
    ok(&json!({ "requests": [] }))
}

fn clock_json(app: &App) -> Value {
    json!({ "offsetMs": app.clock.offset_ms(), "nowMs": app.clock.now_ms() })
}

pub async fn clock(State(app): State<App>) -> AdminResult {
    ok(&clock_json(&app))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    #[serde(default, alias = "offset_ms")]
    offset_ms: Option<i64>,
    #[serde(default, alias = "advance_ms")]
    advance_ms: Option<i64>,
}

pub async fn set_clock(State(app): State<App>, bytes: Bytes) -> AdminResult {
    let b: ClockBody = body(&bytes)?;
    if b.offset_ms.is_none() && b.advance_ms.is_none() {
        return Err(ApiError::admin_invalid("give offsetMs and/or advanceMs"));
    }
    if let Some(o) = b.offset_ms {
        app.clock.set_offset_ms(o);
    }
    if let Some(d) = b.advance_ms {
        app.clock.advance_ms(d);
    }
    ok(&clock_json(&app))
}

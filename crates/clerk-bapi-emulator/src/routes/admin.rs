//! The admin API under `/__emulator/…` (documented in the crate docs): what the JS helper and
//! other out-of-process tests use to control the emulator.

use crate::errors::{json_response, ApiError};
use crate::faults::{FaultRule, Route};
use crate::keys::KeyError;
use crate::config::MachineConfig;
use crate::server::{App, EmulatorError};
use crate::state::seeded::{ApiKeySeed, OAuthTokenSeed};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

type AdminResult = Result<Response, ApiError>;

fn ok(body: &Value) -> AdminResult {
    Ok(json_response(StatusCode::OK, body))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "admin_request_invalid", "Invalid admin request", message)
}

impl From<EmulatorError> for ApiError {
    fn from(e: EmulatorError) -> ApiError {
        match e {
            EmulatorError::UnknownInstance(_) => ApiError::not_found("Instance"),
            EmulatorError::Key(KeyError::InvalidPrivateKey) => bad_request(e.to_string()),
            EmulatorError::Key(_) => ApiError::internal(&e.to_string()),
            other => bad_request(other.to_string()),
        }
    }
}

/// Parses an admin body (empty = `{}`); messages describe admin input, which holds no secrets.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("invalid body: {e}")))
}

fn instance_index(app: &App, key: &str) -> Result<usize, ApiError> {
    app.state().find_instance(key).ok_or_else(|| ApiError::not_found("Instance"))
}

fn route(name: &str) -> Result<Route, ApiError> {
    Route::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Route::ALL.iter().map(|r| r.as_str()).collect();
        let mut e = ApiError::not_found("Route").with_param("route");
        e.long_message = format!("Unknown route {name:?}; routes are: {}.", names.join(", "));
        e
    })
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(v)| v).map_err(|_| ApiError::not_found("Resource"))
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
    app.faults.set(route, rule.clone()).map_err(bad_request)?;
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
        return Err(bad_request("give offsetMs and/or advanceMs"));
    }
    if let Some(o) = b.offset_ms {
        app.clock.set_offset_ms(o);
    }
    if let Some(d) = b.advance_ms {
        app.clock.advance_ms(d);
    }
    ok(&clock_json(&app))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyBody {
    #[serde(default)]
    kid: Option<String>,
    /// Import this key (PKCS#8/PKCS#1 PEM) instead of generating one; needs `kid`.
    #[serde(default, alias = "private_key_pem")]
    private_key_pem: Option<String>,
}

pub async fn add_key(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: KeyBody = body(&bytes)?;
    let key = match (b.private_key_pem, b.kid) {
        (Some(pem), Some(kid)) => app.import_signing_key(index, &kid, &pem)?,
        (Some(_), None) => return Err(bad_request("importing a key (privateKeyPem) needs a kid")),
        (None, kid) => app.add_signing_key(index, kid).await?,
    };
    ok(&json!(key))
}

pub async fn retire_key(State(app): State<App>, p: Result<Path<(String, String)>, PathRejection>) -> AdminResult {
    let (inst, kid) = path(p)?;
    let index = instance_index(&app, &inst)?;
    app.retire_key(index, &kid)?;
    ok(&json!({ "retired": kid }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsBody {
    #[serde(default, alias = "reject_inactive_tokens")]
    reject_inactive_tokens: Option<bool>,
}

pub async fn settings(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: SettingsBody = body(&bytes)?;
    if let Some(r) = b.reject_inactive_tokens {
        app.set_reject_inactive_tokens(index, r)?;
    }
    ok(&json!(app.instance_info(index)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MachineBody {
    name: String,
    #[serde(default, alias = "scoped_to")]
    scoped_to: Vec<String>,
    #[serde(default, alias = "default_token_ttl")]
    default_token_ttl: Option<u64>,
}

pub async fn create_machine(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: MachineBody = body(&bytes)?;
    let machine = app.create_machine(index, &MachineConfig { name: b.name, scoped_to: b.scoped_to, default_token_ttl: b.default_token_ttl })?;
    ok(&json!(machine))
}

pub async fn seed_oauth(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let seed: OAuthTokenSeed = body(&bytes)?;
    ok(&json!(app.seed_oauth_token(index, seed)?))
}

pub async fn seed_api_key(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let seed: ApiKeySeed = body(&bytes)?;
    ok(&json!(app.seed_api_key(index, seed)?))
}

#[derive(Deserialize)]
struct SignBody {
    header: Value,
    payload: Value,
}

pub async fn sign(State(app): State<App>, inst: Result<Path<String>, PathRejection>, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: SignBody = body(&bytes)?;
    ok(&json!({ "token": app.sign_jwt(index, &b.header, &b.payload)? }))
}

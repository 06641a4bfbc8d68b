//! `/v1/machines…` (instance secret key): list, create, get, update, delete, secret key and its
//! rotation, scopes.

use super::input::{authenticate, instance, instance_mut, json_object, opt_number, opt_string, opt_string_array, req_string, Need, QueryParams};
use crate::app::App;
use crate::errors::{json_response, ApiError};
use crate::state::machines::{ListMachines, UpdateMachine};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

type ApiResult = Result<Response, ApiError>;

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 500;
const MAX_OFFSET: usize = u32::MAX as usize;

fn ok(body: &serde_json::Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, body))
}

fn not_found() -> ApiError {
    ApiError::not_found("Machine")
}

/// `GET /v1/machines?limit=&offset=&query=`.
pub async fn list(State(app): State<App>, headers: HeaderMap, query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Query(pairs)) = query else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "query_param_invalid", "Invalid query", "The query string could not be parsed."));
    };
    let q = QueryParams::new(pairs);
    let list = ListMachines {
        query: q.get("query").filter(|s| !s.is_empty()).map(str::to_owned),
        limit: q.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT),
        offset: q.int("offset", 0, MAX_OFFSET)?.unwrap_or(0),
    };
    ok(&instance(&state, &caller)?.list_machines(&list))
}

/// `POST /v1/machines` body `{name, scoped_machines?, default_token_ttl?}`; answers with `secret_key`.
pub async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let map = json_object(&body)?;
    let name = req_string(&map, "name")?;
    let scoped = opt_string_array(&map, "scoped_machines")?.unwrap_or_default();
    let ttl = opt_number(&map, "default_token_ttl")?;
    let limits = state.limits.clone();
    ok(&instance_mut(&mut state, &caller)?.create_machine(&name, &scoped, ttl, now, &limits)?)
}

/// `GET /v1/machines/{id}`.
pub async fn get(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    ok(&instance(&state, &caller)?.get_machine(&id)?)
}

/// `PATCH /v1/machines/{id}` body `{name?, default_token_ttl?}`.
pub async fn update(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    let map = json_object(&body)?;
    let update = UpdateMachine { name: opt_string(&map, "name")?, default_token_ttl: opt_number(&map, "default_token_ttl")? };
    ok(&instance_mut(&mut state, &caller)?.update_machine(&id, &update, now)?)
}

/// `DELETE /v1/machines/{id}`: `{object: "machine", id, deleted: true}`.
pub async fn delete(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    ok(&instance_mut(&mut state, &caller)?.delete_machine(&id, now)?)
}

/// `POST /v1/machines/{id}/secret_key/rotate` body `{previous_token_ttl}` (seconds, 0..=28800).
pub async fn rotate_secret_key(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    let ttl = opt_number(&json_object(&body)?, "previous_token_ttl")?.ok_or_else(|| ApiError::param_missing("previous_token_ttl"))?;
    ok(&instance_mut(&mut state, &caller)?.rotate_machine_secret(&id, ttl, now)?)
}

/// `GET /v1/machines/{id}/secret_key`.
pub async fn secret_key(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    ok(&instance(&state, &caller)?.machine_secret(&id)?)
}

/// `POST /v1/machines/{id}/scopes` body `{to_machine_id}`.
pub async fn create_scope(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    let to = req_string(&json_object(&body)?, "to_machine_id")?;
    let limits = state.limits.clone();
    ok(&instance_mut(&mut state, &caller)?.add_scope(&id, &to, now, &limits)?)
}

/// `DELETE /v1/machines/{id}/scopes/{other}`.
pub async fn delete_scope(State(app): State<App>, headers: HeaderMap, ids: Result<Path<(String, String)>, PathRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let Ok(Path((id, other))) = ids else { return Err(not_found()) };
    ok(&instance_mut(&mut state, &caller)?.delete_scope(&id, &other, now)?)
}

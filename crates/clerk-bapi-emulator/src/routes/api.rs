//! The emulated Backend API endpoints for tokens: JWKS, M2M tokens, OAuth and API-key verify.
//! Paths follow the reference client: `/v1/jwks`, but `/m2m_tokens…`, `/api_keys/verify` and
//! `/oauth_applications/access_tokens/verify` without `/v1`.

use super::input::{authenticate, instance, instance_mut, json_object, opt_number, opt_object, opt_string, req_string, Need, QueryParams};
use crate::errors::{json_response, ApiError};
use crate::app::App;
use crate::state::m2m::{CreateM2m, ListM2m, TokenFormat};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

type ApiResult = Result<Response, ApiError>;

/// Default and maximum page sizes of `GET /m2m_tokens` (Clerk's usual pagination bounds).
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 500;
const MAX_OFFSET: usize = u32::MAX as usize;

fn ok(body: &serde_json::Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, body))
}

/// `GET /v1/jwks` (instance secret key): all live keys of that instance.
pub async fn jwks(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    ok(&instance(&state, &caller)?.jwks_json())
}

/// `POST /m2m_tokens` (machine secret key).
pub async fn create_m2m(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Machine, now)?;
    let map = json_object(&body)?;
    let format = match opt_string(&map, "token_format")?.as_deref() {
        None | Some("opaque") => TokenFormat::Opaque,
        Some("jwt") => TokenFormat::Jwt,
        Some(_) => return Err(ApiError::param_value_invalid("token_format", "must be one of: opaque, jwt.")),
    };
    let req = CreateM2m {
        seconds_until_expiration: opt_number(&map, "seconds_until_expiration")?,
        claims: opt_object(&map, "claims")?,
        format,
        min_remaining_ttl_seconds: opt_number(&map, "min_remaining_ttl_seconds")?,
    };
    let machine_id = caller.machine_id().unwrap_or_default().to_owned();
    ok(&instance_mut(&mut state, &caller)?.create_m2m(&machine_id, req, now)?)
}

/// `GET /m2m_tokens?subject=&revoked=&expired=&limit=&offset=` (machine or instance key).
pub async fn list_m2m(State(app): State<App>, headers: HeaderMap, query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Either, now)?;
    let Ok(Query(pairs)) = query else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "query_param_invalid", "Invalid query", "The query string could not be parsed."));
    };
    let q = QueryParams::new(pairs);
    let list = ListM2m {
        subject: q.get("subject").map(str::to_owned),
        include_revoked: q.bool("revoked")?.unwrap_or(false),
        include_expired: q.bool("expired")?.unwrap_or(false),
        limit: q.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT),
        offset: q.int("offset", 0, MAX_OFFSET)?.unwrap_or(0),
    };
    ok(&instance(&state, &caller)?.list_m2m(caller.machine_id(), &list, now)?)
}

/// `POST /m2m_tokens/{id}/revoke` body `{revocation_reason}` (machine or instance key).
pub async fn revoke_m2m(State(app): State<App>, headers: HeaderMap, id: Result<Path<String>, PathRejection>, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Either, now)?;
    let Ok(Path(id)) = id else { return Err(ApiError::not_found("M2M token")) };
    let map = json_object(&body)?;
    let reason = opt_string(&map, "revocation_reason")?;
    let machine = caller.machine_id().map(str::to_owned);
    ok(&instance_mut(&mut state, &caller)?.revoke_m2m(machine.as_deref(), &id, reason, now)?)
}

/// `POST /m2m_tokens/verify` body `{token}` (machine or instance key).
pub async fn verify_m2m(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Either, now)?;
    let token = req_string(&json_object(&body)?, "token")?;
    ok(&instance(&state, &caller)?.verify_m2m(caller.machine_id(), &token, now)?)
}

/// `POST /oauth_applications/access_tokens/verify` body `{access_token}` (instance key only).
pub async fn verify_oauth(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let token = req_string(&json_object(&body)?, "access_token")?;
    ok(&instance(&state, &caller)?.verify_oauth_token(&token, now)?)
}

/// `POST /api_keys/verify` body `{secret}` (instance key only).
pub async fn verify_api_key(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let now = app.clock.now_ms();
    let mut state = app.state();
    let caller = authenticate(&state, &headers, Need::Instance, now)?;
    let secret = req_string(&json_object(&body)?, "secret")?;
    ok(&instance_mut(&mut state, &caller)?.verify_api_key(&secret, now)?)
}

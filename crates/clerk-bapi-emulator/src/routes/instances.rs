//! The admin API of one instance, `/__emulator/instances/{i}/…` (`{i}`: index or `ins_…` id):
//! signing keys, settings, machines (create, rename, delete, scopes, secret-key rotation),
//! M2M tokens (list, mint, revoke), inspect, seeded OAuth tokens and API keys, signing.
//! Machines may be named by id or by name. Bodies take camelCase or snake_case keys; answers are
//! camelCase. None of these requests is counted, faulted or logged: the dashboard keeps working
//! while the Backend API misbehaves on purpose.

use super::admin::{ok, AdminResult};
use super::input::{admin_body as body, instance_index, path, QueryParams};
use crate::app::App;
use crate::config::MachineConfig;
use crate::errors::ApiError;
use crate::state::admin::{KeyInstall, TokenFilter, MAX_TOKEN_PAGE};
use crate::state::m2m::{CreateM2m, TokenFormat};
use crate::state::machines::UpdateMachine;
use crate::state::seeded::{ApiKeySeed, OAuthTokenSeed};
use crate::state::Instance;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{json, Map, Value};

type InstancePath = Result<Path<String>, PathRejection>;
type MachinePath = Result<Path<(String, String)>, PathRejection>;

/// Runs `f` on instance `key` with the emulator's "now"; `f` answers the response body.
fn with_instance(app: &App, key: &str, f: impl FnOnce(&mut Instance, i64) -> Result<Value, ApiError>) -> AdminResult {
    let index = instance_index(app, key)?;
    let now = app.clock.now_ms();
    let mut state = app.state();
    let inst = state.instances.get_mut(index).ok_or_else(|| ApiError::not_found("Instance"))?;
    ok(&f(inst, now)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyBody {
    #[serde(default)]
    kid: Option<String>,
    /// Import this key (PKCS#8/PKCS#1 PEM) instead of generating one; needs `kid`.
    #[serde(default, alias = "private_key_pem")]
    private_key_pem: Option<String>,
    /// Retire every other key at once (tokens they signed stop verifying once clients refresh JWKS).
    #[serde(default, alias = "retire_previous")]
    retire_previous: bool,
}

pub async fn add_key(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: KeyBody = body(&bytes)?;
    let key = match (b.private_key_pem, b.kid) {
        (Some(pem), Some(kid)) => {
            if kid.trim().is_empty() {
                return Err(ApiError::admin_invalid("kid must not be empty"));
            }
            let key = crate::keys::SigningKey::from_private_key_pem(kid, &pem).map_err(crate::errors::EmulatorError::from)?;
            app.state().install_key(index, key, KeyInstall::Import, b.retire_previous)?
        }
        (Some(_), None) => return Err(ApiError::admin_invalid("importing a key (privateKeyPem) needs a kid")),
        (None, kid) => app.add_signing_key(index, kid, b.retire_previous).await?,
    };
    ok(&json!(key))
}

pub async fn retire_key(State(app): State<App>, p: MachinePath) -> AdminResult {
    let (inst, kid) = path(p)?;
    let index = instance_index(&app, &inst)?;
    app.state().retire_key(index, &kid)?;
    ok(&json!({ "retired": kid }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsBody {
    #[serde(default, alias = "reject_inactive_tokens")]
    reject_inactive_tokens: Option<bool>,
}

pub async fn settings(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: SettingsBody = body(&bytes)?;
    if let Some(r) = b.reject_inactive_tokens {
        app.state().set_reject_inactive_tokens(index, r)?;
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

pub async fn create_machine(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: MachineBody = body(&bytes)?;
    let now = app.clock.now_ms();
    let machine = app.state().create_named_machine(index, &MachineConfig { name: b.name, scoped_to: b.scoped_to, default_token_ttl: b.default_token_ttl }, now)?;
    ok(&json!(machine))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "default_token_ttl")]
    default_token_ttl: Option<f64>,
}

pub async fn update_machine(State(app): State<App>, p: MachinePath, bytes: Bytes) -> AdminResult {
    let (inst, machine) = path(p)?;
    let b: UpdateBody = body(&bytes)?;
    with_instance(&app, &inst, |i, now| {
        let id = i.resolve_machine(&machine)?;
        i.update_machine(&id, &UpdateMachine { name: b.name, default_token_ttl: b.default_token_ttl }, now)?;
        Ok(json!(i.machine_view(&id)?))
    })
}

pub async fn delete_machine(State(app): State<App>, p: MachinePath) -> AdminResult {
    let (inst, machine) = path(p)?;
    with_instance(&app, &inst, |i, now| {
        let id = i.resolve_machine(&machine)?;
        i.delete_machine(&id, now)?;
        Ok(json!({ "deleted": id }))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeBody {
    /// The machine (id or name) this one may now send to.
    to: String,
}

pub async fn add_scope(State(app): State<App>, p: MachinePath, bytes: Bytes) -> AdminResult {
    let (inst, machine) = path(p)?;
    let b: ScopeBody = body(&bytes)?;
    let limits = app.state().limits.clone();
    with_instance(&app, &inst, |i, now| {
        let (from, to) = (i.resolve_machine(&machine)?, i.resolve_machine(&b.to)?);
        i.add_scope(&from, &to, now, &limits)?;
        Ok(json!(i.machine_view(&from)?))
    })
}

pub async fn delete_scope(State(app): State<App>, p: Result<Path<(String, String, String)>, PathRejection>) -> AdminResult {
    let (inst, machine, other) = path(p)?;
    with_instance(&app, &inst, |i, now| {
        let (from, to) = (i.resolve_machine(&machine)?, i.resolve_machine(&other)?);
        i.delete_scope(&from, &to, now)?;
        Ok(json!(i.machine_view(&from)?))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RotateBody {
    #[serde(default, alias = "previous_token_ttl")]
    previous_token_ttl: f64,
}

/// A new secret key for the machine; the old one works `previousTokenTtl` more seconds (default 0).
pub async fn rotate_machine_secret(State(app): State<App>, p: MachinePath, bytes: Bytes) -> AdminResult {
    let (inst, machine) = path(p)?;
    let b: RotateBody = body(&bytes)?;
    with_instance(&app, &inst, |i, now| {
        let id = i.resolve_machine(&machine)?;
        i.rotate_machine_secret(&id, b.previous_token_ttl, now)?;
        Ok(json!(i.machine_view(&id)?))
    })
}

/// `GET …/m2m_tokens?machine=&revoked=true&expired=true&limit=` (newest first).
pub async fn list_tokens(State(app): State<App>, inst: InstancePath, query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> AdminResult {
    let inst = path(inst)?;
    let Ok(Query(pairs)) = query else { return Err(ApiError::admin_invalid("the query string could not be parsed")) };
    let q = QueryParams::new(pairs);
    let (include_revoked, include_expired) = (q.bool("revoked")?.unwrap_or(false), q.bool("expired")?.unwrap_or(false));
    let limit = q.int("limit", 1, MAX_TOKEN_PAGE)?.unwrap_or(100);
    let machine = q.get("machine").filter(|m| !m.is_empty()).map(str::to_owned);
    with_instance(&app, &inst, |i, now| {
        let machine = machine.map(|m| i.resolve_machine(&m)).transpose()?;
        Ok(i.token_views(&TokenFilter { machine, include_revoked, include_expired, limit }, now))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintBody {
    /// The minting machine (id or name).
    machine: String,
    #[serde(default)]
    format: Option<String>,
    /// Omitted or null: the token never expires.
    #[serde(default, alias = "seconds_until_expiration")]
    seconds_until_expiration: Option<f64>,
    #[serde(default)]
    claims: Option<Map<String, Value>>,
}

/// Mints as the machine would (`POST /m2m_tokens`), untouched by faults and unlogged.
pub async fn mint_token(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let inst = path(inst)?;
    let b: MintBody = body(&bytes)?;
    let format = match b.format.as_deref() {
        None | Some("opaque") => TokenFormat::Opaque,
        Some("jwt") => TokenFormat::Jwt,
        Some(_) => return Err(ApiError::admin_invalid("format must be opaque or jwt")),
    };
    with_instance(&app, &inst, |i, now| {
        let id = i.resolve_machine(&b.machine)?;
        i.mint_as(&id, CreateM2m { seconds_until_expiration: b.seconds_until_expiration, claims: b.claims, format, min_remaining_ttl_seconds: None }, now)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeBody {
    #[serde(default)]
    reason: Option<String>,
}

pub async fn revoke_token(State(app): State<App>, p: MachinePath, bytes: Bytes) -> AdminResult {
    let (inst, token_id) = path(p)?;
    let b: RevokeBody = body(&bytes)?;
    with_instance(&app, &inst, |i, now| {
        i.revoke_m2m(None, &token_id, b.reason.filter(|r| !r.trim().is_empty()), now)?;
        let t = i.m2m_tokens.get(&token_id).ok_or_else(|| ApiError::not_found("M2M token"))?;
        Ok(i.token_view(t, now))
    })
}

#[derive(Deserialize)]
struct InspectBody {
    token: String,
}

/// Decodes a pasted token and says whether it verifies against this instance, and why not.
pub async fn inspect(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let key = path(inst)?;
    let index = instance_index(&app, &key)?;
    let b: InspectBody = body(&bytes)?;
    with_instance(&app, &key, |i, now| Ok(i.inspect(index, &b.token, now)))
}

pub async fn seed_oauth(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let seed: OAuthTokenSeed = body(&bytes)?;
    let now = app.clock.now_ms();
    ok(&json!(app.state().seed_oauth_token(index, seed, now)?))
}

pub async fn seed_api_key(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let seed: ApiKeySeed = body(&bytes)?;
    let now = app.clock.now_ms();
    ok(&json!(app.state().seed_api_key(index, seed, now)?))
}

#[derive(Deserialize)]
struct SignBody {
    header: Value,
    payload: Value,
}

pub async fn sign(State(app): State<App>, inst: InstancePath, bytes: Bytes) -> AdminResult {
    let index = instance_index(&app, &path(inst)?)?;
    let b: SignBody = body(&bytes)?;
    ok(&json!({ "token": app.state().sign_jwt(index, &b.header, &b.payload)? }))
}

//! A local emulator of the Clerk Backend API endpoints used for machine authentication, so tests,
//! demos and local development exercise the real network paths (JWKS fetch, opaque verify,
//! create, revoke) and their failures over real HTTP on 127.0.0.1.
//!
//! ```no_run
//! # async fn demo() -> Result<(), clerk_bapi_emulator::EmulatorError> {
//! use clerk_bapi_emulator::{Emulator, Fault, FaultRule, Route};
//! let emu = Emulator::builder().start().await?;          // one instance: trpc, webhook, worker
//! let webhook = emu.machine("webhook").unwrap();          // webhook may call trpc
//! // POST {emu.url()}/m2m_tokens with `Authorization: Bearer {webhook.secret_key}` …
//! emu.set_fault(Route::Jwks, FaultRule::times(Fault::Status { status: 503, retry_after: None, body: None, content_type: None }, 1))?;
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Wire formats follow `@clerk/backend@3.25.0` (see the spec's §4.4, §5.4–5.6, §7): snake_case
//! bodies, millisecond timestamps, `Content-Type: application/json`, Clerk's error body
//! `{errors:[{code,message,long_message,meta?}], clerk_trace_id}`.
//!
//! # Endpoints
//!
//! | Route name | Endpoint | Credential |
//! |---|---|---|
//! | `jwks` | `GET /v1/jwks` | instance secret key |
//! | `m2m_create` | `POST /m2m_tokens` | machine secret key |
//! | `m2m_list` | `GET /m2m_tokens?subject=&revoked=&expired=&limit=&offset=` | machine or instance key |
//! | `m2m_revoke` | `POST /m2m_tokens/{id}/revoke` | machine or instance key |
//! | `m2m_verify` | `POST /m2m_tokens/verify` | machine or instance key |
//! | `oauth_verify` | `POST /oauth_applications/access_tokens/verify` | instance secret key |
//! | `api_key_verify` | `POST /api_keys/verify` | instance secret key |
//! | `machines` | `GET/POST /v1/machines`, `GET /v1/machines/{id}`, `GET /v1/machines/{id}/secret_key`, `POST /v1/machines/{id}/scopes`, `DELETE /v1/machines/{id}/scopes/{other}` | instance secret key |
//!
//! Missing/wrong credentials → 401 (`clerk_key_invalid` for instance keys,
//! `machine_secret_key_invalid` for machine keys), unknown tokens/resources → 404
//! (`resource_not_found`), bad bodies → 400, other methods → 405, bodies over 1 MiB → 413.
//!
//! # M2M token rules the reference leaves to the server
//!
//! * Subject = calling machine; scopes = that machine's scoped machine ids at minting time.
//! * `seconds_until_expiration`: `null` = never expires; otherwise 1 ≤ s ≤ 10 years.
//! * Opaque token value `mt_` + 48 chars, id `mt_` + 27 chars. JWT format: RS256 signed by the
//!   instance's active key, header `{"alg":"RS256","typ":"JWT","kid":…,"cat":"cl_B7d4PD333AAA"}`,
//!   claims `iss` (`{url}/instances/{id}`), `sub`, `aud` (scopes array), `scopes` (space-joined,
//!   omitted when empty), `jti` (= id), `iat`, `nbf` (= iat − 5), `exp` (omitted when the token
//!   never expires), then custom claims whose names do not collide with those.
//! * `min_remaining_ttl_seconds` (opaque only; JWTs are never deduplicated): must be < the
//!   effective lifetime (`seconds_until_expiration`, else the machine's `default_token_ttl`),
//!   else 400. If the machine has an opaque token that is not revoked, not expired, has
//!   identical `claims` and scopes, and either never expires or has at least that many seconds
//!   left, the newest such token is returned again (with `token`) instead of minting.
//! * List: newest first, default limit 10 (1..=500), revoked/expired excluded unless
//!   `revoked=true`/`expired=true`; a machine key lists only its own tokens (another `subject` →
//!   403).
//! * Revoke: a machine key may revoke tokens it minted or whose scopes include it; revoking
//!   again answers 200 and keeps the first reason.
//! * Verify: a machine key sees only tokens it minted or whose scopes include it (else 404).
//!   Revoked/expired tokens answer **200 with `revoked`/`expired` set** by default, or 404 when
//!   the instance's `reject_inactive_tokens` is on (same for OAuth tokens and API keys). JWT
//!   tokens are checked (signature with the instance's live keys, `exp`, `nbf` with 5 s skew)
//!   and answer 404 when invalid or expired.
//!
//! # Stable identities (`--seed`)
//!
//! [`EmulatorBuilder::seed`] derives instance ids, secret keys, signing keys and machine ids and
//! secret keys from a text seed, so they survive restarts; [`env_lines`] prints
//! them as `.env` lines.
//!
//! # Faults, counters, request log
//!
//! See [`Fault`] for the modes. Counters count every request of a route including faulted ones
//! (unmatched paths count as `other`). The request log keeps the last 200 requests with the
//! headers `Clerk-API-Version`, `User-Agent`, `Content-Type`, whether `Authorization` was sent
//! and the first 7 characters of its credential, and the body parsed as JSON (verbatim).
//!
//! # Admin HTTP API (`/__emulator/…`, no auth, not counted/faulted/logged)
//!
//! Request bodies accept camelCase or snake_case keys; responses are camelCase JSON.
//! `{i}` is an instance index (`0`) or id (`ins_…`).
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `GET /__emulator/info` | | start-up document (`url`, `instances`, `machines`, `clockOffsetMs`) |
//! | `GET /__emulator/faults` | | `{faults: {route: rule}}` |
//! | `PUT` or `POST /__emulator/faults/{route}` | fault rule, e.g. `{"type":"status","status":503,"retryAfter":2,"times":1}` | `{route, fault}` |
//! | `DELETE /__emulator/faults/{route}`, `DELETE /__emulator/faults` | | `{cleared: [routes]}` |
//! | `GET` / `DELETE /__emulator/counters` | | `{jwks: n, …, other: n}` (DELETE resets) |
//! | `GET` / `DELETE /__emulator/requests` | | `{requests: [...]}` (DELETE clears) |
//! | `GET /__emulator/clock` | | `{offsetMs, nowMs}` |
//! | `PUT /__emulator/clock` | `{offsetMs}` and/or `{advanceMs}` | `{offsetMs, nowMs}` |
//! | `POST /__emulator/instances/{i}/keys` | `{kid?}`, or `{kid, privateKeyPem}` to import a PKCS#8/PKCS#1 PEM key (replaces a live key of that kid) | new active key `{kid, publicKeyPem, jwk}` |
//! | `DELETE /__emulator/instances/{i}/keys/{kid}` | | `{retired: kid}` |
//! | `PUT /__emulator/instances/{i}/settings` | `{rejectInactiveTokens}` | instance info |
//! | `POST /__emulator/instances/{i}/machines` | `{name, scopedTo?: [names], defaultTokenTtl?}` | machine info |
//! | `POST /__emulator/instances/{i}/oauth_tokens` | [`OAuthTokenSeed`] | `{id, secret}` |
//! | `POST /__emulator/instances/{i}/api_keys` | [`ApiKeySeed`] | `{id, secret}` |
//! | `POST /__emulator/instances/{i}/sign` | `{header, payload}` | `{token}` signed by the active key |

mod bodies;
mod clock;
mod config;
mod conn;
mod counters;
mod errors;
pub mod faults;
mod ids;
pub mod keys;
mod launch;
mod reqlog;
mod seed;
mod routes;
mod server;
mod state;

pub use faults::{Fault, FaultRule, RetryAfter, Route};
pub use keys::{KeyError, SigningKey};
pub use reqlog::RecordedRequest;
pub use config::{InstanceConfig, MachineConfig};
pub use launch::{env_lines, LaunchOptions};
pub use server::{Emulator, EmulatorBuilder, EmulatorError, EmulatorHandle};
pub use state::seeded::{ApiKeySeed, OAuthTokenSeed, SeededToken};
pub use state::{InstanceInfo, KeyInfo, Limits, MachineInfo};

//! A local emulator of the Clerk Backend API endpoints used for machine authentication, so tests,
//! demos and local development exercise the real network paths (JWKS fetch, opaque verify,
//! create, revoke) and their failures over real HTTP on 127.0.0.1 — with a dashboard in the
//! browser (`/__emulator/ui`) to see the state and the traffic and act on them.
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
//! Wire formats follow `@clerk/backend@3.25.0` (the shapes its `M2MToken`, `IdPOAuthAccessToken` and `APIKey` resources read, and its error body): snake_case
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
//! | `machines` | `GET/POST /v1/machines`, `GET/PATCH/DELETE /v1/machines/{id}`, `GET /v1/machines/{id}/secret_key`, `POST /v1/machines/{id}/secret_key/rotate`, `POST /v1/machines/{id}/scopes`, `DELETE /v1/machines/{id}/scopes/{other}` | instance secret key |
//!
//! Missing/wrong credentials → 401 (`clerk_key_invalid` for instance keys,
//! `machine_secret_key_invalid` for machine keys), unknown tokens/resources → 404
//! (`resource_not_found`), bad bodies → 400, other methods → 405, bodies over 1 MiB → 413, a
//! request head or body that does not arrive within the request timeout (default 10 s) → the
//! connection is closed (head) or 408 (body).
//!
//! Machines: `PATCH` takes `{name?, default_token_ttl?}` and answers the machine; `DELETE`
//! answers `{object: "machine", id, deleted: true}` and also removes the machine from every scope
//! list and drops its tokens; `secret_key/rotate` takes `{previous_token_ttl}` (0..=28800 s: how
//! long the old key keeps working) and answers `{object: "machine_secret_key", secret}`.
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
//! # Stable identities (`--seed`) and state (`--state FILE`)
//!
//! [`EmulatorBuilder::seed`] derives instance ids, secret keys, signing keys and machine ids and
//! secret keys from a text seed, so they survive restarts; [`env_lines`] prints
//! them as `.env` lines. [`EmulatorBuilder::state_file`] keeps everything else too — machines
//! created at run time, scopes, rotated keys, tokens, seeded OAuth tokens and API keys — in a
//! JSON file written atomically after every change (owner-only, at most
//! [`MAX_STATE_FILE_BYTES`]); at start the file, when it exists, wins over the configuration. A
//! file that is not an emulator state file (not JSON, another format or version, inconsistent)
//! stops the start with a message saying why, and is never overwritten — nor is one changed by
//! something else while the emulator runs.
//!
//! # Safe by default
//!
//! It listens on 127.0.0.1 unless [`EmulatorBuilder::host`] says otherwise. The dashboard and
//! the admin API answer only requests whose `Host` is an IP address, `localhost` or a name given
//! to [`EmulatorBuilder::allow_host`] (DNS rebinding), and refuse state-changing requests from a
//! browser that lack the emulator's token in [`TOKEN_HEADER`] (CSRF); the dashboard page carries
//! the token, no URL does. The dashboard's live log shows a [`RequestSummary`] of each request —
//! never a body, query, header or credential.
//!
//! # Faults, counters, request log
//!
//! See [`Fault`] for the modes. Counters count every request of a route including faulted ones
//! (unmatched paths count as `other`). The request log keeps the last 200 requests with the
//! headers `Clerk-API-Version`, `User-Agent`, `Content-Type`, whether `Authorization` was sent
//! and the first 7 characters of its credential, the caller (machine name and id, `instance` or
//! `unknown`), the latency, and the body parsed as JSON (verbatim, for wire-format tests; the
//! dashboard never shows it).
//!
//! # Admin HTTP API (`/__emulator/…`, not counted/faulted/logged)
//!
//! Request bodies accept camelCase or snake_case keys; responses are camelCase JSON.
//! `{i}` is an instance index (`0`) or id (`ins_…`); `{m}` a machine id or name. Guarded by the
//! Host and CSRF rules above.
//!
//! | Method & path | Body | Answer |
//! |---|---|---|
//! | `GET /__emulator/ui` | | the dashboard (`app.js`, `app.css` beside it) |
//! | `GET /__emulator/events` | | server-sent events: `request` (a [`RequestSummary`], when a request arrives and when it ends), `changed`, `lagged` |
//! | `GET /__emulator/info` | | start-up document (`url`, `dashboardUrl`, `adminToken`, `instances`, `machines`, `clockOffsetMs`, `stateFile`) |
//! | `GET /__emulator/faults` | | `{faults: {route: rule}}` |
//! | `PUT` or `POST /__emulator/faults/{route}` | fault rule, e.g. `{"type":"status","status":503,"retryAfter":2,"times":1}` | `{route, fault}` |
//! | `DELETE /__emulator/faults/{route}`, `DELETE /__emulator/faults` | | `{cleared: [routes]}` |
//! | `GET` / `DELETE /__emulator/counters` | | `{jwks: n, …, other: n}` (DELETE resets) |
//! | `GET` / `DELETE /__emulator/requests` | | `{requests: [...]}` (DELETE clears) |
//! | `GET /__emulator/requests/summaries` | | `{requests: [summary…]}` (what the dashboard shows) |
//! | `GET /__emulator/clock` | | `{offsetMs, nowMs}` |
//! | `PUT /__emulator/clock` | `{offsetMs}` and/or `{advanceMs}` | `{offsetMs, nowMs}` |
//! | `POST /__emulator/instances/{i}/keys` | `{kid?, retirePrevious?}`, or `{kid, privateKeyPem}` to import a PKCS#8/PKCS#1 PEM key (replaces a live key of that kid) | new active key `{kid, publicKeyPem, jwk}` |
//! | `DELETE /__emulator/instances/{i}/keys/{kid}` | | `{retired: kid}` |
//! | `PUT /__emulator/instances/{i}/settings` | `{rejectInactiveTokens}` | instance info |
//! | `POST /__emulator/instances/{i}/machines` | `{name, scopedTo?: [names], defaultTokenTtl?}` | machine info |
//! | `PATCH` / `DELETE /__emulator/instances/{i}/machines/{m}` | `{name?, defaultTokenTtl?}` | machine info / `{deleted: id}` |
//! | `POST /__emulator/instances/{i}/machines/{m}/scopes`, `DELETE …/scopes/{other}` | `{to}` (id or name) | machine info |
//! | `POST /__emulator/instances/{i}/machines/{m}/secret_key/rotate` | `{previousTokenTtl?}` (default 0) | machine info |
//! | `GET /__emulator/instances/{i}/m2m_tokens?machine=&revoked=&expired=&limit=` | | `{tokens, totalCount}` (newest first, with their values) |
//! | `POST /__emulator/instances/{i}/m2m_tokens` | `{machine, format?, secondsUntilExpiration?, claims?}` | the minted token (as the machine would mint it; faults do not apply) |
//! | `POST /__emulator/instances/{i}/m2m_tokens/{id}/revoke` | `{reason?}` | the token |
//! | `POST /__emulator/instances/{i}/inspect` | `{token}` | `{kind, verifies, reason, message, decoded, token}` |
//! | `POST /__emulator/instances/{i}/oauth_tokens` | [`OAuthTokenSeed`] | `{id, secret}` |
//! | `POST /__emulator/instances/{i}/api_keys` | [`ApiKeySeed`] | `{id, secret}` |
//! | `POST /__emulator/instances/{i}/sign` | `{header, payload}` | `{token}` signed by the active key |

mod access;
mod app;
mod bodies;
mod builder;
mod clock;
mod config;
mod conn;
mod counters;
mod errors;
pub mod faults;
mod handle;
mod ids;
pub mod keys;
mod launch;
mod reqlog;
mod routes;
mod seed;
mod serve;
mod state;
mod statefile;

pub use access::TOKEN_HEADER;
pub use app::DASHBOARD_PATH;
pub use builder::{Emulator, EmulatorBuilder, DEFAULT_REQUEST_LOG_CAPACITY};
pub use config::{InstanceConfig, MachineConfig, MAX_INSTANCES};
pub use errors::EmulatorError;
pub use faults::{Fault, FaultRule, RetryAfter, Route};
pub use handle::EmulatorHandle;
pub use keys::{KeyError, SigningKey};
pub use launch::{env_lines, LaunchOptions};
pub use reqlog::{RecordedRequest, RequestSummary};
pub use serve::DEFAULT_REQUEST_TIMEOUT;
pub use state::seeded::{ApiKeySeed, OAuthTokenSeed, SeededToken};
pub use state::{InstanceInfo, KeyInfo, Limits, MachineInfo};
pub use statefile::MAX_STATE_FILE_BYTES;

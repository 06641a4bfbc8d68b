//! Conversions between JavaScript values and the core's types, and the mapping of the core's
//! errors to napi errors (`code` `InvalidArg` for what the caller got wrong, `GenericFailure`
//! otherwise). The JS shapes of options and counters are declared here.

use clerk_m2m_core::jwks::JwksStats;
use clerk_m2m_core::{AcceptsToken, LaneStats, Mode, RawM2mClientOptions, RawOptions};
use napi::bindgen_prelude::{Either, Error, Status};
use napi_derive::napi;
use std::fmt::Display;

/// A value the caller passed that cannot be used (bad options): `code: 'InvalidArg'`.
pub fn invalid_arg(e: impl Display) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// Anything else that failed: `code: 'GenericFailure'`.
pub fn failure(e: impl Display) -> Error {
    Error::new(Status::GenericFailure, e.to_string())
}

/// `verifyM2MToken` (`true`) or `verifyMachineAuthToken` (`false`).
pub fn mode(m2m_only: bool) -> Mode {
    if m2m_only {
        Mode::M2MOnly
    } else {
        Mode::MachineAuth
    }
}

/// `acceptsToken` of `isTokenTypeAccepted`: `'any'` accepts every type; an array is a plain list.
pub fn accepts_token(accepts: &Either<String, Vec<String>>) -> AcceptsToken<'_> {
    match accepts {
        Either::A(one) if one == "any" => AcceptsToken::Any,
        Either::A(one) => AcceptsToken::One(one),
        Either::B(list) => AcceptsToken::List(list.iter().map(String::as_str).collect()),
    }
}

/// Options of a `NativeVerifier`, already type-checked by the JS layer (`lib/verify.js`).
#[napi(object)]
#[derive(Default)]
pub struct NativeVerifyOptions {
    pub secret_key: Option<String>,
    pub machine_secret_key: Option<String>,
    pub jwt_key: Option<String>,
    pub api_url: Option<String>,
    pub api_version: Option<String>,
    pub clock_skew_in_ms: Option<f64>,
    pub skip_jwks_cache: Option<bool>,
    pub audience: Option<Vec<String>>,
    pub timeout_ms: Option<f64>,
    pub max_token_bytes: Option<f64>,
    pub token_cache: Option<bool>,
    pub opaque_cache_ttl_ms: Option<f64>,
}

impl From<NativeVerifyOptions> for RawOptions {
    fn from(o: NativeVerifyOptions) -> Self {
        RawOptions {
            secret_key: o.secret_key,
            machine_secret_key: o.machine_secret_key,
            jwt_key: o.jwt_key,
            api_url: o.api_url,
            api_version: o.api_version,
            clock_skew_in_ms: o.clock_skew_in_ms,
            skip_jwks_cache: o.skip_jwks_cache.unwrap_or(false),
            audience: o.audience.unwrap_or_default(),
            timeout_ms: o.timeout_ms,
            max_token_bytes: o.max_token_bytes,
            token_cache: o.token_cache,
            opaque_cache_ttl_ms: o.opaque_cache_ttl_ms,
        }
    }
}

/// Counters and cache sizes of a `NativeVerifier` (`stats()` in JS).
#[napi(object)]
pub struct NativeVerifierStats {
    /// Verifications settled on the calling thread (no network, no thread hop).
    pub local: f64,
    /// Verifications that went to the async runtime.
    pub remote: f64,
    /// JWKS fetches made by this process, and lookups that joined a fetch in flight.
    pub jwks_fetches: f64,
    pub jwks_coalesced: f64,
    pub jwks_cooldown_rejections: f64,
    pub jwks_scopes: f64,
    /// Entries in the process-wide verified-signature cache.
    pub signature_cache_entries: f64,
}

impl NativeVerifierStats {
    /// A verifier's `(local, remote)` counts, the JWKS cache's counters and the signature cache's size.
    pub fn new((local, remote): (u64, u64), jwks: JwksStats, signature_cache_entries: usize) -> Self {
        NativeVerifierStats {
            local: local as f64,
            remote: remote as f64,
            jwks_fetches: jwks.fetches as f64,
            jwks_coalesced: jwks.coalesced as f64,
            jwks_cooldown_rejections: jwks.cooldown_rejections as f64,
            jwks_scopes: jwks.scopes as f64,
            signature_cache_entries: signature_cache_entries as f64,
        }
    }
}

/// Counters of a `NativeOffload` lane (`offloadStats()` in JS).
#[napi(object)]
pub struct NativeOffloadStats {
    /// Verifications handed to worker threads.
    pub submitted: f64,
    /// Verifications refused because the lane was full (verified on the calling thread instead).
    pub refused: f64,
    /// Answers handed back.
    pub delivered: f64,
    /// Handed over and not yet answered.
    pub in_flight: f64,
    /// Most verifications a lane holds at once.
    pub lane_max: f64,
    /// Worker threads started in this process (at most one per core, 8 at most).
    pub threads: f64,
}

impl NativeOffloadStats {
    pub fn new(s: LaneStats, lane_max: usize) -> Self {
        NativeOffloadStats {
            submitted: s.submitted as f64,
            refused: s.refused as f64,
            delivered: s.delivered as f64,
            in_flight: s.in_flight as f64,
            lane_max: lane_max as f64,
            threads: s.threads as f64,
        }
    }
}

/// Options of a `NativeM2MClient`, already type-checked by `lib/m2m.js`.
#[napi(object)]
#[derive(Default)]
pub struct NativeM2MClientOptions {
    pub secret_key: Option<String>,
    pub machine_secret_key: Option<String>,
    pub api_url: Option<String>,
    pub timeout_ms: Option<f64>,
}

impl From<NativeM2MClientOptions> for RawM2mClientOptions {
    fn from(o: NativeM2MClientOptions) -> Self {
        RawM2mClientOptions { secret_key: o.secret_key, machine_secret_key: o.machine_secret_key, api_url: o.api_url, timeout_ms: o.timeout_ms }
    }
}

//! napi binding of `clerk-m2m-native`: type conversion and error mapping only.
//!
//! Every export is `catch_unwind`, so a bug can never abort the host process:
//! a panic becomes a JS `Error`. All logic lives in `clerk-m2m-core`.

#![deny(clippy::all)]

mod decode;
mod emulator;
mod m2m_client;
mod str_arg;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;

pub use decode::decode_jwt;
pub use emulator::{start_native_emulator, NativeEmulator, NativeEmulatorOptions};

use clerk_m2m_core::detect;
use clerk_m2m_core::options::{RawOptions, VerifyOptions};
use clerk_m2m_core::errors::{FailureReason, MachineErrorCode, MachineTokenVerificationError};
use clerk_m2m_core::outcome::Outcome;
use clerk_m2m_core::verify::{Mode, Verifier};
use clerk_m2m_core::{jwks, sigcache};
use napi::bindgen_prelude::*;
use std::sync::{Arc, LazyLock};
use napi_derive::napi;
use str_arg::StrArg;

/// True iff `token` has the JWT shape `xxx.yyy.zzz` in the base64url alphabet (no padding, no whitespace).
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_jwt_format(token: StrArg) -> Result<bool> {
    token.with_utf8(|t| detect::is_jwt_format(t))
}

/// True iff `token` is a decodable JWT whose header `typ` is `at+jwt` or `application/at+jwt`.
#[napi(catch_unwind, js_name = "isOAuthJwt", ts_args_type = "token: string")]
pub fn is_oauth_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| detect::is_oauth_jwt(t))
}

/// True iff `token` is a decodable JWT whose `sub` is a string starting with `mch_`.
#[napi(catch_unwind, js_name = "isM2MJwt", ts_args_type = "token: string")]
pub fn is_m2m_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| detect::is_m2m_jwt(t))
}

/// `isOAuthJwt(token) || isM2MJwt(token)`, decoding once.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| detect::is_machine_jwt(t))
}

/// True iff `token` starts with `mt_`, `oat_` or `ak_`.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_token_by_prefix(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| detect::is_machine_token_by_prefix(t))
}

/// True iff `token` is a machine token by prefix, or an OAuth or M2M JWT.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_token(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| detect::is_machine_token(t))
}

/// The machine token type of `token`; throws `Error('Unknown machine token type')` otherwise.
#[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "'m2m_token' | 'oauth_token' | 'api_key'")]
pub fn get_machine_token_type(token: StrArg) -> Result<&'static str> {
    token
        .with_utf8_head(|t| detect::get_machine_token_type(t))?
        .map(|t| t.as_str())
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// True iff `type` is exactly `api_key`, `m2m_token` or `oauth_token`.
#[napi(catch_unwind, ts_args_type = "type: string", ts_return_type = "type is 'api_key' | 'm2m_token' | 'oauth_token'")]
pub fn is_machine_token_type(r#type: String) -> bool {
    detect::is_machine_token_type(&r#type)
}

/// `isTokenTypeAccepted(tokenType, acceptsToken)`: `'any'` accepts every type; an array is a plain list.
#[napi(
    catch_unwind,
    ts_args_type = "tokenType: 'session_token' | 'api_key' | 'm2m_token' | 'oauth_token' | null | undefined, acceptsToken: 'any' | 'session_token' | 'api_key' | 'm2m_token' | 'oauth_token' | Array<'session_token' | 'api_key' | 'm2m_token' | 'oauth_token'>"
)]
pub fn is_token_type_accepted(token_type: Option<String>, accepts_token: Either<String, Vec<String>>) -> bool {
    let accepts = match &accepts_token {
        Either::A(one) if one == "any" => detect::AcceptsToken::Any,
        Either::A(one) => detect::AcceptsToken::One(one),
        Either::B(list) => detect::AcceptsToken::List(list.iter().map(String::as_str).collect()),
    };
    detect::is_token_type_accepted(token_type.as_deref(), &accepts)
}

/// Options of a [`NativeVerifier`], already type-checked by the JS layer (`lib/verify.js`).
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

fn mode(m2m_only: bool) -> Mode {
    if m2m_only {
        Mode::M2MOnly
    } else {
        Mode::MachineAuth
    }
}

/// Threads a batch is split across. Read once: `available_parallelism` reads
/// cgroup files on every call (measured: a visible share of a batch's time).
static BATCH_WORKERS: LazyLock<usize> = LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8));

/// Native memory a verifier holds, told to V8 (which cannot see it) so that dropped verifiers
/// are collected promptly: measured ~1.5 KiB, ~6 KiB with a parsed `jwtKey`. Unreported, a
/// caller churning through option sets left ~80 MB of dead verifiers per 10,000 awaiting a GC.
const EXTERNAL_BYTES: i64 = 1_536;
const EXTERNAL_BYTES_PEM: i64 = 6_144;

/// A verifier bound to one option set: parsed keys, JWKS scope and HTTP pool live here.
/// Outcomes cross the boundary as one compact JSON string; `lib/verify.js` builds the objects.
#[napi(custom_finalize)]
pub struct NativeVerifier {
    inner: Arc<Verifier>,
    /// What the constructor reported to V8 as external memory; given back when collected.
    external_bytes: i64,
}

impl ObjectFinalize for NativeVerifier {
    fn finalize(self, env: Env) -> Result<()> {
        env.adjust_external_memory(-self.external_bytes)?;
        Ok(())
    }
}

/// Counters and cache sizes of a [`NativeVerifier`] (`stats()` in JS).
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

#[napi]
impl NativeVerifier {
    /// `options` absent or `null` = every default.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<NativeVerifyOptions>) -> Result<Self> {
        let options = VerifyOptions::from_raw(options.unwrap_or_default().into()).map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
        let external_bytes = if options.jwt_key.is_some() { EXTERNAL_BYTES_PEM } else { EXTERNAL_BYTES };
        env.adjust_external_memory(external_bytes)?;
        Ok(NativeVerifier { inner: Arc::new(Verifier::new(options)), external_bytes })
    }

    /// Empties what this verifier caches by itself (the opt-in opaque-token answers); shared
    /// caches stay. The rest is freed when the object is collected. `close()` in JS calls it.
    #[napi(catch_unwind)]
    pub fn release(&self) {
        self.inner.clear_caches();
    }

    /// Settles on the calling thread whatever needs no network; `null` means "call `verifyRemote`".
    #[napi(catch_unwind)]
    pub fn verify_local(&self, token: String, m2m_only: bool) -> Option<String> {
        let answer = self.inner.verify_local_answer(&token, mode(m2m_only))?;
        Some(answer.outcome.to_wire_string(self.inner.reuse_hint(&answer)))
    }

    /// The full verification, network included, on the async runtime.
    #[napi]
    pub async fn verify_remote(&self, token: String, m2m_only: bool) -> String {
        let verifier = Arc::clone(&self.inner);
        // Never marked reusable: a token that needed the network is a first sighting here.
        verifier.verify(&token, mode(m2m_only)).await.to_wire_string(None)
    }

    /// Verifies a batch on every core: local work is split across `threads`
    /// blocking threads (default: one per core), what needs the network runs
    /// concurrently. Outcomes in input order.
    #[napi]
    pub async fn verify_many(&self, tokens: Vec<String>, m2m_only: bool, threads: Option<u32>) -> Vec<String> {
        let mode = mode(m2m_only);
        let workers = threads.map_or(*BATCH_WORKERS, |t| (t as usize).clamp(1, 8));
        let chunk = tokens.len().div_ceil(workers).max(1);
        let tokens = Arc::new(tokens);
        let mut local = Vec::with_capacity(workers);
        for start in (0..tokens.len()).step_by(chunk) {
            let (verifier, tokens) = (Arc::clone(&self.inner), Arc::clone(&tokens));
            let end = (start + chunk).min(tokens.len());
            local.push(tokio::task::spawn_blocking(move || {
                tokens.get(start..end).unwrap_or_default().iter().map(|t| verifier.verify_local(t, mode)).collect::<Vec<_>>()
            }));
        }
        let mut outcomes = Vec::with_capacity(tokens.len());
        for handle in local {
            match handle.await {
                Ok(part) => outcomes.extend(part),
                // A panicking chunk (a bug) falls back to the async path for its tokens.
                Err(_) => outcomes.extend(std::iter::repeat_n(None, chunk)),
            }
        }
        outcomes.resize(tokens.len(), None);
        let mut remote = tokio::task::JoinSet::new();
        for (i, o) in outcomes.iter().enumerate() {
            if o.is_none() {
                let (verifier, tokens) = (Arc::clone(&self.inner), Arc::clone(&tokens));
                remote.spawn(async move {
                    let token = tokens.get(i).map(String::as_str).unwrap_or_default();
                    (i, verifier.verify(token, mode).await)
                });
            }
        }
        while let Some(joined) = remote.join_next().await {
            if let Ok((i, o)) = joined {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(o);
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Rejected { token_type: clerk_m2m_core::TokenType::M2MToken, error: internal_error() }).to_wire_string(None))
            .collect()
    }

    /// Threads a batch uses by default (one per core, at most 8).
    #[napi(getter, catch_unwind)]
    pub fn batch_workers(&self) -> u32 {
        *BATCH_WORKERS as u32
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeVerifierStats {
        let jwks = jwks::global().stats();
        let (local, remote) = self.inner.counts();
        NativeVerifierStats {
            local: local as f64,
            remote: remote as f64,
            jwks_fetches: jwks.fetches as f64,
            jwks_coalesced: jwks.coalesced as f64,
            jwks_cooldown_rejections: jwks.cooldown_rejections as f64,
            jwks_scopes: jwks.scopes as f64,
            signature_cache_entries: sigcache::global().len() as f64,
        }
    }
}

/// What a batch entry reports if its task died (only a bug can cause it).
fn internal_error() -> MachineTokenVerificationError {
    MachineTokenVerificationError::new(MachineErrorCode::UnexpectedError, FailureReason::Internal, "Unexpected error")
}

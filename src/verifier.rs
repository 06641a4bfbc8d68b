//! `NativeVerifier`: a verifier bound to one option set (parsed keys, JWKS scope and HTTP pool
//! live in the core's `Verifier`). Outcomes cross the boundary as one compact JSON string;
//! `lib/verify.js` builds the objects.

use crate::convert::{invalid_arg, mode, NativeVerifierStats, NativeVerifyOptions};
use clerk_m2m_core::{Verifier, VerifyOptions};
use clerk_m2m_core::{jwks, sigcache};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// Native memory a verifier holds, told to V8 (which cannot see it) so that dropped verifiers
/// are collected promptly: measured ~1.5 KiB, ~6 KiB with a parsed `jwtKey`. Unreported, a
/// caller churning through option sets left ~80 MB of dead verifiers per 10,000 awaiting a GC.
const EXTERNAL_BYTES: i64 = 1_536;
const EXTERNAL_BYTES_PEM: i64 = 6_144;

/// A verifier bound to one option set: parsed keys, JWKS scope and HTTP pool live here.
/// Outcomes cross the boundary as one compact JSON string; `lib/verify.js` builds the objects.
#[napi(custom_finalize)]
pub struct NativeVerifier {
    pub(crate) inner: Arc<Verifier>,
    /// What the constructor reported to V8 as external memory; given back when collected.
    external_bytes: i64,
}

impl ObjectFinalize for NativeVerifier {
    fn finalize(self, env: Env) -> Result<()> {
        env.adjust_external_memory(-self.external_bytes)?;
        Ok(())
    }
}

impl NativeVerifier {
    /// The core's verifier, for other exports of the binding (`NativeOffload::submit`).
    pub(crate) fn core(&self) -> &Arc<Verifier> {
        &self.inner
    }
}

#[napi]
impl NativeVerifier {
    /// `options` absent or `null` = every default.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<NativeVerifyOptions>) -> Result<Self> {
        let options = VerifyOptions::from_raw(options.unwrap_or_default().into()).map_err(invalid_arg)?;
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

    /// Verifies a batch on every core, the calling thread included (it takes an equal share
    /// before this returns). Outcomes in input order.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<string>>")]
    pub fn verify_many<'env>(&self, env: &'env Env, tokens: Vec<String>, m2m_only: bool) -> Result<PromiseRaw<'env, Vec<String>>> {
        let batch = within_runtime_if_available(|| self.inner.verify_batch(tokens, mode(m2m_only)));
        env.spawn_future(async move {
            let outcomes = batch.await;
            Ok(outcomes.iter().map(|o| o.to_wire_string(None)).collect())
        })
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeVerifierStats {
        NativeVerifierStats::new(self.inner.counts(), jwks::global().stats(), sigcache::global().len())
    }
}

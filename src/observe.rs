//! What the binding tells operators: a traced remote verification (the outcome with the HTTP
//! requests it made, asked for only while someone listens in JS), a verifier's outcome
//! counts, and the process-wide counters. Cold paths: they answer in JSON text, which
//! `lib/observe/` reads.

use crate::convert::mode;
use crate::verifier::NativeVerifier;
use clerk_m2m_core::telemetry::{self, collect_http_events, LATENCY_BUCKETS_MS};
use clerk_m2m_core::process_outcomes;
use clerk_m2m_core::{jwks, sigcache};
use napi_derive::napi;
use serde_json::json;
use std::sync::Arc;

#[napi]
impl NativeVerifier {
    /// `verifyRemote`, plus the HTTP requests it made: `[outcome, requests]`, both JSON text
    /// (requests as `telemetry::HttpEvent`s). Called instead of `verifyRemote` only while a
    /// subscriber listens.
    #[napi]
    pub async fn verify_remote_traced(&self, token: String, m2m_only: bool) -> Vec<String> {
        let verifier = Arc::clone(&self.inner);
        let (outcome, events) = collect_http_events(verifier.verify(&token, mode(m2m_only))).await;
        verifier.outcomes().record(&outcome);
        let events = serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_owned());
        vec![outcome.to_wire_string(None), events]
    }

    /// This verifier's outcomes: JSON `[[tokenType, code, count], …]`, non-zero cells only.
    #[napi(catch_unwind)]
    pub fn outcome_counts(&self) -> String {
        serde_json::to_string(&self.inner.outcomes().snapshot()).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// The process-wide counters as JSON: the JWKS cache, the signature cache, outcomes of every
/// verifier, and the Backend API requests by route (with their latency histogram).
#[napi(catch_unwind)]
pub fn process_stats_json() -> String {
    let jwks = jwks::global().stats();
    let sig = sigcache::global().stats();
    json!({
        "jwks": { "fetches": jwks.fetches, "coalesced": jwks.coalesced, "cooldownRejections": jwks.cooldown_rejections, "scopes": jwks.scopes },
        "signatureCache": { "entries": sig.entries, "capacity": sig.capacity, "hits": sig.hits, "misses": sig.misses },
        "outcomes": process_outcomes().snapshot(),
        "http": telemetry::http_metrics().snapshot(),
        "latencyBucketsMs": LATENCY_BUCKETS_MS,
    })
    .to_string()
}

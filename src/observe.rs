//! What the binding tells operators: a traced remote verification (the outcome with the HTTP
//! requests it made, asked for only while someone listens in JS), a verifier's outcome
//! counts, and the process-wide counters. Cold paths: they answer in JSON text, which
//! `lib/observe/` reads.

use crate::convert::mode;
use crate::m2m_client::NativeM2MClient;
use crate::verifier::NativeVerifier;
use clerk_m2m_core::bapi::{CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams};
use clerk_m2m_core::{internal_error_json, outcome_json, parse_params, Secret};
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
        let events = serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_owned());
        vec![outcome.to_wire_string(None), events]
    }

    /// This verifier's outcomes: JSON `[[tokenType, code, count], …]`, non-zero cells only.
    #[napi(catch_unwind)]
    pub fn outcome_counts(&self) -> String {
        serde_json::to_string(&self.inner.outcomes().snapshot()).unwrap_or_else(|_| "[]".to_owned())
    }
}

#[napi]
impl NativeM2MClient {
    /// `createToken`, `revokeToken`, `list` (`arg`: their params JSON) or `verifyOpaque` (`arg`: the
    /// token, `machineSecretKey`: the per-call key), by name, with the requests it made:
    /// `[outcome, requests]`. Called instead of them only while a subscriber listens.
    #[napi]
    pub async fn call_traced(&self, operation: String, arg: String, machine_secret_key: Option<String>) -> Vec<String> {
        let client = Arc::clone(&self.inner);
        if !matches!(operation.as_str(), "createToken" | "revokeToken" | "list" | "verifyOpaque") {
            return vec![internal_error_json("Unknown M2M client operation (internal error)."), "[]".to_owned()];
        }
        let work = async move {
            match operation.as_str() {
                "createToken" => client.create_token(&parse_params::<CreateM2mTokenParams>(&arg)?).await,
                "revokeToken" => client.revoke_token(&parse_params::<RevokeM2mTokenParams>(&arg)?).await,
                "list" => client.list(&parse_params::<ListM2mTokensParams>(&arg)?).await,
                _ => client.verify_opaque(&arg, Secret::present(machine_secret_key).as_ref()).await,
            }
        };
        // Spawned (the scope inside the task), so a panic settles as an error outcome, as the untraced calls do.
        match tokio::spawn(collect_http_events(work)).await {
            Ok((result, events)) => vec![outcome_json(result), serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_owned())],
            Err(_) => vec![internal_error_json("The M2M client failed unexpectedly (internal error)."), "[]".to_owned()],
        }
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

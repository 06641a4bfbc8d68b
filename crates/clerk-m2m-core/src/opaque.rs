//! Opaque tokens (`mt_`, `oat_`, `ak_`): verified by the Backend API, with single-flight for
//! concurrent identical verifications and an opt-in, short-lived result cache.
//!
//! Single-flight is always on: N concurrent verifications of one token make
//! one Backend API call and share its answer (the answer cannot differ between
//! them). The result cache is off by default (parity): every cached second is
//! a second a revoked token still works, so its TTL is capped at 60 s and an
//! entry never outlives the token's own `expiration`. Only successful answers
//! are cached — never 4xx/5xx/429 or network failures.

use crate::bapi::{self, BapiConfig};
use crate::claims;
use crate::constants::TokenType;
use crate::errors::{FailureReason, MachineErrorCode};
use crate::js;
use crate::jwt;
use crate::outcome::{Outcome, VerifiedData};
use quick_cache::sync::Cache;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OnceCell;

/// Longest result-cache TTL accepted.
pub const MAX_RESULT_TTL_MS: f64 = 60_000.0;
/// Entries of a verifier's result cache.
pub const RESULT_CACHE_CAPACITY: usize = 10_000;

type Key = [u8; 32];

/// Cached opaque answers (outcome, stored at ms) and the TTL in ms.
type ResultCache = (Cache<Key, (Outcome, f64)>, f64);

#[derive(Default)]
pub struct OpaqueAnswers {
    flights: Mutex<HashMap<Key, Arc<OnceCell<Outcome>>>>,
    results: Option<ResultCache>,
}

impl std::fmt::Debug for OpaqueAnswers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpaqueAnswers").field("result_cache", &self.results.as_ref().map(|(_, ttl)| ttl)).finish_non_exhaustive()
    }
}

fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

/// How long a verified answer may be reused: the TTL, never past `expiration`.
fn cache_until(outcome: &Outcome, now_ms: f64, ttl_ms: f64) -> Option<f64> {
    let Outcome::Verified { data: VerifiedData::Api(data), .. } = outcome else { return None };
    let limit = now_ms + ttl_ms;
    match data.get("expiration") {
        None | Some(Value::Null) => Some(limit),
        Some(v) => v.as_f64().filter(|e| e.is_finite()).map(|e| e.min(limit)).filter(|until| *until > now_ms),
    }
}

/// Held by the caller that opened a flight: removes the flight from the map when
/// that caller finishes, fails or is dropped (a cancelled request). Without it, a
/// cancelled leader would leave its cell behind; a waiter would then fill it and
/// every later call would get that answer, with no expiry.
struct FlightGuard<'a> {
    flights: &'a Mutex<HashMap<Key, Arc<OnceCell<Outcome>>>>,
    key: Key,
    cell: Arc<OnceCell<Outcome>>,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // Only this flight: a later one for the same token is not ours to remove.
        if flights.get(&self.key).is_some_and(|c| Arc::ptr_eq(c, &self.cell)) {
            flights.remove(&self.key);
        }
    }
}

impl OpaqueAnswers {
    /// `result_ttl_ms` of 0 disables the result cache.
    pub fn new(result_ttl_ms: f64) -> Self {
        let ttl = result_ttl_ms.clamp(0.0, MAX_RESULT_TTL_MS);
        OpaqueAnswers { flights: Mutex::default(), results: (ttl > 0.0).then(|| (Cache::new(RESULT_CACHE_CAPACITY), ttl)) }
    }

    /// Forgets every cached answer (flights in progress finish normally).
    pub fn clear(&self) {
        if let Some((cache, _)) = &self.results {
            cache.clear();
        }
    }

    /// Cached answers held now.
    #[cfg(test)]
    pub fn cached(&self) -> usize {
        self.results.as_ref().map_or(0, |(cache, _)| cache.len())
    }

    /// Verifies an opaque token of `token_type` with the Backend API at `bapi` (an OAuth
    /// token's audience against `audience`): the answer is cached, joined from a call in
    /// flight, or asked for.
    pub async fn verify(&self, bapi: &BapiConfig, token: &str, token_type: TokenType, audience: &[String], now_ms: impl Fn() -> f64) -> Outcome {
        self.get(token, now_ms, || ask(bapi, token, token_type, audience)).await
    }

    /// The answer for `token`: cached, joined from a call in flight, or fetched by `fetch`.
    pub async fn get<F, Fut>(&self, token: &str, now_ms: impl Fn() -> f64, fetch: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let k = key(token);
        if let Some((cache, _)) = &self.results {
            if let Some((outcome, until)) = cache.get(&k) {
                if now_ms() < until {
                    return outcome;
                }
                cache.remove(&k);
            }
        }
        let (cell, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            match flights.get(&k) {
                Some(cell) => (Arc::clone(cell), None),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    flights.insert(k, Arc::clone(&cell));
                    let guard = FlightGuard { flights: &self.flights, key: k, cell: Arc::clone(&cell) };
                    (cell, Some(guard))
                }
            }
        };
        let outcome = cell.get_or_init(fetch).await.clone();
        if let Some(guard) = leader {
            drop(guard);
            if let Some((cache, ttl)) = &self.results {
                let now = now_ms();
                if let Some(until) = cache_until(&outcome, now, *ttl) {
                    cache.insert(k, (outcome.clone(), until));
                }
            }
        }
        outcome
    }
}

/// One Backend API verification, its failure mapped as `handleClerkAPIError` maps it.
async fn ask(bapi: &BapiConfig, token: &str, token_type: TokenType, audience: &[String]) -> Outcome {
    let answer = match token_type {
        TokenType::M2MToken => bapi::verify_m2m_opaque(bapi, token).await,
        TokenType::OAuthToken => bapi::verify_oauth_opaque(bapi, token).await,
        _ => bapi::verify_api_key(bapi, token).await,
    };
    let data = match answer {
        Ok(data) => data,
        Err(err) => {
            let error = bapi::map_machine_error(token_type, &err, bapi::not_found_message(token_type));
            return Outcome::Rejected { token_type, error };
        }
    };
    if token_type == TokenType::OAuthToken {
        if let Err(e) = claims::assert_oauth_audience_claim(js::get(&data, "aud"), audience) {
            return Outcome::Rejected { token_type, error: jwt::machine_error(e) };
        }
    }
    if let Some((reason, message)) = revoked_or_expired(&data, token_type) {
        return Outcome::rejected(token_type, MachineErrorCode::TokenInvalid, reason, message);
    }
    Outcome::Verified { token_type, data: VerifiedData::Api(data) }
}

/// A 200 answer can still describe a dead token (`revoked`/`expired` set): the
/// reference returns it as valid data; we reject it (README, O-09).
fn revoked_or_expired(data: &Value, token_type: TokenType) -> Option<(FailureReason, String)> {
    let noun = match token_type {
        TokenType::M2MToken => "Machine token",
        TokenType::OAuthToken => "OAuth token",
        _ => "API key",
    };
    if js::get(data, "revoked") == Some(&Value::Bool(true)) {
        Some((FailureReason::Revoked, format!("{noun} has been revoked.")))
    } else if js::get(data, "expired") == Some(&Value::Bool(true)) {
        Some((FailureReason::Expired, format!("{noun} has expired.")))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::MachineTokenVerificationError;
    use serde_json::json;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn ok(expiration: Value) -> Outcome {
        Outcome::Verified { token_type: TokenType::M2MToken, data: VerifiedData::Api(json!({"id": "mt_1", "expiration": expiration})) }
    }

    #[tokio::test]
    async fn concurrent_identical_verifications_share_one_call() {
        let answers = Arc::new(OpaqueAnswers::new(0.0));
        let calls = Arc::new(AtomicU32::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (answers, calls) = (Arc::clone(&answers), Arc::clone(&calls));
            set.spawn(async move {
                answers
                    .get("mt_same", || 0.0, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        ok(Value::Null)
                    })
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            assert!(matches!(r.unwrap(), Outcome::Verified { .. }));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Finished flights are forgotten: without a result cache the next call fetches again.
        answers.get("mt_same", || 0.0, || async { calls.fetch_add(1, Ordering::SeqCst); ok(Value::Null) }).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_result_cache_is_opt_in_bounded_by_ttl_and_expiration_and_skips_failures() {
        let answers = OpaqueAnswers::new(1_000.0);
        let calls = AtomicU32::new(0);
        let fetch_ok = |exp: Value| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { ok(exp) }
        };
        answers.get("mt_a", || 0.0, || fetch_ok(Value::Null)).await;
        answers.get("mt_a", || 999.0, || fetch_ok(Value::Null)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "hit inside the TTL");
        answers.get("mt_a", || 1_000.0, || fetch_ok(Value::Null)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "miss at the TTL");
        // A token expiring in 100 ms is never served from cache after that.
        answers.get("mt_b", || 0.0, || fetch_ok(json!(100.0))).await;
        answers.get("mt_b", || 150.0, || fetch_ok(json!(100.0))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // Failures are not cached.
        let failures = AtomicU32::new(0);
        for _ in 0..3 {
            answers
                .get("mt_c", || 0.0, || {
                    failures.fetch_add(1, Ordering::SeqCst);
                    async { Outcome::Rejected { token_type: TokenType::M2MToken, error: MachineTokenVerificationError::new(MachineErrorCode::UnexpectedError, FailureReason::Internal, "Unexpected error").with_status(Some(503)) } }
                })
                .await;
        }
        assert_eq!(failures.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_cancelled_leader_leaves_no_flight_behind() {
        let answers = Arc::new(OpaqueAnswers::new(0.0));
        let calls = Arc::new(AtomicU32::new(0));
        let slow = |calls: Arc<AtomicU32>, ms: u64, answer: &'static str| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            ok(json!(answer))
        };
        // The leader opens the flight, a follower joins it, then the leader is cancelled.
        let leader = {
            let (answers, calls) = (Arc::clone(&answers), Arc::clone(&calls));
            tokio::spawn(async move { answers.get("mt_x", || 0.0, || slow(calls, 10_000, "leader")).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let follower = {
            let (answers, calls) = (Arc::clone(&answers), Arc::clone(&calls));
            tokio::spawn(async move { answers.get("mt_x", || 0.0, || slow(calls, 50, "follower")).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        leader.abort();
        assert!(leader.await.unwrap_err().is_cancelled());
        assert!(answers.flights.lock().unwrap().is_empty(), "the cancelled leader removed its flight");
        // The follower still gets an answer (it takes over the fetch)…
        let Outcome::Verified { data: VerifiedData::Api(data), .. } = follower.await.unwrap() else { panic!("follower") };
        assert_eq!(data["expiration"], "follower");
        // …and that answer is not kept: the next call fetches anew.
        let next = answers.get("mt_x", || 0.0, || slow(Arc::clone(&calls), 0, "next")).await;
        let Outcome::Verified { data: VerifiedData::Api(data), .. } = next else { panic!("next") };
        assert_eq!(data["expiration"], "next");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(answers.flights.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn clear_forgets_every_cached_answer() {
        let answers = OpaqueAnswers::new(30_000.0);
        for t in ["mt_a", "mt_b"] {
            answers.get(t, || 0.0, || async { ok(Value::Null) }).await;
        }
        assert_eq!(answers.cached(), 2);
        answers.clear();
        assert_eq!(answers.cached(), 0);
    }

    #[test]
    fn ttl_is_capped() {
        let a = OpaqueAnswers::new(1e12);
        assert_eq!(a.results.as_ref().map(|(_, t)| *t), Some(MAX_RESULT_TTL_MS));
        assert!(OpaqueAnswers::new(f64::NAN).results.is_none());
        assert!(OpaqueAnswers::new(0.0).results.is_none());
        assert!(OpaqueAnswers::new(-5.0).results.is_none());
    }

    #[test]
    fn revoked_or_expired_answers_are_named() {
        assert_eq!(revoked_or_expired(&json!({"revoked": true}), TokenType::M2MToken), Some((FailureReason::Revoked, "Machine token has been revoked.".to_owned())));
        assert_eq!(revoked_or_expired(&json!({"expired": true}), TokenType::ApiKey), Some((FailureReason::Expired, "API key has expired.".to_owned())));
        assert_eq!(revoked_or_expired(&json!({"revoked": "true", "expired": false}), TokenType::OAuthToken), None);
    }
}

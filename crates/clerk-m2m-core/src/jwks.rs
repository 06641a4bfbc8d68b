//! The JWKS cache: `loadClerkJWKFromRemote` of `@clerk/backend@3.25.0`, made
//! safe against floods.
//!
//! Same as the reference: one cache scope per (`apiUrl` as given, `apiVersion`,
//! secret key) — so an instance never sees another instance's keys, even for the
//! same `kid` (commit `4ebcff39c7`); a 5-minute TTL per scope; keys merged by
//! `kid` on each fetch (old keys kept until the scope expires; duplicate kids:
//! last wins); a new scope sweeps expired ones; `skip_jwks_cache` always fetches;
//! the kid-mismatch message (without the cached kids).
//!
//! Different, on purpose (W5, W9, W10):
//! * the scope key holds a SHA-256 of the secret key, never the key itself;
//! * **single flight**: concurrent misses for one scope share one fetch;
//! * **kid-miss cooldown**: after a successful fetch, an unknown `kid` causes no
//!   new fetch for a short window (default 5 s), then at most one per window —
//!   the reference refetches on every unknown kid, which turns random kids
//!   into a request flood against the Backend API;
//! * bounded: at most `max_scopes` scopes (expired, then least recently used,
//!   evicted) and `max_keys_per_scope` keys;
//! * kids are plain map keys (`__proto__` is not special); the kid in messages
//!   is escaped and truncated.
//!
//! Failed fetches are not cached: the next miss fetches again (concurrent ones
//! still share one fetch).

use crate::bapi::{self, BapiConfig};
use crate::js;
use crate::clock::Clock;
use crate::errors::{action, FailureReason, Reason, TokenVerificationError, Transport};
use crate::keys::VerificationKey;
use crate::redact::echo_untrusted;
use crate::secret::Secret;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use tokio::sync::OnceCell;

/// The reference's cache lifetime (`MAX_CACHE_LAST_UPDATED_AT_SECONDS` × 1000).
pub const JWKS_CACHE_TTL_MS: f64 = 300_000.0;
/// Default window after a fetch during which an unknown kid fetches nothing.
pub const DEFAULT_KID_MISS_COOLDOWN_MS: f64 = 5_000.0;
pub const DEFAULT_MAX_SCOPES: usize = 1024;
pub const DEFAULT_MAX_KEYS_PER_SCOPE: usize = 100;

/// The reference's `jwk-kid-mismatch` action.
pub const KID_MISMATCH_ACTION: &str =
    "Go to your Dashboard and validate your secret and public keys are correct. Contact support@clerk.com if the issue persists.";
pub const NO_SIGNING_KEYS_MESSAGE: &str = "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com.";
pub const FAILED_TO_LOAD_MESSAGE: &str = "Failed to load JWKS from Clerk Backend or Frontend API.";

/// Which instance a cache entry belongs to. Holds a fingerprint of the secret key, not the key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JwksScope {
    api_url: String,
    api_version: String,
    secret_fingerprint: [u8; 32],
}

impl JwksScope {
    /// `api_url` exactly as the caller gave it (the reference does not normalise it:
    /// a trailing slash is another scope); an absent key counts as `''`, like `secretKey ?? ''`.
    pub fn new(api_url: &str, api_version: &str, secret_key: Option<&Secret>) -> Self {
        let secret_fingerprint = match secret_key {
            Some(s) => s.fingerprint(),
            None => Secret::new("").fingerprint(),
        };
        JwksScope { api_url: api_url.to_owned(), api_version: api_version.to_owned(), secret_fingerprint }
    }
}

impl fmt::Debug for JwksScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fp: String = self.secret_fingerprint.iter().take(4).map(|b| format!("{b:02x}")).collect();
        f.debug_struct("JwksScope")
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .field("secret_sha256", &format!("{fp}…"))
            .finish()
    }
}

/// Tunables; [`Default`] gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JwksCacheConfig {
    pub ttl_ms: f64,
    pub kid_miss_cooldown_ms: f64,
    pub max_scopes: usize,
    pub max_keys_per_scope: usize,
}

impl Default for JwksCacheConfig {
    fn default() -> Self {
        JwksCacheConfig {
            ttl_ms: JWKS_CACHE_TTL_MS,
            kid_miss_cooldown_ms: DEFAULT_KID_MISS_COOLDOWN_MS,
            max_scopes: DEFAULT_MAX_SCOPES,
            max_keys_per_scope: DEFAULT_MAX_KEYS_PER_SCOPE,
        }
    }
}

/// Counters, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JwksStats {
    /// JWKS requests started (each may be several HTTP attempts).
    pub fetches: u64,
    /// Lookups that waited for a fetch another lookup had started.
    pub coalesced: u64,
    /// Unknown kids answered from the cooldown, without a fetch.
    pub cooldown_rejections: u64,
    /// Scopes currently held.
    pub scopes: usize,
}

/// A JWKS entry: the JWK as served, and the key built from it once per fetch,
/// so a warm verification does no key parsing at all.
#[derive(Debug)]
pub struct CachedJwk {
    pub jwk: Value,
    pub key: VerificationKey,
    /// When the fetch that served this key stops vouching for it (fetch time + TTL, ms):
    /// nothing verified with the key may be reused past it (the signature cache and the
    /// JS reuse map bound their entries by it), since a refetch may serve another key
    /// under the same `kid`, or none. Infinite for keys parsed outside a fetch.
    pub expires_at_ms: f64,
}

impl std::ops::Deref for CachedJwk {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.jwk
    }
}

type KeyMap = HashMap<String, Arc<CachedJwk>>;
type FlightResult = Result<Arc<KeyMap>, TokenVerificationError>;
type Flight = Arc<OnceCell<FlightResult>>;

struct Entry {
    keys: KeyMap,
    /// Time of the last successful fetch; `None` = never (expired).
    last_updated_at: Option<f64>,
    /// The fetch in progress, shared by every lookup that needs one.
    flight: Option<Flight>,
    /// LRU stamp.
    last_used: u64,
}

impl Entry {
    fn is_fresh(&self, now: f64, ttl_ms: f64) -> bool {
        // A clock that went backwards counts as expired (refetch) rather than fresh for ever.
        self.last_updated_at.is_some_and(|t| {
            let elapsed = now - t;
            elapsed >= 0.0 && elapsed < ttl_ms
        })
    }

    fn in_cooldown(&self, now: f64, cooldown_ms: f64) -> bool {
        self.last_updated_at.is_some_and(|t| {
            let elapsed = now - t;
            elapsed >= 0.0 && elapsed < cooldown_ms
        })
    }
}

#[derive(Default)]
struct State {
    scopes: HashMap<JwksScope, Entry>,
    tick: u64,
}

/// A bounded, scoped, single-flight JWKS cache. Use [`global`] in production;
/// tests build their own.
pub struct JwksCache {
    config: JwksCacheConfig,
    state: Mutex<State>,
    fetches: AtomicU64,
    coalesced: AtomicU64,
    cooldown_rejections: AtomicU64,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache").field("config", &self.config).field("stats", &self.stats()).finish()
    }
}

static GLOBAL: LazyLock<JwksCache> = LazyLock::new(|| JwksCache::new(JwksCacheConfig::default()));

/// The process-wide cache (shared by every verifier, like the reference's module-level map).
pub fn global() -> &'static JwksCache {
    &GLOBAL
}

/// How a `kid` header value is used as a key: JavaScript `String(kid)` (`123` → `"123"`,
/// `["ins_A"]` → `"ins_A"`), absent → `"undefined"` (J-14).
pub fn kid_lookup_key(kid: Option<&Value>) -> Cow<'_, str> {
    match kid {
        None => Cow::Borrowed("undefined"),
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(v) => Cow::Owned(js::to_js_string(v)),
    }
}

/// The reference's kid-mismatch error, with the kid escaped and truncated.
pub fn kid_mismatch_error(kid_key: &str) -> TokenVerificationError {
    TokenVerificationError::new(
        Reason::JwkKidMismatch,
        format!(
            "Unable to find a signing key in JWKS that matches the kid='{}' of the provided session token. Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated session JWT.",
            echo_untrusted(kid_key)
        ),
    )
    .with_action(KID_MISMATCH_ACTION)
}

#[cfg(any(test, feature = "test-hooks"))]
/// Reads a JWKS document into `kid → JWK` (last wins), as the reference's
/// `keys.forEach(key => cache.keys[key.kid] = key)` would, with a key-count cap.
/// The keys carry no expiry (see [`CachedJwk::expires_at_ms`]); the cache's fetches use
/// [`parse_jwks_fetched`].
pub fn parse_jwks(doc: &Value, max_keys: usize) -> Result<KeyMap, TokenVerificationError> {
    parse_jwks_fetched(doc, max_keys, f64::INFINITY)
}

/// [`parse_jwks`] for a document fetched now, whose keys are good until `expires_at_ms`.
pub fn parse_jwks_fetched(doc: &Value, max_keys: usize, expires_at_ms: f64) -> Result<KeyMap, TokenVerificationError> {
    // The endpoint answered, but with nothing usable: the instance's keys are unavailable.
    let unusable = |message: &str| FailureReason::unavailable(Transport::invalid_response(message, 0));
    let no_keys = || {
        TokenVerificationError::new(Reason::RemoteJwkFailedToLoad, NO_SIGNING_KEYS_MESSAGE)
            .with_action(action::CONTACT_SUPPORT)
            .with_failure(unusable(NO_SIGNING_KEYS_MESSAGE))
    };
    let invalid = |why: &str| {
        let message = format!("The JWKS endpoint returned an invalid key set ({why}). Contact support@clerk.com.");
        TokenVerificationError::new(Reason::RemoteJwkInvalid, message.clone()).with_action(action::CONTACT_SUPPORT).with_failure(unusable(&message))
    };
    let Some(keys) = doc.as_object().and_then(|o| o.get("keys")) else {
        return Err(no_keys());
    };
    // `!keys || !keys.length`, then `keys.forEach`.
    let items = match keys {
        Value::Array(items) if !items.is_empty() => items,
        Value::String(s) if !s.is_empty() => return Err(invalid("keys is not a list")),
        Value::Object(o) if js::is_truthy(o.get("length")) => return Err(invalid("keys is not a list")),
        _ => return Err(no_keys()),
    };
    if items.len() > max_keys {
        return Err(invalid(&format!("more than {max_keys} keys")));
    }
    let mut map = KeyMap::with_capacity(items.len());
    for item in items {
        let kid = match item {
            Value::Null => return Err(invalid("a key is null")),
            Value::Object(o) => kid_lookup_key(o.get("kid")).into_owned(),
            // A primitive has no `kid` property.
            _ => "undefined".to_owned(),
        };
        map.insert(kid, Arc::new(CachedJwk { key: VerificationKey::from_jwk(item), jwk: item.clone(), expires_at_ms }));
    }
    Ok(map)
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the maps inconsistent (every
    // update is a single insert/remove), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

enum Plan {
    Hit(Arc<CachedJwk>),
    Miss(TokenVerificationError),
    Wait(Flight),
}

impl JwksCache {
    pub fn new(config: JwksCacheConfig) -> Self {
        JwksCache {
            config,
            state: Mutex::new(State::default()),
            fetches: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            cooldown_rejections: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> JwksCacheConfig {
        self.config
    }

    pub fn stats(&self) -> JwksStats {
        JwksStats {
            fetches: self.fetches.load(Ordering::Relaxed),
            coalesced: self.coalesced.load(Ordering::Relaxed),
            cooldown_rejections: self.cooldown_rejections.load(Ordering::Relaxed),
            scopes: lock(&self.state).scopes.len(),
        }
    }

    /// Answers from memory only: the key if the scope is fresh and holds `kid`.
    /// Never fetches, never waits; `None` means "ask [`get_key`](Self::get_key)".
    pub fn try_get_cached(&self, scope: &JwksScope, kid: Option<&Value>, now: f64) -> Option<Arc<CachedJwk>> {
        self.try_get_cached_by_key(scope, &kid_lookup_key(kid), now)
    }

    /// [`try_get_cached`](Self::try_get_cached) with the kid already turned into its lookup
    /// key ([`kid_lookup_key`]): the verifier's borrowed decoder holds no `Value` to pass.
    pub fn try_get_cached_by_key(&self, scope: &JwksScope, kid_key: &str, now: f64) -> Option<Arc<CachedJwk>> {
        let mut st = lock(&self.state);
        st.tick = st.tick.wrapping_add(1);
        let tick = st.tick;
        let entry = st.scopes.get_mut(scope)?;
        if !entry.is_fresh(now, self.config.ttl_ms) {
            return None;
        }
        entry.last_used = tick;
        entry.keys.get(kid_key).cloned()
    }

    /// The JWK for `kid` in `scope`, fetching the JWKS with `cfg` when needed.
    ///
    /// `scope` must describe `cfg` (same instance); it is separate because the
    /// reference keys the cache by `apiUrl` as given, which `cfg` has parsed.
    pub async fn get_key(
        &self,
        scope: &JwksScope,
        cfg: &BapiConfig,
        kid: Option<&Value>,
        skip_cache: bool,
        clock: &dyn Clock,
    ) -> Result<Arc<CachedJwk>, TokenVerificationError> {
        let kid_key = kid_lookup_key(kid);
        let flight = match self.plan(scope, cfg, &kid_key, skip_cache, clock.now_ms()) {
            Plan::Hit(key) => return Ok(key),
            Plan::Miss(err) => return Err(err),
            Plan::Wait(flight) => flight,
        };
        let fetched = flight.get_or_init(|| self.fetch(scope, cfg, clock, &flight)).await.clone()?;
        if let Some(key) = fetched.get(kid_key.as_ref()) {
            return Ok(key.clone());
        }
        // Keys from earlier fetches stay valid until the scope expires.
        let now = clock.now_ms();
        let st = lock(&self.state);
        st.scopes
            .get(scope)
            .filter(|e| e.is_fresh(now, self.config.ttl_ms))
            .and_then(|e| e.keys.get(kid_key.as_ref()).cloned())
            .ok_or_else(|| kid_mismatch_error(&kid_key))
    }

    /// Decides, under the lock, between a hit, a local miss and waiting for a fetch.
    fn plan(&self, scope: &JwksScope, cfg: &BapiConfig, kid_key: &str, skip_cache: bool, now: f64) -> Plan {
        let mut st = lock(&self.state);
        let entry = self.entry(&mut st, scope, now);
        let fresh = entry.is_fresh(now, self.config.ttl_ms);
        if !fresh {
            // `cacheHasExpired` empties the keys.
            entry.keys.clear();
        }
        if fresh && !skip_cache {
            if let Some(key) = entry.keys.get(kid_key) {
                return Plan::Hit(key.clone());
            }
            if entry.flight.is_none() && entry.in_cooldown(now, self.config.kid_miss_cooldown_ms) {
                self.cooldown_rejections.fetch_add(1, Ordering::Relaxed);
                return Plan::Miss(kid_mismatch_error(kid_key));
            }
        }
        if cfg.secret_key.as_ref().is_none_or(Secret::is_empty) {
            return Plan::Miss(TokenVerificationError::new(Reason::RemoteJwkFailedToLoad, FAILED_TO_LOAD_MESSAGE).with_action(action::CONTACT_SUPPORT));
        }
        match &entry.flight {
            Some(flight) => {
                self.coalesced.fetch_add(1, Ordering::Relaxed);
                Plan::Wait(flight.clone())
            }
            None => {
                let flight: Flight = Arc::new(OnceCell::new());
                entry.flight = Some(flight.clone());
                Plan::Wait(flight)
            }
        }
    }

    /// The entry for `scope`, created if needed; creating one first sweeps expired
    /// scopes (as the reference does) and then, at capacity, the least recently used.
    fn entry<'s>(&self, st: &'s mut State, scope: &JwksScope, now: f64) -> &'s mut Entry {
        st.tick = st.tick.wrapping_add(1);
        let tick = st.tick;
        if !st.scopes.contains_key(scope) {
            let ttl = self.config.ttl_ms;
            st.scopes.retain(|_, e| e.flight.is_some() || e.is_fresh(now, ttl));
            let max = self.config.max_scopes.max(1);
            while st.scopes.len() >= max {
                let oldest = st.scopes.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => st.scopes.remove(&k),
                    None => break,
                };
            }
        }
        let entry = st
            .scopes
            .entry(scope.clone())
            .or_insert_with(|| Entry { keys: KeyMap::new(), last_updated_at: None, flight: None, last_used: tick });
        entry.last_used = tick;
        entry
    }

    /// One JWKS fetch for `scope`; merges the keys and retires `flight` when done.
    async fn fetch(&self, scope: &JwksScope, cfg: &BapiConfig, clock: &dyn Clock, flight: &Flight) -> FlightResult {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = bapi::fetch_jwks(cfg).await;
        let now = clock.now_ms();
        let result = match fetched {
            Ok(doc) => parse_jwks_fetched(&doc, self.config.max_keys_per_scope, now + self.config.ttl_ms).map(Arc::new),
            Err(e) => Err(e),
        };
        let mut st = lock(&self.state);
        let max_keys = self.config.max_keys_per_scope;
        let entry = self.entry(&mut st, scope, now);
        if let Ok(keys) = &result {
            if !entry.is_fresh(now, self.config.ttl_ms) {
                entry.keys.clear();
            }
            entry.keys.extend(keys.iter().map(|(k, v)| (k.clone(), v.clone())));
            if entry.keys.len() > max_keys {
                // Too many accumulated kids: keep only what the endpoint serves now.
                entry.keys = (**keys).clone();
            }
            entry.last_updated_at = Some(now);
        }
        if entry.flight.as_ref().is_some_and(|f| Arc::ptr_eq(f, flight)) {
            entry.flight = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kid_keys_follow_js_string_coercion() {
        assert_eq!(kid_lookup_key(None), "undefined");
        assert_eq!(kid_lookup_key(Some(&json!("ins_A"))), "ins_A");
        assert_eq!(kid_lookup_key(Some(&json!(["ins_A"]))), "ins_A");
        assert_eq!(kid_lookup_key(Some(&json!(123))), "123");
        assert_eq!(kid_lookup_key(Some(&json!({}))), "[object Object]");
        assert_eq!(kid_lookup_key(Some(&json!(true))), "true");
        assert_eq!(kid_lookup_key(Some(&json!(null))), "null");
    }

    #[test]
    fn kid_mismatch_message_is_the_reference_text_with_an_escaped_kid() {
        let e = kid_mismatch_error("ins_other");
        assert_eq!(e.message, "Unable to find a signing key in JWKS that matches the kid='ins_other' of the provided session token. Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated session JWT.");
        assert_eq!((e.reason, e.action.as_deref()), (Reason::JwkKidMismatch, Some(KID_MISMATCH_ACTION)));
        let e = kid_mismatch_error(&format!("ins_A\n[fake]{}", "x".repeat(5000)));
        assert!(e.message.contains("kid='ins_A\\n[fake]xxx"));
        assert!(e.message.len() < 400, "{}", e.message.len());
    }

    #[test]
    fn jwks_documents_parse_like_the_reference() {
        let m = parse_jwks(&json!({"keys": [{"kid": "a", "n": "1"}, {"kid": "a", "n": "2"}, {"n": "3"}, {"kid": "__proto__"}, {"kid": 7}, 5]}), 100).unwrap();
        assert_eq!(m.get("a").unwrap()["n"], "2");
        assert_eq!(m.get("undefined").unwrap().as_i64(), Some(5), "a primitive and a kid-less key both land under \"undefined\", last wins");
        assert!(m.contains_key("__proto__") && m.contains_key("7"));
        for doc in [json!({}), json!({"keys": null}), json!({"keys": []}), json!({"keys": ""}), json!({"keys": 5}), json!({"keys": {}}), json!(null), json!([1]), json!("x")] {
            let e = parse_jwks(&doc, 100).unwrap_err();
            assert_eq!((e.message.as_str(), e.reason), (NO_SIGNING_KEYS_MESSAGE, Reason::RemoteJwkFailedToLoad), "{doc}");
        }
        for doc in [json!({"keys": "x"}), json!({"keys": [null]}), json!({"keys": {"length": 1}}), json!({"keys": [{}, {}, {}]})] {
            let e = parse_jwks(&doc, 2).unwrap_err();
            assert_eq!(e.reason, Reason::RemoteJwkInvalid, "{doc}");
            assert_eq!(e.action.as_deref(), Some(action::CONTACT_SUPPORT));
        }
        assert_eq!(parse_jwks(&json!({"keys": [{}, {}]}), 2).unwrap().len(), 1);
    }

    #[test]
    fn scopes_hold_a_fingerprint_not_the_key() {
        let s = JwksScope::new("https://api.clerk.com", "v1", Some(&Secret::new("sk_test_CANARY_1")));
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("CANARY") && !dbg.contains("sk_test"), "{dbg}");
        assert_ne!(s, JwksScope::new("https://api.clerk.com", "v1", Some(&Secret::new("sk_test_CANARY_2"))));
        assert_ne!(s, JwksScope::new("https://api.clerk.com/", "v1", Some(&Secret::new("sk_test_CANARY_1"))));
        assert_ne!(s, JwksScope::new("https://api.clerk.com", "v2", Some(&Secret::new("sk_test_CANARY_1"))));
        assert_eq!(JwksScope::new("u", "v", None), JwksScope::new("u", "v", Some(&Secret::new(""))));
    }

    fn seed(cache: &JwksCache, scope: &JwksScope, keys: &[&str], at: f64) {
        let mut st = lock(&cache.state);
        let entry = cache.entry(&mut st, scope, at);
        for k in keys {
            let jwk = json!({"kid": k});
            entry.keys.insert((*k).to_owned(), Arc::new(CachedJwk { key: VerificationKey::from_jwk(&jwk), jwk, expires_at_ms: at + JWKS_CACHE_TTL_MS }));
        }
        entry.last_updated_at = Some(at);
    }

    #[test]
    fn try_get_cached_respects_ttl_and_never_fetches() {
        let cache = JwksCache::new(JwksCacheConfig::default());
        let scope = JwksScope::new("u", "v1", Some(&Secret::new("sk")));
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), 0.0).is_none());
        seed(&cache, &scope, &["a"], 1_000.0);
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), 1_000.0).is_some());
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), 1_000.0 + JWKS_CACHE_TTL_MS - 1.0).is_some());
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), 1_000.0 + JWKS_CACHE_TTL_MS).is_none());
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), 999.0).is_none(), "clock went backwards");
        assert!(cache.try_get_cached(&scope, Some(&json!("a")), f64::NAN).is_none());
        assert!(cache.try_get_cached(&scope, Some(&json!("b")), 1_000.0).is_none());
        assert_eq!(cache.stats().fetches, 0);
    }

    #[test]
    fn scopes_are_bounded_expired_first_then_lru() {
        let cache = JwksCache::new(JwksCacheConfig { max_scopes: 3, ..Default::default() });
        let s = |i: u32| JwksScope::new("u", "v1", Some(&Secret::new(format!("sk_{i}"))));
        seed(&cache, &s(1), &["k"], 0.0);
        seed(&cache, &s(2), &["k"], 10.0);
        seed(&cache, &s(3), &["k"], 20.0);
        // Touch scope 1 so scope 2 is the least recently used.
        assert!(cache.try_get_cached(&s(1), Some(&json!("k")), 30.0).is_some());
        seed(&cache, &s(4), &["k"], 40.0);
        assert_eq!(cache.stats().scopes, 3);
        assert!(cache.try_get_cached(&s(2), Some(&json!("k")), 40.0).is_none());
        assert!(cache.try_get_cached(&s(1), Some(&json!("k")), 40.0).is_some());
        // Once scopes 1, 3 and 4 expire, a new scope sweeps all of them.
        seed(&cache, &s(5), &["k"], 40.0 + JWKS_CACHE_TTL_MS);
        assert_eq!(cache.stats().scopes, 1);
    }

    #[tokio::test]
    async fn hits_and_cooldown_misses_need_no_network() {
        // The config points at a closed port: any fetch would fail with a connect error.
        let cfg = BapiConfig { secret_key: Some(Secret::new("sk_x")), ..BapiConfig::new(url::Url::parse("http://127.0.0.1:9").unwrap()) };
        let cache = JwksCache::new(JwksCacheConfig::default());
        let scope = JwksScope::new("http://127.0.0.1:9", "v1", cfg.secret_key.as_ref());
        seed(&cache, &scope, &["a"], 1_000.0);
        let clock = crate::clock::FixedClock(1_000.0 + DEFAULT_KID_MISS_COOLDOWN_MS - 1.0);
        assert!(cache.get_key(&scope, &cfg, Some(&json!("a")), false, &clock).await.is_ok());
        let e = cache.get_key(&scope, &cfg, Some(&json!("zzz")), false, &clock).await.unwrap_err();
        assert_eq!(e.reason, Reason::JwkKidMismatch);
        assert_eq!(cache.stats().cooldown_rejections, 1);
        assert_eq!(cache.stats().fetches, 0);
        // After the window, an unknown kid fetches (and here fails to connect).
        let clock = crate::clock::FixedClock(1_000.0 + DEFAULT_KID_MISS_COOLDOWN_MS);
        let e = cache.get_key(&scope, &cfg, Some(&json!("zzz")), false, &clock).await.unwrap_err();
        assert_eq!(e.reason, Reason::RemoteJwkFailedToLoad);
        assert_eq!(cache.stats().fetches, 1);
        // No secret key: the reference's "Failed to load JWKS" without any request.
        let no_key = BapiConfig { secret_key: None, ..cfg.clone() };
        let scope2 = JwksScope::new("http://127.0.0.1:9", "v1", None);
        let e = cache.get_key(&scope2, &no_key, Some(&json!("a")), false, &clock).await.unwrap_err();
        assert_eq!((e.message.as_str(), e.action.as_deref()), (FAILED_TO_LOAD_MESSAGE, Some(action::CONTACT_SUPPORT)));
        assert_eq!(cache.stats().fetches, 1);
    }
}

//! The JWKS cache against the emulator: single flight, kid-miss cooldown, TTL,
//! scope isolation, skip_jwks_cache and the reference's error messages.

mod common;

use clerk_bapi_emulator::{EmulatorHandle, Fault, FaultRule, InstanceConfig, Route};
use clerk_m2m_core::bapi::BapiConfig;
use clerk_m2m_core::{Clock, SystemClock};
use clerk_m2m_core::{FailureReason, Reason};
use clerk_m2m_core::jwks::{JwksCache, JwksCacheConfig, JwksScope, DEFAULT_KID_MISS_COOLDOWN_MS, JWKS_CACHE_TTL_MS, NO_SIGNING_KEYS_MESSAGE};
use clerk_m2m_core::{RawOptions, VerifyOptions};
use clerk_m2m_core::Secret;
use clerk_m2m_core::{Outcome, REUSE_MAX_MS};
use clerk_m2m_core::{Mode, Verifier};
use common::{config, emulator, emulator_with, run, TestClock};
use serde_json::{json, Value};
use std::sync::Arc;

const T0: f64 = 1_700_000_000_000.0;

fn scope_of(cfg: &BapiConfig, api_url_as_given: &str) -> JwksScope {
    JwksScope::new(api_url_as_given, &cfg.api_version, cfg.secret_key.as_ref())
}

fn kid_of(emu: &EmulatorHandle, index: usize) -> String {
    emu.instance(index).unwrap().kid.unwrap()
}

fn delay(ms: u64) -> Fault {
    Fault::Delay { ms }
}

#[test]
fn fifty_concurrent_cold_lookups_make_exactly_one_fetch() {
    run(async {
        let emu = emulator().await;
        // Slow the endpoint so all 50 lookups are certainly in flight together.
        emu.set_fault(Route::Jwks, delay(300)).unwrap();
        let cfg = Arc::new(config(&emu, 3000));
        let scope = Arc::new(scope_of(&cfg, emu.url()));
        let cache = Arc::new(JwksCache::new(JwksCacheConfig::default()));
        let kid = kid_of(&emu, 0);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (cfg, scope, cache, kid) = (cfg.clone(), scope.clone(), cache.clone(), kid.clone());
            set.spawn(async move { cache.get_key(&scope, &cfg, Some(&json!(kid)), false, &SystemClock).await });
        }
        let mut keys = Vec::new();
        while let Some(r) = set.join_next().await {
            keys.push(r.unwrap().unwrap());
        }
        assert_eq!(keys.len(), 50);
        assert!(keys.iter().all(|k| Arc::ptr_eq(k, &keys[0])), "every caller got the same stored JWK");
        assert_eq!(keys[0]["kid"], kid.as_str());
        assert_eq!(emu.count(Route::Jwks), 1);
        let stats = cache.stats();
        assert_eq!((stats.fetches, stats.coalesced), (1, 49));
        emu.shutdown().await;
    });
}

#[test]
fn unknown_kids_fetch_at_most_once_per_cooldown_window() {
    run(async {
        let emu = emulator().await;
        let cfg = config(&emu, 3000);
        let scope = scope_of(&cfg, emu.url());
        let cache = JwksCache::new(JwksCacheConfig::default());
        let clock = TestClock::new(T0);

        // Cold cache, 200 random kids in a row: the first fetches, the other 199 are cooled down.
        for i in 0..200 {
            let e = cache.get_key(&scope, &cfg, Some(&json!(format!("ins_random_{i}"))), false, &clock).await.unwrap_err();
            assert_eq!(e.reason, Reason::JwkKidMismatch);
            assert_eq!(e.message, format!("Unable to find a signing key in JWKS that matches the kid='ins_random_{i}' of the provided session token. Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated session JWT."));
        }
        assert_eq!(emu.count(Route::Jwks), 1);
        // The known kid is served from memory meanwhile.
        assert!(cache.get_key(&scope, &cfg, Some(&json!(kid_of(&emu, 0))), false, &clock).await.is_ok());

        // Just before the window ends: still nothing; at the end: exactly one more fetch for 200 more kids.
        clock.advance(DEFAULT_KID_MISS_COOLDOWN_MS - 1.0);
        assert!(cache.get_key(&scope, &cfg, Some(&json!("ins_x")), false, &clock).await.is_err());
        assert_eq!(emu.count(Route::Jwks), 1);
        clock.advance(1.0);
        for i in 0..200 {
            assert!(cache.get_key(&scope, &cfg, Some(&json!(format!("ins_more_{i}"))), false, &clock).await.is_err());
        }
        assert_eq!(emu.count(Route::Jwks), 2);
        assert_eq!(cache.stats().cooldown_rejections, 200 - 1 + 1 + 200 - 1);
        emu.shutdown().await;
    });
}

#[test]
fn two_hundred_concurrent_unknown_kids_on_a_cold_cache_make_one_fetch() {
    run(async {
        let emu = emulator().await;
        emu.set_fault(Route::Jwks, FaultRule::times(delay(200), 1)).unwrap();
        let cfg = Arc::new(config(&emu, 3000));
        let scope = Arc::new(scope_of(&cfg, emu.url()));
        let cache = Arc::new(JwksCache::new(JwksCacheConfig::default()));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..200 {
            let (cfg, scope, cache) = (cfg.clone(), scope.clone(), cache.clone());
            set.spawn(async move { cache.get_key(&scope, &cfg, Some(&json!(format!("ins_{i}"))), false, &SystemClock).await });
        }
        while let Some(r) = set.join_next().await {
            assert_eq!(r.unwrap().unwrap_err().reason, Reason::JwkKidMismatch);
        }
        assert_eq!(emu.count(Route::Jwks), 1);
        emu.shutdown().await;
    });
}

#[test]
fn ttl_expiry_refetches_and_rotation_keeps_old_keys_until_expiry() {
    run(async {
        let emu = emulator().await;
        let cfg = config(&emu, 3000);
        let scope = scope_of(&cfg, emu.url());
        let cache = JwksCache::new(JwksCacheConfig::default());
        let clock = TestClock::new(T0);
        let old_kid = kid_of(&emu, 0);

        cache.get_key(&scope, &cfg, Some(&json!(old_kid)), false, &clock).await.unwrap();
        assert_eq!(emu.count(Route::Jwks), 1);
        assert!(cache.try_get_cached(&scope, Some(&json!(old_kid)), clock.now_ms()).is_some());

        // Rotation: a new kid appears, the old one is retired at the source.
        let new = emu.rotate_key(0).await.unwrap();
        emu.retire_key(0, &old_kid).unwrap();
        clock.advance(DEFAULT_KID_MISS_COOLDOWN_MS);
        let k = cache.get_key(&scope, &cfg, Some(&json!(new.kid)), false, &clock).await.unwrap();
        assert_eq!(k["kid"], new.kid.as_str());
        assert_eq!(emu.count(Route::Jwks), 2);
        // The old key stays usable from the cache (merged, not replaced)…
        assert!(cache.get_key(&scope, &cfg, Some(&json!(old_kid)), false, &clock).await.is_ok());
        assert_eq!(emu.count(Route::Jwks), 2);

        // …until the scope expires: 300 s after the last fetch, exactly at the boundary.
        clock.advance(JWKS_CACHE_TTL_MS - 1.0);
        assert!(cache.try_get_cached(&scope, Some(&json!(new.kid)), clock.now_ms()).is_some());
        clock.advance(1.0);
        assert!(cache.try_get_cached(&scope, Some(&json!(new.kid)), clock.now_ms()).is_none());
        let e = cache.get_key(&scope, &cfg, Some(&json!(old_kid)), false, &clock).await.unwrap_err();
        assert_eq!(e.reason, Reason::JwkKidMismatch);
        assert_eq!(emu.count(Route::Jwks), 3);
        assert!(cache.get_key(&scope, &cfg, Some(&json!(new.kid)), false, &clock).await.is_ok());
        assert_eq!(emu.count(Route::Jwks), 3);
        emu.shutdown().await;
    });
}

#[test]
fn two_servers_reusing_one_kid_never_share_entries() {
    run(async {
        let a = emulator_with(vec![InstanceConfig::new().kid("ins_shared")]).await;
        let b = emulator_with(vec![InstanceConfig::new().kid("ins_shared")]).await;
        let (cfg_a, cfg_b) = (config(&a, 3000), config(&b, 3000));
        let (scope_a, scope_b) = (scope_of(&cfg_a, a.url()), scope_of(&cfg_b, b.url()));
        let cache = JwksCache::new(JwksCacheConfig::default());
        let kid = json!("ins_shared");
        // Warm B first (J-13), then ask under A.
        let kb = cache.get_key(&scope_b, &cfg_b, Some(&kid), false, &SystemClock).await.unwrap();
        let ka = cache.get_key(&scope_a, &cfg_a, Some(&kid), false, &SystemClock).await.unwrap();
        assert_ne!(ka["n"], kb["n"]);
        assert_eq!(ka["n"], a.instance(0).unwrap().keys[0].jwk["n"]);
        assert_eq!(kb["n"], b.instance(0).unwrap().keys[0].jwk["n"]);
        assert_eq!((a.count(Route::Jwks), b.count(Route::Jwks)), (1, 1));
        assert!(!Arc::ptr_eq(&cache.try_get_cached(&scope_a, Some(&kid), SystemClock.now_ms()).unwrap(), &cache.try_get_cached(&scope_b, Some(&kid), SystemClock.now_ms()).unwrap()));
        a.shutdown().await;
        b.shutdown().await;
    });
}

#[test]
fn scopes_separate_secret_keys_api_urls_and_versions() {
    run(async {
        // One server, two instances with the same kid: only the secret key tells them apart.
        let emu = emulator_with(vec![InstanceConfig::new().kid("ins_same"), InstanceConfig::new().kid("ins_same")]).await;
        let cfg_a = config(&emu, 3000);
        let mut cfg_b = cfg_a.clone();
        cfg_b.secret_key = Some(Secret::new(emu.instance(1).unwrap().secret_key));
        let cache = JwksCache::new(JwksCacheConfig::default());
        let kid = json!("ins_same");
        let ka = cache.get_key(&scope_of(&cfg_a, emu.url()), &cfg_a, Some(&kid), false, &SystemClock).await.unwrap();
        let kb = cache.get_key(&scope_of(&cfg_b, emu.url()), &cfg_b, Some(&kid), false, &SystemClock).await.unwrap();
        assert_ne!(ka["n"], kb["n"]);
        assert_eq!(emu.count(Route::Jwks), 2);

        // apiUrl as given: a trailing slash is another scope (another fetch, same keys).
        let slash = format!("{}/", emu.url());
        let k = cache.get_key(&scope_of(&cfg_a, &slash), &cfg_a, Some(&kid), false, &SystemClock).await.unwrap();
        assert_eq!(k["n"], ka["n"]);
        assert_eq!(emu.count(Route::Jwks), 3);
        // apiVersion: another scope too (the emulator has no /v2, so that fetch fails and caches nothing).
        let mut v2 = cfg_a.clone();
        v2.api_version = "v2".into();
        let e = cache.get_key(&scope_of(&v2, emu.url()), &v2, Some(&kid), false, &SystemClock).await.unwrap_err();
        assert_eq!(e.message, format!("Error loading Clerk JWKS from {}/v2/jwks with code=404", emu.url()));
        assert_eq!(cache.stats().scopes, 4);
        emu.shutdown().await;
    });
}

#[test]
fn skip_jwks_cache_always_fetches() {
    run(async {
        let emu = emulator().await;
        let cfg = config(&emu, 3000);
        let scope = scope_of(&cfg, emu.url());
        let cache = JwksCache::new(JwksCacheConfig::default());
        let kid = json!(kid_of(&emu, 0));
        for n in 1..=3 {
            cache.get_key(&scope, &cfg, Some(&kid), true, &SystemClock).await.unwrap();
            assert_eq!(emu.count(Route::Jwks), n);
        }
        // skip also bypasses the cooldown for unknown kids.
        assert!(cache.get_key(&scope, &cfg, Some(&json!("nope")), true, &SystemClock).await.is_err());
        assert_eq!(emu.count(Route::Jwks), 4);
        // Without skip, the cached key answers.
        cache.get_key(&scope, &cfg, Some(&kid), false, &SystemClock).await.unwrap();
        assert_eq!(emu.count(Route::Jwks), 4);
        emu.shutdown().await;
    });
}

#[test]
fn kids_are_coerced_like_js_and_prototype_names_are_plain_keys() {
    run(async {
        let emu = emulator_with(vec![InstanceConfig::new().kid("123")]).await;
        let cfg = config(&emu, 3000);
        let scope = scope_of(&cfg, emu.url());
        let cache = JwksCache::new(JwksCacheConfig::default());
        let clock = TestClock::new(T0);
        for kid in [json!("123"), json!(123), json!(["123"]), json!([123])] {
            assert_eq!(cache.get_key(&scope, &cfg, Some(&kid), false, &clock).await.unwrap()["kid"], "123", "{kid}");
        }
        let cases: [(Option<Value>, &str); 6] = [
            (None, "undefined"),
            (Some(json!(null)), "null"),
            (Some(json!({})), "[object Object]"),
            (Some(json!("__proto__")), "__proto__"),
            (Some(json!("constructor")), "constructor"),
            (Some(json!("ins_A\n[fake log]\u{1b}[31m")), "ins_A\\n[fake log]\\u{1b}[31m"),
        ];
        for (kid, shown) in cases {
            let e = cache.get_key(&scope, &cfg, kid.as_ref(), false, &clock).await.unwrap_err();
            assert_eq!(e.reason, Reason::JwkKidMismatch);
            assert!(e.message.contains(&format!("kid='{shown}'")), "{}", e.message);
        }
        assert_eq!(emu.count(Route::Jwks), 1, "one fetch for everything, thanks to the cooldown");
        emu.shutdown().await;
    });
}

#[test]
fn fetch_errors_are_reported_and_not_cached() {
    run(async {
        let emu = emulator().await;
        let cache = JwksCache::new(JwksCacheConfig::default());
        let clock = TestClock::new(T0);
        let kid = json!(kid_of(&emu, 0));

        // Wrong secret key: 401 clerk_key_invalid, one request, nothing cached, next lookup asks again.
        let mut bad = config(&emu, 3000);
        bad.secret_key = Some(Secret::new("sk_test_CANARY_bad"));
        let scope = scope_of(&bad, emu.url());
        for n in 1..=2 {
            let e = cache.get_key(&scope, &bad, Some(&kid), false, &clock).await.unwrap_err();
            assert_eq!((e.reason, e.message.as_str()), (Reason::InvalidSecretKey, "Secret Key invalid"));
            assert!(!e.message.contains("CANARY"));
            assert_eq!(emu.count(Route::Jwks), n);
        }

        // No signing keys at all.
        let cfg = config(&emu, 3000);
        let scope = scope_of(&cfg, emu.url());
        emu.retire_key(0, kid.as_str().unwrap()).unwrap();
        let e = cache.get_key(&scope, &cfg, Some(&kid), false, &clock).await.unwrap_err();
        assert_eq!((e.reason, e.message.as_str()), (Reason::RemoteJwkFailedToLoad, NO_SIGNING_KEYS_MESSAGE));

        // A 5xx answer shared by concurrent callers, then recovery on the next lookup.
        let new = emu.rotate_key(0).await.unwrap();
        emu.set_fault(Route::Jwks, FaultRule::times(Fault::Status { status: 500, retry_after: None, body: None, content_type: None }, 3)).unwrap();
        emu.reset_counters();
        let e = cache.get_key(&scope, &cfg, Some(&json!(new.kid)), false, &clock).await.unwrap_err();
        assert_eq!(e.message, format!("Error loading Clerk JWKS from {}/v1/jwks with code=500", emu.url()));
        assert_eq!(emu.count(Route::Jwks), 3, "5xx on an idempotent GET: 1 + 2 retries");
        assert!(cache.get_key(&scope, &cfg, Some(&json!(new.kid)), false, &clock).await.is_ok());
        assert_eq!(emu.count(Route::Jwks), 4);
        emu.shutdown().await;
    });
}

/// A verifier in JWKS mode against `emu`, on `clock`.
fn jwks_verifier(emu: &EmulatorHandle, clock: Arc<TestClock>) -> Verifier {
    let raw = RawOptions { secret_key: Some(emu.secret_key()), api_url: Some(emu.url().to_owned()), timeout_ms: Some(3000.0), ..RawOptions::default() };
    Verifier::with_clock(VerifyOptions::from_raw(raw).unwrap(), clock)
}

fn rejection(o: &Outcome) -> &str {
    match o {
        Outcome::Rejected { error, .. } => &error.message,
        other => panic!("expected a rejection, got {}", other.to_json_string()),
    }
}

#[test]
fn a_repeated_token_is_reused_no_longer_than_the_jwks_fetch_that_supplied_its_key() {
    run(async {
        let emu = emulator().await;
        let kid = kid_of(&emu, 0);
        let clock = Arc::new(TestClock::new(T0));
        let v = jwks_verifier(&emu, Arc::clone(&clock));
        let now_s = T0 / 1000.0;
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid, "cat": "cl_B7d4PD333AAA"});
        let token = emu.sign_jwt(0, &header, &json!({"sub": "mch_rotation", "jti": "mt_rotation", "iat": now_s - 10.0, "exp": now_s + 3600.0})).unwrap();

        // t0: the JWKS is fetched (cold), the signature verified and remembered.
        assert!(v.verify_local_answer(&token, Mode::MachineAuth).is_none(), "cold JWKS");
        assert!(matches!(v.verify(&token, Mode::MachineAuth).await, Outcome::Verified { .. }));
        let fetch_expiry = T0 + JWKS_CACHE_TTL_MS;
        // Repeats may be reused until the fetch expires, not for 5 minutes from each sighting.
        for at in [1_000.0, 290_000.0, 299_000.0] {
            clock.set(T0 + at);
            let answer = v.verify_local_answer(&token, Mode::MachineAuth).expect("warm JWKS");
            assert!(answer.repeat && matches!(answer.outcome, Outcome::Verified { .. }), "+{at} ms");
            assert_eq!(answer.key_expires_at_ms, Some(fetch_expiry));
            assert_eq!(v.reuse_hint(&answer), Some(fetch_expiry), "+{at} ms");
        }

        // The kid is re-served with another key; until the fetch expires the old key still
        // answers (as the reference's cache does)…
        emu.retire_key(0, &kid).unwrap();
        emu.add_signing_key(0, &kid).await.unwrap();
        clock.set(T0 + 295_000.0);
        assert!(matches!(v.verify_local(&token, Mode::MachineAuth), Some(Outcome::Verified { .. })));
        // …then the refetch serves the new key, and the token's signature no longer matches:
        // neither the signature cache nor a reuse window outlives the old key.
        clock.set(T0 + 310_000.0);
        assert!(v.verify_local_answer(&token, Mode::MachineAuth).is_none(), "the JWKS entry expired");
        assert_eq!(rejection(&v.verify(&token, Mode::MachineAuth).await), "JWT signature is invalid.");
        assert_eq!(rejection(&v.verify_local(&token, Mode::MachineAuth).unwrap()), "JWT signature is invalid.");
        assert_eq!(emu.count(Route::Jwks), 2);

        // A token of the new key is reused until the second fetch expires.
        let fresh = emu.sign_jwt(0, &header, &json!({"sub": "mch_rotation", "iat": now_s, "exp": now_s + 3600.0})).unwrap();
        assert!(matches!(v.verify_local(&fresh, Mode::MachineAuth), Some(Outcome::Verified { .. })));
        let answer = v.verify_local_answer(&fresh, Mode::MachineAuth).unwrap();
        assert_eq!(v.reuse_hint(&answer), Some(T0 + 310_000.0 + JWKS_CACHE_TTL_MS));

        // The kid removed altogether: after the next refetch, the reference's kid mismatch.
        emu.retire_key(0, &kid).unwrap();
        emu.rotate_key(0).await.unwrap();
        clock.set(T0 + 310_000.0 + JWKS_CACHE_TTL_MS);
        assert!(v.verify_local_answer(&fresh, Mode::MachineAuth).is_none());
        let o = v.verify(&fresh, Mode::MachineAuth).await;
        assert!(rejection(&o).starts_with("Unable to find a signing key in JWKS that matches the kid="), "{}", rejection(&o));
        let Outcome::Rejected { error, .. } = o else { unreachable!() };
        assert_eq!(error.reason, FailureReason::KidMissing);
        emu.shutdown().await;
    });
}

#[test]
fn a_pem_verifier_keeps_the_five_minute_window() {
    run(async {
        let emu = emulator().await;
        let kid = kid_of(&emu, 0);
        let pem = emu.instance(0).unwrap().public_key_pem.unwrap();
        let clock = Arc::new(TestClock::new(T0));
        let raw = RawOptions { jwt_key: Some(pem), ..RawOptions::default() };
        let v = Verifier::with_clock(VerifyOptions::from_raw(raw).unwrap(), Arc::clone(&clock) as Arc<dyn Clock>);
        let now_s = T0 / 1000.0;
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let token = emu.sign_jwt(0, &header, &json!({"sub": "mch_pem", "iat": now_s, "exp": now_s + 3600.0})).unwrap();
        assert!(!v.verify_local_answer(&token, Mode::MachineAuth).unwrap().repeat);
        clock.set(T0 + 290_000.0);
        let answer = v.verify_local_answer(&token, Mode::MachineAuth).unwrap();
        assert_eq!((answer.repeat, answer.key_expires_at_ms), (true, None));
        assert_eq!(v.reuse_hint(&answer), Some(T0 + 290_000.0 + REUSE_MAX_MS));
        emu.shutdown().await;
    });
}

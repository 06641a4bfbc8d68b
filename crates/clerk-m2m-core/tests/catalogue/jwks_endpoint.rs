//! 3.3 JWKS endpoint

use crate::fixtures::*;

#[test]
fn k_01_a_cold_cache_fetches_once_with_the_right_headers() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        check_with(&jwks_verifier(&emu), &a_token(), ACCEPT, "cold").await;
        assert_eq!(emu.count(Route::Jwks), 1);
        let r = emu
            .requests()
            .into_iter()
            .find(|r| r.route.as_deref() == Some("jwks"))
            .unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/jwks"));
        assert_eq!(r.authorization_scheme.as_deref(), Some("Bearer"));
        assert_eq!(
            r.authorization_prefix.as_deref(),
            Some(&emu.secret_key()[..7])
        );
        assert_eq!(r.clerk_api_version.as_deref(), Some("2026-05-12"));
        assert!(
            r.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with("clerk-m2m-native/")),
            "{:?}",
            r.user_agent
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_02_warm_cache_no_fetch_expired_cache_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let clock = Arc::new(TestClock::new(NOW_MS));
        let v = verifier_with(jwks_options(&emu), clock.clone());
        let t = tok(&h0(), &with(p0(), json!({"exp": NOW_S + 86_400.0})));
        check_with(&v, &t, ACCEPT, "cold").await;
        clock.advance(299_000.0);
        check_with(&v, &t, ACCEPT, "warm").await;
        assert_eq!(emu.count(Route::Jwks), 1);
        clock.advance(1_000.0);
        check_with(&v, &t, ACCEPT, "expired").await;
        assert_eq!(emu.count(Route::Jwks), 2);
        emu.shutdown().await;
    });
}

#[test]
fn k_03_a_random_kid_flood_fetches_at_most_once_per_cooldown() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let clock = Arc::new(TestClock::new(NOW_MS));
        // A generous deadline: on a loaded machine a fetch that timed out would (rightly) be
        // retried by the next miss, which is not what this row measures.
        let v = Arc::new(verifier_with(
            RawOptions { timeout_ms: Some(30_000.0), ..jwks_options(&emu) },
            clock.clone(),
        ));
        let tokens: Vec<String> = (0..1000)
            .map(|i| {
                tok_with(
                    &with(
                        h0(),
                        json!({"kid": format!("ins_random_{i}_{}", rand_u64())}),
                    ),
                    &p0(),
                    &C,
                    JwtAlgorithm::RS256,
                )
            })
            .collect();
        let tokens = Arc::new(tokens);
        let mut set = tokio::task::JoinSet::new();
        for chunk in 0..10 {
            let (v, tokens) = (v.clone(), tokens.clone());
            set.spawn(async move {
                for t in tokens.iter().skip(chunk * 100).take(100) {
                    assert_outcome(
                        &v.verify(t, Mode::MachineAuth).await,
                        Exp::Reject(M2M, TVF, KID_MISMATCH),
                        "random kid",
                    );
                }
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
        assert_eq!(
            emu.count(Route::Jwks),
            1,
            "one fetch for 1000 random kids inside the cooldown: {:?}",
            jwks_log(&emu)
        );
        // After the 5 s cooldown, another flood costs at most one more fetch.
        clock.advance(5_000.0);
        for t in tokens.iter().take(200) {
            assert_outcome(
                &v.verify(t, Mode::MachineAuth).await,
                Exp::Reject(M2M, TVF, KID_MISMATCH),
                "random kid",
            );
        }
        assert_eq!(emu.count(Route::Jwks), 2, "{:?}", jwks_log(&emu));
        emu.shutdown().await;
    });
}

/// The JWKS requests the emulator saw: (status, fault), for failure messages.
fn jwks_log(emu: &EmulatorHandle) -> Vec<(Option<u16>, Option<String>, i64)> {
    emu.requests()
        .into_iter()
        .filter(|r| r.route.as_deref() == Some("jwks"))
        .map(|r| (r.status, r.fault, r.at_ms))
        .collect()
}

#[test]
fn k_04_fifty_concurrent_cold_verifications_make_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = Arc::new(jwks_verifier(&emu));
        let t = Arc::new(a_token());
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (v, t) = (v.clone(), t.clone());
            set.spawn(async move { v.verify(&t, Mode::MachineAuth).await });
        }
        while let Some(r) = set.join_next().await {
            assert_outcome(&r.unwrap(), ACCEPT, "concurrent cold");
        }
        assert_eq!(emu.count(Route::Jwks), 1);
        emu.shutdown().await;
    });
}

/// An emulator whose JWKS route has `fault`, and a verifier for it with `timeout_ms`.
async fn faulted(fault: Fault, timeout_ms: f64) -> (EmulatorHandle, Verifier) {
    let emu = Emulator::builder().start().await.unwrap();
    emu.set_fault(Route::Jwks, fault).unwrap();
    let v = verifier_with(
        RawOptions {
            timeout_ms: Some(timeout_ms),
            ..jwks_options(&emu)
        },
        fixed(),
    );
    (emu, v)
}

fn assert_no_secret(o: &Outcome, secret: &str) {
    let s = o.to_json_string();
    assert!(
        !s.contains(secret) && !s.contains(&secret[8..]),
        "secret in {s}"
    );
}

#[test]
fn k_05_5xx_is_retried_at_most_twice_inside_the_deadline() {
    run(async {
        for status in [500, 502, 503] {
            let (emu, v) = faulted(
                Fault::Status {
                    status,
                    retry_after: None,
                    body: None,
                    content_type: None,
                },
                5000.0,
            )
            .await;
            let start = Instant::now();
            let o = v.verify(&a_token(), Mode::MachineAuth).await;
            assert!(
                start.elapsed() <= Duration::from_millis(5000) + MARGIN,
                "{:?}",
                start.elapsed()
            );
            assert_outcome(
                &o,
                Exp::Reject(
                    M2M,
                    TVF,
                    &format!(
                        "Error loading Clerk JWKS from {}/v1/jwks with code={status}",
                        emu.url()
                    ),
                ),
                "5xx",
            );
            assert_eq!(emu.count(Route::Jwks), 3, "{status}: 1 + 2 retries");
            assert_no_secret(&o, &emu.secret_key());
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_06_an_invalid_secret_key_is_not_retried() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let wrong = "sk_test_wrong_key_for_k06_0123456789";
        let v = verifier_with(
            RawOptions {
                secret_key: Some(wrong.into()),
                ..jwks_options(&emu)
            },
            fixed(),
        );
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(&o, Exp::Reject(M2M, TVF, ""), "401");
        let m = rejected_message(&o);
        assert!(
            !m.is_empty() && !m.contains("Error loading"),
            "the Backend API's clerk_key_invalid message: {m}"
        );
        assert_eq!(emu.count(Route::Jwks), 1);
        assert_no_secret(&o, wrong);
        // 400 and 403 are not retried either.
        for status in [400, 403] {
            let (emu, v) = faulted(
                Fault::Status {
                    status,
                    retry_after: None,
                    body: None,
                    content_type: None,
                },
                3000.0,
            )
            .await;
            assert_outcome(
                &v.verify(&a_token(), Mode::MachineAuth).await,
                Exp::Reject(M2M, TVF, "Error loading Clerk JWKS"),
                "4xx",
            );
            assert_eq!(emu.count(Route::Jwks), 1, "{status}");
            emu.shutdown().await;
        }
        emu.shutdown().await;
    });
}

#[test]
fn k_07_non_json_bodies_are_errors_and_only_5xx_is_retried() {
    run(async {
        let (emu, v) = faulted(
            Fault::NonJson {
                status: Some(502),
                body: Some("<html>bad gateway</html>".into()),
                content_type: Some("text/html".into()),
            },
            3000.0,
        )
        .await;
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "502 html",
        );
        assert!(!rejected_message(&o).contains("<html>"));
        assert_eq!(emu.count(Route::Jwks), 3);
        emu.shutdown().await;
        let (emu, v) = faulted(
            Fault::NonJson {
                status: Some(200),
                body: Some("{not json".into()),
                content_type: None,
            },
            3000.0,
        )
        .await;
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "200 {not json",
        );
        assert!(
            rejected_message(&o).contains("not valid JSON"),
            "{}",
            rejected_message(&o)
        );
        assert_eq!(emu.count(Route::Jwks), 1);
        emu.shutdown().await;
    });
}

#[test]
fn k_08_wrong_json_shapes_are_errors_not_panics() {
    run(async {
        for body in [
            "null",
            "{}",
            r#"{"keys":null}"#,
            r#"{"keys":"x"}"#,
            r#"{"keys":[null]}"#,
            r#"{"keys":[]}"#,
            "[]",
            "42",
            r#""keys""#,
            r#"{"keys":{"length":1}}"#,
            r#"{"keys":[1,"a",true]}"#,
        ] {
            let emu = Emulator::builder().start().await.unwrap();
            serve_json(&emu, Route::Jwks, 200, body);
            let o = jwks_verifier(&emu)
                .verify(&a_token(), Mode::MachineAuth)
                .await;
            assert_outcome(&o, Exp::Reject(M2M, TVF, ""), body);
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_09_a_hung_jwks_endpoint_is_cut_off_at_the_deadline() {
    run(async {
        let (emu, v) = faulted(Fault::Hang, 1000.0).await;
        let start = Instant::now();
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        let took = start.elapsed();
        assert!(
            took <= Duration::from_millis(1000) + MARGIN && took >= Duration::from_millis(900),
            "{took:?}"
        );
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS: request to"),
            "hang",
        );
        assert!(
            rejected_message(&o).contains("timed out after 1000 ms"),
            "{}",
            rejected_message(&o)
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_10_slow_huge_and_overlong_key_sets_are_bounded() {
    run(async {
        // 1 byte per second.
        let (emu, v) = faulted(
            Fault::SlowDrip {
                chunk_bytes: Some(1),
                interval_ms: Some(1000),
            },
            1500.0,
        )
        .await;
        let start = Instant::now();
        assert_outcome(
            &v.verify(&a_token(), Mode::MachineAuth).await,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS"),
            "drip",
        );
        assert!(
            start.elapsed() <= Duration::from_millis(1500) + MARGIN,
            "{:?}",
            start.elapsed()
        );
        emu.shutdown().await;
        // 100 MB body: refused at the 1 MiB cap without reading it all.
        let (emu, v) = faulted(
            Fault::Oversized {
                bytes: 100 * 1024 * 1024,
                status: None,
            },
            5000.0,
        )
        .await;
        let start = Instant::now();
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert!(
            rejected_message(&o).contains("larger than 1048576 bytes"),
            "{}",
            rejected_message(&o)
        );
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        emu.shutdown().await;
        // 10 000 keys (small, so under the body cap): the key-count cap refuses the set.
        let mut keys: Vec<Value> = (0..9_999)
            .map(|i| json!({"kid": format!("k{i}"), "kty": "RSA"}))
            .collect();
        keys.push(A.jwk(KID_A));
        let emu = jwks_server(&jwks_of(&keys)).await;
        let o = jwks_verifier(&emu)
            .verify(&a_token(), Mode::MachineAuth)
            .await;
        assert_outcome(
            &o,
            Exp::Reject(
                M2M,
                TVF,
                "The JWKS endpoint returned an invalid key set (more than 100 keys)",
            ),
            "10k keys",
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_11_redirects_are_not_followed() {
    run(async {
        // The target serves C under A's kid; it must never be contacted.
        let target = jwks_server(&jwks_of(&[C.jwk(KID_A)])).await;
        let location = format!("{}/v1/jwks", target.url());
        for status in [301, 302, 307, 308] {
            let (emu, v) = faulted(
                Fault::Redirect {
                    location: location.clone(),
                    status: Some(status),
                },
                3000.0,
            )
            .await;
            let o = v
                .verify(
                    &tok_with(&h0(), &p0(), &C, JwtAlgorithm::RS256),
                    Mode::MachineAuth,
                )
                .await;
            assert_outcome(
                &o,
                Exp::Reject(
                    M2M,
                    TVF,
                    &format!(
                        "Error loading Clerk JWKS from {}/v1/jwks with code={status}",
                        emu.url()
                    ),
                ),
                "redirect",
            );
            assert_eq!(emu.count(Route::Jwks), 1);
            emu.shutdown().await;
        }
        assert_eq!(target.count(Route::Jwks), 0);
        target.shutdown().await;
    });
}

#[test]
fn k_12_unusable_jwks_entries_never_verify() {
    run(async {
        let a = A.jwk(KID_A);
        let cases = [
            ("kty EC", with(a.clone(), json!({"kty": "EC"}))),
            (
                "kty oct",
                with(a.clone(), json!({"kty": "oct", "k": "c2VjcmV0"})),
            ),
            ("use enc", with(a.clone(), json!({"use": "enc"}))),
            (
                "key_ops sign",
                with(a.clone(), json!({"key_ops": ["sign"]})),
            ),
            ("alg RS384", with(a.clone(), json!({"alg": "RS384"}))),
            ("private d", with(a.clone(), json!({"d": "AQAB"}))),
            ("no n", with(a.clone(), json!({"n": "__delete__"}))),
            ("kty missing", with(a.clone(), json!({"kty": "__delete__"}))),
        ];
        for (what, jwk) in cases {
            let emu = jwks_server(&jwks_of(&[jwk])).await;
            check_with(
                &jwks_verifier(&emu),
                &a_token(),
                Exp::Reject(M2M, TVF, "Error verifying JWT signature. Error: "),
                what,
            )
            .await;
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_13_keys_outside_2048_to_8192_bits_are_refused() {
    run(async {
        // Real 1024- and 16 384-bit keys, each served as the instance's JWK, with a token that key
        // signed (tests/fixtures/k13-keys.json; __test__/catalogue.test.ts checks the signatures
        // with node:crypto): refused for the key size before any RSA work, in both functions.
        let fixture: Value = serde_json::from_str(include_str!("../fixtures/k13-keys.json")).unwrap();
        let keys = fixture["keys"].as_array().unwrap();
        assert_eq!(keys.iter().map(|k| k["bits"].as_u64().unwrap()).collect::<Vec<_>>(), [1024, 16384]);
        for k in keys {
            let bits = k["bits"].as_u64().unwrap();
            let n = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, k["jwk"]["n"].as_str().unwrap()).unwrap();
            assert_eq!(n.len() as u64 * 8, bits, "the fixture's modulus is {bits} bits");
            let token = k["token"].as_str().unwrap();
            let emu = jwks_server(&jwks_of(std::slice::from_ref(&k["jwk"]))).await;
            let msg = format!("Error verifying JWT signature. Error: Unsupported RSA key size: {bits} bits. Keys must be 2048 to 8192 bits.");
            let start = Instant::now();
            let o = check_with(&jwks_verifier(&emu), token, Exp::Reject(M2M, TVF, &msg), &format!("{bits} bits")).await;
            // No 16 384-bit modular exponentiation was attempted (each costs ~0.2 s of CPU).
            assert!(start.elapsed() < Duration::from_secs(2), "{bits}: {:?}", start.elapsed());
            let Outcome::Rejected { error, .. } = o else { unreachable!() };
            assert_eq!(error.reason.as_str(), "key-unusable");
            emu.shutdown().await;
        }
        // 8192 bits, the upper bound, is accepted: wycheproof.rs verifies the 8192-bit vectors.
    });
}

#[test]
fn k_14_a_duplicate_kid_is_last_wins() {
    run(async {
        let emu = jwks_server(&jwks_of(&[B.jwk(KID_A), A.jwk(KID_A)])).await;
        check_with(&jwks_verifier(&emu), &a_token(), ACCEPT, "A last").await;
        check_with(
            &jwks_verifier(&emu),
            &tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B first",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn k_15_a_proto_kid_in_the_jwks_is_a_plain_entry() {
    run(async {
        let emu = jwks_server(&jwks_of(&[
            B.jwk("__proto__"),
            A.jwk(KID_A),
            C.jwk("constructor"),
        ]))
        .await;
        let v = jwks_verifier(&emu);
        check_with(&v, &a_token(), ACCEPT, "A").await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "__proto__"})),
                &p0(),
                &B,
                JwtAlgorithm::RS256,
            ),
            ACCEPT,
            "B as __proto__",
        )
        .await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "constructor"})),
                &p0(),
                &C,
                JwtAlgorithm::RS256,
            ),
            ACCEPT,
            "C as constructor",
        )
        .await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "toString"})),
                &p0(),
                &C,
                JwtAlgorithm::RS256,
            ),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "toString",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn k_16_tenants_never_share_keys_per_secret_key_api_url_and_version() {
    run(async {
        let kid = "ins_k16";
        let emu = Emulator::builder()
            .instance(InstanceConfig::new().kid(kid))
            .instance(InstanceConfig::new().kid(kid))
            .start()
            .await
            .unwrap();
        let opts = |i: usize| RawOptions {
            secret_key: Some(emu.instance(i).unwrap().secret_key),
            api_url: Some(emu.url().into()),
            ..RawOptions::default()
        };
        let t0 = emu
            .sign_jwt(0, &with(h0(), json!({"kid": kid})), &p0())
            .unwrap();
        let t1 = emu
            .sign_jwt(1, &with(h0(), json!({"kid": kid})), &p0())
            .unwrap();
        let (v0, v1) = (
            verifier_with(opts(0), fixed()),
            verifier_with(opts(1), fixed()),
        );
        check_with(&v0, &t0, ACCEPT, "0/0").await;
        check_with(&v1, &t1, ACCEPT, "1/1").await;
        check_with(&v0, &t1, Exp::Reject(M2M, TVF, SIG_INVALID), "0/1").await;
        check_with(&v1, &t0, Exp::Reject(M2M, TVF, SIG_INVALID), "1/0").await;
        // apiUrl as given is part of the scope: a trailing slash is another scope (another fetch).
        let before = emu.count(Route::Jwks);
        let slash = verifier_with(
            RawOptions {
                api_url: Some(format!("{}/", emu.url())),
                ..opts(0)
            },
            fixed(),
        );
        check_with(&slash, &t0, ACCEPT, "trailing slash").await;
        assert_eq!(emu.count(Route::Jwks), before + 1);
        // apiVersion too: v2 is not served, and is not answered from the v1 scope.
        let v2 = verifier_with(
            RawOptions {
                api_version: Some("v2".into()),
                ..opts(0)
            },
            fixed(),
        );
        check_with(
            &v2,
            &t0,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "v2",
        )
        .await;
        // Separate TTLs: expiring one scope leaves the other warm.
        let clock = Arc::new(TestClock::new(NOW_MS));
        let e0 = verifier_with(
            RawOptions {
                api_url: Some(format!("{}//", emu.url())),
                ..opts(0)
            },
            clock.clone(),
        );
        let e1 = verifier_with(
            RawOptions {
                api_url: Some(format!("{}//", emu.url())),
                ..opts(1)
            },
            clock.clone(),
        );
        check_with(&e0, &t0, ACCEPT, "e0").await;
        clock.advance(200_000.0);
        check_with(&e1, &t1, ACCEPT, "e1").await;
        clock.advance(150_000.0);
        let before = emu.count(Route::Jwks);
        check_with(&e1, &t1, ACCEPT, "e1 still warm").await;
        assert_eq!(emu.count(Route::Jwks), before);
        check_with(&e0, &t0, ACCEPT, "e0 expired").await;
        assert_eq!(emu.count(Route::Jwks), before + 1);
        emu.shutdown().await;
    });
}

#[test]
fn k_17_skip_jwks_cache_fetches_every_time() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = verifier_with(
            RawOptions {
                skip_jwks_cache: true,
                ..jwks_options(&emu)
            },
            fixed(),
        );
        for _ in 0..3 {
            assert!(
                v.verify_local(&a_token(), Mode::MachineAuth).is_none(),
                "never answered from memory"
            );
            assert_outcome(
                &v.verify(&a_token(), Mode::MachineAuth).await,
                ACCEPT,
                "skip",
            );
        }
        assert_eq!(emu.count(Route::Jwks), 3);
        // Each fetch is bounded by the timeout: a slow endpoint (each answer 2 s late) costs
        // three fetches of at most the 300 ms deadline each, nothing waits for the answers.
        let slow = Fault::Delay { ms: 2_000 };
        emu.set_fault(Route::Jwks, slow).unwrap();
        emu.reset_counters();
        let v = verifier_with(RawOptions { skip_jwks_cache: true, timeout_ms: Some(300.0), ..jwks_options(&emu) }, fixed());
        for i in 0..3 {
            let start = Instant::now();
            let o = v.verify(&a_token(), Mode::MachineAuth).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(250) && took <= Duration::from_millis(300) + MARGIN, "fetch {i}: {took:?}");
            assert!(rejected_message(&o).contains("timed out after 300 ms"), "{}", rejected_message(&o));
            let Outcome::Rejected { error, .. } = &o else { unreachable!() };
            assert_eq!(error.reason.transport().map(|t| t.kind.as_str()), Some("timeout"));
        }
        assert_eq!(emu.count(Route::Jwks), 3, "one request each: a timeout is not retried past the deadline");
        emu.shutdown().await;
    });
}

#[test]
fn k_18_scope_churn_is_bounded() {
    run(async {
        // Every secret key gets a key set (the fault answers before any authentication), so
        // every scope stays fresh and only the LRU bound can evict.
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let cache = JwksCache::new(JwksCacheConfig {
            max_scopes: 16,
            ..JwksCacheConfig::default()
        });
        let clock = FixedClock(NOW_MS);
        for i in 0..300 {
            let secret = Secret::new(format!("sk_test_churn_{i:05}"));
            let mut cfg = BapiConfig::new(url::Url::parse(emu.url()).unwrap());
            cfg.secret_key = Some(secret.clone());
            let scope = JwksScope::new(emu.url(), "v1", Some(&secret));
            assert!(cache
                .get_key(&scope, &cfg, Some(&json!(KID_A)), false, &clock)
                .await
                .is_ok());
            assert!(cache.stats().scopes <= 16, "{:?}", cache.stats());
        }
        assert_eq!(cache.stats().scopes, 16);
        assert_eq!(cache.stats().fetches, 300);
        emu.shutdown().await;
    });
}

#[test]
fn k_19_hostile_api_urls_and_versions_are_configuration_errors() {
    for url in [
        "http://169.254.169.254",
        "file:///etc/passwd",
        "http://evil.test",
        "https://user:pw@api.clerk.com",
        "https://user@api.clerk.com",
        "gopher://x",
        "http://localhost.evil.com",
        "https://api.clerk.com?x=1",
        "not a url",
    ] {
        let r = VerifyOptions::from_raw(RawOptions {
            api_url: Some(url.into()),
            secret_key: Some("sk_test_x".into()),
            ..RawOptions::default()
        });
        let e = r.err().unwrap_or_else(|| panic!("{url} accepted"));
        assert!(e.to_string().starts_with("apiUrl"), "{e}");
        assert!(!e.to_string().contains("pw@"), "{e}");
    }
    for version in ["../x", "v1/../../x", "v1?x", "..", "a b", "v1#x"] {
        let r = VerifyOptions::from_raw(RawOptions {
            api_version: Some(version.into()),
            ..RawOptions::default()
        });
        assert!(r.is_err(), "{version} accepted");
    }
    for ok in [
        "https://api.clerk.com",
        "http://127.0.0.1:1",
        "http://[::1]:1",
        "http://localhost:1",
    ] {
        assert!(
            VerifyOptions::from_raw(RawOptions {
                api_url: Some(ok.into()),
                ..RawOptions::default()
            })
            .is_ok(),
            "{ok}"
        );
    }
}

#[test]
fn k_20_the_kid_mismatch_message_names_no_cached_kid_and_no_secret() {
    run(async {
        let emu = shared().await;
        let hostile = format!("ins_A\n[fake]\u{1b}[31m{}", "x".repeat(5000));
        let o = check_jwks(
            &tok(&with(h0(), json!({"kid": hostile})), &p0()),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "hostile kid",
        )
        .await;
        let m = rejected_message(&o);
        assert!(!m.contains(KID_A), "a cached kid is listed: {m}");
        assert!(!m.contains(&emu.secret_key()[8..]), "secret in {m}");
        assert!(
            m.contains("ins_A\\n[fake]\\u{1b}[31mxx") && m.contains('…'),
            "{m}"
        );
        assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m:?}");
    });
}

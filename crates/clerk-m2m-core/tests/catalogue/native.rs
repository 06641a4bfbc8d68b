//! 5. Native-addon rows, core halves (the JS halves are in __test__/)

use crate::fixtures::*;

#[test]
fn n_03_signature_verification_needs_no_process_wide_crypto_provider() {
    // This process never installs a jsonwebtoken/rustls provider; a missing one would panic here.
    let input = b"header.payload";
    let sig = A.sign(JwtAlgorithm::RS256, input);
    let key = RsaPublicKey::from_der(&A.spki_der()).unwrap();
    assert_eq!(
        verify_signature(JwtAlgorithm::RS256, input, &sig, &key),
        Ok(true)
    );
    assert_eq!(
        verify_signature(JwtAlgorithm::RS384, input, &sig, &key),
        Ok(false)
    );
}

#[test]
fn n_04_arithmetic_edges_in_options_never_panic() {
    let huge = [
        1e308,
        -1e308,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        18446744073709551616.0,
        -0.0,
        0.5,
        9007199254740993.0,
    ];
    for &x in &huge {
        for raw in [
            RawOptions {
                clock_skew_in_ms: Some(x),
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            RawOptions {
                timeout_ms: Some(x),
                ..RawOptions::default()
            },
            RawOptions {
                max_token_bytes: Some(x),
                ..RawOptions::default()
            },
        ] {
            match VerifyOptions::from_raw(raw) {
                // Whatever was accepted must be usable without overflow: a PEM verifier answers
                // locally, the others (no key) with the reference's key error.
                Ok(o) => {
                    let v = Verifier::with_clock(o, fixed());
                    assert!(v.verify_local(&a_token(), Mode::MachineAuth).is_some(), "{x}");
                }
                // Whatever was refused says which option, without panicking.
                Err(e) => assert!(!e.to_string().is_empty(), "{x}"),
            }
        }
    }
    // Clocks at the edges of time.
    for now in [f64::MAX, f64::MIN, f64::NAN, 0.0, -1.0, 8.64e15 + 1.0] {
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            Arc::new(FixedClock(now)),
        );
        // An outcome (accepted or rejected, by the time claims), never a panic.
        let o = v.verify_local(&a_token(), Mode::MachineAuth);
        assert!(matches!(o, Some(Outcome::Verified { .. } | Outcome::Rejected { .. })), "{now}");
    }
}

#[test]
fn n_05_redaction_never_cuts_inside_a_character() {
    for s in [
        "mt_é€😀xyz",
        "sk_😀😀😀😀😀😀😀😀",
        "ak_\u{301}\u{301}\u{301}\u{301}\u{301}",
        "abcdef😀",
        "mt_",
    ] {
        let p = redact::secret_prefix(s);
        assert!(p.trim_end_matches('…').chars().count() <= 7, "{p}");
        assert!(s.starts_with(p.trim_end_matches('…')));
        let _ = redact::echo_untrusted(s);
        let _ = format!("{:?}", Secret::new(s));
    }
    run(async {
        // Opaque tokens with a multi-byte character at byte 7 through a failing network path.
        let v = verifier_with(
            RawOptions {
                machine_secret_key: Some("ak_é😀CANARYCANARY".into()),
                api_url: Some(closed_port_url()),
                timeout_ms: Some(500.0),
                ..RawOptions::default()
            },
            fixed(),
        );
        for t in ["mt_éé😀CANARY", "mt_abc😀CANARY", "mt_😀😀😀😀CANARY"] {
            let o = v.verify(t, Mode::MachineAuth).await;
            assert_eq!(rejected(&o).1, "unexpected-error");
            assert!(
                !o.to_json_string().contains("CANARY"),
                "{}",
                o.to_json_string()
            );
        }
        let o = VerifyOptions::from_raw(RawOptions {
            secret_key: Some("sk_test_😀CANARY".into()),
            ..RawOptions::default()
        })
        .unwrap();
        assert!(!format!("{o:?}").contains("CANARY"));
    });
}

#[test]
fn n_10_a_depth_bomb_is_token_invalid_and_never_overflows_the_stack() {
    run(async {
        for depth in [129, 5_000, 100_000] {
            let p = format!(
                r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
                NOW_S + 60.0,
                nested(depth)
            );
            let t = raw_a(&h0_text(), &p);
            let v = verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    max_token_bytes: Some(1024.0 * 1024.0),
                    ..RawOptions::default()
                },
                fixed(),
            );
            check_with(
                &v,
                &t,
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                &depth.to_string(),
            )
            .await;
            // Objects nest the same way.
            let p = format!(
                r#"{{"sub":"mch_1","x":{}1{}}}"#,
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            check_with(
                &v,
                &raw_a(&h0_text(), &p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                "objects",
            )
            .await;
        }
        // A Backend API body nested 5000 deep is an error too.
        let env = opaque_env().await;
        serve_json(
            &env.emu,
            Route::M2mVerify,
            200,
            &format!(
                r#"{{"object":"machine_to_machine_token","x":{}}}"#,
                nested(5000)
            ),
        );
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        assert_eq!(rejected(&o).1, "unexpected-error");
        serve_json(
            &env.emu,
            Route::Jwks,
            200,
            &format!(r#"{{"keys":{}}}"#, nested(5000)),
        );
        let o = verifier_with(jwks_options(&env.emu), fixed())
            .verify(&a_token(), Mode::MachineAuth)
            .await;
        assert_eq!(rejected(&o).1, TVF);
        env.emu.shutdown().await;
    });
}

fn real_now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64
}

#[test]
fn o_14_the_opt_in_opaque_cache_is_bounded_by_its_ttl_and_the_expiration_and_skips_failures() {
    run(async {
        let env = opaque_env().await;
        let trpc = env.emu.machine("trpc").unwrap();
        let clock = Arc::new(TestClock::new(real_now_ms()));
        let raw = RawOptions {
            machine_secret_key: Some(trpc.secret_key),
            api_url: Some(env.emu.url().into()),
            opaque_cache_ttl_ms: Some(10_000.0),
            ..RawOptions::default()
        };
        let v = verifier_with(raw.clone(), clock.clone());
        let count = || env.emu.count(Route::M2mVerify);
        // Inside the TTL a revocation is not seen (the documented trade-off); after it, it is.
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        bapi::revoke_m2m_token(
            &cfg,
            &RevokeM2mTokenParams {
                m2m_token_id: env.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        clock.advance(9_000.0);
        assert!(
            matches!(
                v.verify(&env.token, Mode::MachineAuth).await,
                Outcome::Verified { .. }
            ),
            "cached inside the TTL"
        );
        assert_eq!(count(), 1);
        clock.advance(1_000.0);
        assert_eq!(
            rejected(&v.verify(&env.token, Mode::MachineAuth).await).3,
            "Machine token has been revoked."
        );
        assert_eq!(count(), 2);
        // Failures are never cached: a 429, a 503 and a dropped connection, then a success.
        let fresh = mint(&env.emu).await;
        let fresh = fresh["token"].as_str().unwrap().to_owned();
        for fault in [
            Fault::Status {
                status: 429,
                retry_after: None,
                body: None,
                content_type: None,
            },
            Fault::Status {
                status: 503,
                retry_after: Some(RetryAfter::Seconds(100)),
                body: None,
                content_type: None,
            },
            Fault::Drop,
        ] {
            env.emu
                .set_fault(
                    Route::M2mVerify,
                    clerk_bapi_emulator::FaultRule::times(fault.clone(), 3),
                )
                .unwrap();
            assert_eq!(
                rejected(&v.verify(&fresh, Mode::MachineAuth).await).1,
                "unexpected-error",
                "{}",
                fault.kind()
            );
            env.emu.clear_fault(Route::M2mVerify);
        }
        let before = count();
        assert!(matches!(
            v.verify(&fresh, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        assert_eq!(count(), before + 1, "the failures were not cached");
        // Nor are 404s.
        let before = count();
        for _ in 0..2 {
            assert_eq!(
                rejected(&v.verify("mt_unknown_o14", Mode::MachineAuth).await).2,
                Some(404)
            );
        }
        assert_eq!(count(), before + 2);
        // An entry never outlives the token: a token expiring in 2 s is cached at most until then.
        let short = {
            let webhook = env.emu.machine("webhook").unwrap();
            let cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
            let params = CreateM2mTokenParams {
                machine_secret_key: Some(Secret::new(webhook.secret_key)),
                seconds_until_expiration: Some(2.0),
                ..Default::default()
            };
            bapi::create_m2m_token(&cfg, &params).await.unwrap()
        };
        let expiration = short["expiration"].as_f64().unwrap();
        clock.set(real_now_ms());
        let short = short["token"].as_str().unwrap();
        assert!(matches!(
            v.verify(short, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        let before = count();
        clock.set(expiration + 1.0);
        let _ = v.verify(short, Mode::MachineAuth).await;
        assert_eq!(
            count(),
            before + 1,
            "past its expiration the token is asked about again"
        );
        // Tenants never share entries: another credential asks the API itself.
        let other = verifier_with(
            RawOptions {
                machine_secret_key: Some("ak_other_tenant_o14".into()),
                ..raw
            },
            clock.clone(),
        );
        let answer = other.verify(&fresh, Mode::MachineAuth).await;
        let (_, code, status, _) = rejected(&answer);
        assert_eq!((code, status), ("secret-key-invalid", Some(401)));
        // The TTL is capped at 60 s.
        assert!(VerifyOptions::from_raw(RawOptions {
            opaque_cache_ttl_ms: Some(60_001.0),
            ..RawOptions::default()
        })
        .is_err());
        env.emu.shutdown().await;
    });
}

#[test]
fn o_14_the_signature_cache_never_skips_claims_nor_crosses_keys() {
    run(async {
        let clock = Arc::new(TestClock::new(NOW_MS));
        let pem_a = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            clock.clone(),
        );
        let pem_b = verifier_with(
            RawOptions {
                jwt_key: Some(B.spki_pem()),
                ..RawOptions::default()
            },
            clock.clone(),
        );
        let t = tok(
            &h0(),
            &with(
                p0(),
                json!({"exp": NOW_S + 60.0, "jti": format!("mt_sigcache_{}", rand_u64())}),
            ),
        );
        for _ in 0..3 {
            assert_outcome(
                &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
                ACCEPT,
                "cached",
            );
        }
        // Expiry since the signature was cached (fast-jwt CVE-2026-107719's class).
        clock.advance(66_000.0);
        assert_outcome(
            &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, EXPIRED),
            "expired after caching",
        );
        clock.set(NOW_MS);
        // Another key never profits from A's entry.
        assert_outcome(
            &pem_b.verify_local(&t, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B",
        );
        // The same signature over other bytes is not a hit (GHSA-rp9m-7r4c-75qg's class).
        let (input, sig) = t.rsplit_once('.').unwrap();
        let header = input.split('.').next().unwrap();
        let swapped = format!(
            "{header}.{}.{sig}",
            b64(with(p0(), json!({"sub": "mch_attacker"}))
                .to_string()
                .as_bytes())
        );
        assert_outcome(
            &pem_a.verify_local(&swapped, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "payload swapped",
        );
        // The category and header rules still run on a hit.
        assert_outcome(
            &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
            ACCEPT,
            "still fine",
        );
        // A rotated key: after the JWKS TTL the kid maps to B, and A's cached signature no longer counts.
        let long = tok(
            &h0(),
            &with(
                p0(),
                json!({"exp": NOW_S + 3600.0, "jti": format!("mt_rotation_{}", rand_u64())}),
            ),
        );
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = verifier_with(jwks_options(&emu), clock.clone());
        assert_outcome(&v.verify(&long, Mode::MachineAuth).await, ACCEPT, "JWKS A");
        assert_outcome(
            &v.verify(&long, Mode::MachineAuth).await,
            ACCEPT,
            "JWKS A, cached",
        );
        serve_json(
            &emu,
            Route::Jwks,
            200,
            &jwks_of(&[B.jwk(KID_A)]).to_string(),
        );
        clock.advance(300_001.0);
        assert_outcome(
            &v.verify(&long, Mode::MachineAuth).await,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "kid now maps to B",
        );
        assert_eq!(emu.count(Route::Jwks), 2);
        emu.shutdown().await;
    });
}

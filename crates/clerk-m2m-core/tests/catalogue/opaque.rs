//! 4. Opaque tokens

use crate::fixtures::*;

#[test]
fn o_01_a_valid_opaque_token_is_an_m2m_token_with_ms_timestamps() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        for mode in [Mode::MachineAuth, Mode::M2MOnly] {
            assert!(
                v.verify_local(&env.token, mode).is_none(),
                "opaque tokens always need the API"
            );
            let o = v.verify(&env.token, mode).await;
            let d = api_data(&o);
            assert_eq!(d["id"], json!(env.id));
            assert_eq!(d["subject"], json!(env.emu.machine("webhook").unwrap().id));
            let (created, expiration) = (
                d["created_at"].as_f64().unwrap(),
                d["expiration"].as_f64().unwrap(),
            );
            assert!(created > 1.6e12, "milliseconds: {created}");
            assert_eq!(expiration - created, 3_600_000.0);
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_02_an_unknown_token_is_not_found() {
    run(async {
        let env = opaque_env().await;
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(
                "mt_unknown0000000000000000000000000000000000000000",
                Mode::MachineAuth,
            )
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, Some(404), "Machine token not found")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_03_a_bad_credential_is_secret_key_invalid_without_our_key() {
    run(async {
        let env = opaque_env().await;
        let wrong = "ak_wrong_machine_secret_for_o03_0123456789";
        let v = verifier_with(
            RawOptions {
                machine_secret_key: Some(wrong.into()),
                api_url: Some(env.emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        let (tt, code, status, msg) = rejected(&o);
        assert_eq!((tt, code, status), (M2M, "secret-key-invalid", Some(401)));
        assert!(!msg.is_empty());
        assert!(
            !o.to_json_string().contains(&wrong[3..])
                && !o.to_json_string().contains(&env.token[3..])
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_04_429_is_not_retried_and_exposes_retry_after() {
    run(async {
        let env = opaque_env().await;
        env.emu
            .set_fault(
                Route::M2mVerify,
                Fault::Status {
                    status: 429,
                    retry_after: Some(RetryAfter::Seconds(7)),
                    body: None,
                    content_type: None,
                },
            )
            .unwrap();
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", Some(429), "Unexpected error")
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 1);
        // The Backend API error carries Retry-After for callers that want it.
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        let e = bapi::verify_m2m_opaque(&cfg, &env.token).await.unwrap_err();
        assert_eq!((e.status, e.retry_after), (Some(429), Some(7)));
        env.emu.shutdown().await;
    });
}

#[test]
fn o_05_transient_failures_are_retried_at_most_twice() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 5000.0);
        for status in [500, 502, 503, 504] {
            env.emu.reset_counters();
            env.emu
                .set_fault(
                    Route::M2mVerify,
                    Fault::Status {
                        status,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                )
                .unwrap();
            let start = Instant::now();
            let o = v.verify(&env.token, Mode::MachineAuth).await;
            assert!(start.elapsed() <= Duration::from_millis(5000) + MARGIN);
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", Some(status), "Unexpected error")
            );
            assert_eq!(env.emu.count(Route::M2mVerify), 3, "{status}");
        }
        // A connection reset before any answer: retried, then unexpected-error without status.
        env.emu.reset_counters();
        env.emu.set_fault(Route::M2mVerify, Fault::Drop).unwrap();
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", None, "Unexpected error")
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 3);
        // One transient failure, then success.
        env.emu.reset_counters();
        env.emu
            .set_fault(
                Route::M2mVerify,
                clerk_bapi_emulator::FaultRule::times(
                    Fault::Status {
                        status: 503,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                    1,
                ),
            )
            .unwrap();
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        assert_eq!(env.emu.count(Route::M2mVerify), 2);
        env.emu.shutdown().await;
    });
}

#[test]
fn o_06_a_hung_server_times_out() {
    run(async {
        let env = opaque_env().await;
        env.emu.set_fault(Route::M2mVerify, Fault::Hang).unwrap();
        let start = Instant::now();
        let o = opaque_verifier(&env.emu, 800.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(750) && took <= Duration::from_millis(800) + MARGIN,
            "{took:?}"
        );
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", None, "Unexpected error")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_07_unreachable_servers_are_unexpected_errors_without_status() {
    run(async {
        for url in [
            closed_port_url(),
            "https://clerk-m2m-native-test.invalid".to_owned(),
        ] {
            let v = verifier_with(
                RawOptions {
                    secret_key: Some("sk_test_o07".into()),
                    api_url: Some(url.clone()),
                    timeout_ms: Some(3000.0),
                    ..RawOptions::default()
                },
                fixed(),
            );
            let start = Instant::now();
            let o = v.verify("mt_unreachable", Mode::MachineAuth).await;
            assert!(
                start.elapsed() <= Duration::from_millis(3000) + MARGIN,
                "{url}: {:?}",
                start.elapsed()
            );
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", None, "Unexpected error"),
                "{url}"
            );
        }
    });
}

#[test]
fn o_08_bad_200_bodies_are_unexpected_errors() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 5000.0);
        let faults = [
            Fault::NonJson {
                status: Some(200),
                body: Some("<html>ok</html>".into()),
                content_type: Some("text/html".into()),
            },
            Fault::NonJson {
                status: Some(200),
                body: None,
                content_type: None,
            },
            Fault::TruncatedJson,
            Fault::Oversized {
                bytes: 10 * 1024 * 1024,
                status: None,
            },
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("[1,2]".into()),
                content_type: None,
            },
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("null".into()),
                content_type: None,
            },
        ];
        for fault in faults {
            let kind = fault.kind();
            env.emu.set_fault(Route::M2mVerify, fault).unwrap();
            let o = v.verify(&env.token, Mode::MachineAuth).await;
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", None, "Unexpected error"),
                "{kind}"
            );
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_09_revoked_or_expired_200_answers_are_rejected() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        let cfg = {
            let mut c = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
            c.secret_key = Some(Secret::new(env.emu.secret_key()));
            c
        };
        bapi::revoke_m2m_token(
            &cfg,
            &RevokeM2mTokenParams {
                m2m_token_id: env.id.clone(),
                revocation_reason: Some("o-09".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, None, "Machine token has been revoked.")
        );
        // Expired: the emulator's clock moves past the token's expiration; it still answers 200.
        let other = mint(&env.emu).await;
        env.emu.advance_clock_ms(3_601_000);
        let o = v
            .verify(other["token"].as_str().unwrap(), Mode::MachineAuth)
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, None, "Machine token has expired.")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_10_no_credential_sends_no_authorization_and_maps_the_401() {
    run(async {
        let env = opaque_env().await;
        let v = verifier_with(
            RawOptions {
                api_url: Some(env.emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        let (tt, code, status, _) = rejected(&o);
        assert_eq!((tt, code, status), (M2M, "secret-key-invalid", Some(401)));
        let r = env
            .emu
            .requests()
            .into_iter()
            .rfind(|r| r.route.as_deref() == Some("m2m_verify"))
            .unwrap();
        assert!(!r.authorization_present);
        env.emu.shutdown().await;
    });
}

#[test]
fn o_11_hostile_token_characters_only_travel_in_the_json_body() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        let hostile = [
            "mt_a\r\nX-Injected: 1",
            "mt_\"quoted\"\\",
            "mt_\u{0}nul",
            &format!("mt_{}", "q".repeat(4096)),
            "mt_?x=1#frag",
            "mt_../../v1/jwks",
        ];
        for t in hostile {
            env.emu.clear_requests();
            let o = v.verify(t, Mode::MachineAuth).await;
            assert_eq!(rejected(&o).1, INVALID, "{t:?}");
            let r = env.emu.requests().pop().unwrap();
            assert_eq!(
                (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
                ("POST", "/m2m_tokens/verify", None),
                "{t:?}"
            );
            assert_eq!(r.body, Some(json!({ "token": t })));
            assert_eq!(
                r.authorization_prefix.as_deref(),
                Some(&env.emu.machine("trpc").unwrap().secret_key[..7]),
                "only the credential is in the header"
            );
            assert!(!rejected(&o).3.contains(&t[3..]));
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_12_revoke_ids_cannot_change_the_path() {
    run(async {
        let env = opaque_env().await;
        env.emu.reset_counters();
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        for id in [
            "../machines/mch_x",
            "..",
            "%2e%2e",
            "%252e%252e/x",
            "a/../../b",
            "a\\..\\b",
        ] {
            let e = bapi::revoke_m2m_token(
                &cfg,
                &RevokeM2mTokenParams {
                    m2m_token_id: id.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert_eq!(e.kind, Some(bapi::KIND_INVALID_REQUEST), "{id}");
        }
        assert_eq!(env.emu.count(Route::M2mRevoke), 0);
        assert_eq!(
            env.emu.counters().values().sum::<u64>(),
            0,
            "{:?}",
            env.emu.counters()
        );
        // Other characters stay inside the segment, percent-encoded.
        for (id, path) in [
            ("mt_a/b", "/m2m_tokens/mt_a%2Fb/revoke"),
            ("mt_a?b#c", "/m2m_tokens/mt_a%3Fb%23c/revoke"),
        ] {
            env.emu.clear_requests();
            let e = bapi::revoke_m2m_token(
                &cfg,
                &RevokeM2mTokenParams {
                    m2m_token_id: id.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert_eq!(e.status, Some(404), "{id}");
            let r = env.emu.requests().pop().unwrap();
            assert_eq!((r.path.as_str(), r.query.as_deref()), (path, None), "{id}");
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_13_create_is_never_retried_after_a_mid_request_failure() {
    run(async {
        let env = opaque_env().await;
        let webhook = env.emu.machine("webhook").unwrap();
        let cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        for fault in [
            Fault::Drop,
            Fault::Reset {
                after_bytes: Some(10),
            },
            Fault::Status {
                status: 503,
                retry_after: None,
                body: None,
                content_type: None,
            },
        ] {
            env.emu.reset_counters();
            let kind = fault.kind();
            env.emu.set_fault(Route::M2mCreate, fault).unwrap();
            let params = CreateM2mTokenParams {
                machine_secret_key: Some(Secret::new(webhook.secret_key.clone())),
                ..Default::default()
            };
            assert!(
                bapi::create_m2m_token(&cfg, &params).await.is_err(),
                "{kind}"
            );
            assert_eq!(env.emu.count(Route::M2mCreate), 1, "{kind}: never retried");
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_14_opaque_results_are_not_cached_by_default() {
    run(async {
        // The opaque result cache is opt-in (`opaqueCacheTtlMs`, default 0): by default every
        // verification asks the API, so a revocation is effective at once.
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
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
        assert_eq!(
            rejected(&v.verify(&env.token, Mode::MachineAuth).await).3,
            "Machine token has been revoked."
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 3);
        // Failures are not cached either: a 429, then a healthy answer.
        env.emu
            .set_fault(
                Route::M2mVerify,
                clerk_bapi_emulator::FaultRule::times(
                    Fault::Status {
                        status: 429,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                    1,
                ),
            )
            .unwrap();
        let fresh = mint(&env.emu).await;
        let fresh = fresh["token"].as_str().unwrap();
        assert_eq!(
            rejected(&v.verify(fresh, Mode::MachineAuth).await).2,
            Some(429)
        );
        assert!(matches!(
            v.verify(fresh, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        env.emu.shutdown().await;
    });
}

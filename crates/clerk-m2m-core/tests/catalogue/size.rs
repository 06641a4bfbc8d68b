//! 2.4 Size / DoS

use crate::fixtures::*;

#[test]
fn j_50_a_2mb_jwt_is_refused_before_decoding_and_without_network() {
    run(async {
        let t = tok(&h0(), &with(p0(), json!({"pad": "a".repeat(2_000_000)})));
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = jwks_verifier(&emu);
        // Settled locally, by the ceiling (checked before any base64 or JSON work; the JS
        // suite measures the cost on the release build, J-54).
        assert!(v.verify_local(&t, Mode::MachineAuth).is_some());
        check_with(
            &v,
            &t,
            Exp::Reject(
                M2M,
                INVALID,
                "Invalid JWT form. The token is larger than 16384 bytes.",
            ),
            "2 MB",
        )
        .await;
        check_pem(
            &t,
            Exp::Reject(
                M2M,
                INVALID,
                "Invalid JWT form. The token is larger than 16384 bytes.",
            ),
            "2 MB",
        )
        .await;
        assert_eq!(emu.count(Route::Jwks), 0);
        // The ceiling is configurable (up to 1 MiB), and applies at its exact boundary.
        let small = tok(&h0(), &p0());
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                max_token_bytes: Some(small.len() as f64),
                ..RawOptions::default()
            },
            fixed(),
        );
        check_with(&v, &small, ACCEPT, "at the ceiling").await;
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                max_token_bytes: Some(small.len() as f64 - 1.0),
                ..RawOptions::default()
            },
            fixed(),
        );
        check_with(
            &v,
            &small,
            Exp::Reject(M2M, INVALID, "Invalid JWT form. The token is larger than"),
            "one over",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn j_51_a_1mb_opaque_token_is_refused_locally() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let v = jwks_verifier(&emu);
        let t = format!("mt_{}", "a".repeat(1_000_000));
        for mode in [Mode::MachineAuth, Mode::M2MOnly] {
            let local = v
                .verify_local(&t, mode)
                .expect("answered without the network");
            assert_outcome(
                &local,
                Exp::Reject(
                    M2M,
                    INVALID,
                    "Invalid machine token. The token is larger than 16384 bytes.",
                ),
                "1 MB mt_",
            );
            assert_outcome(
                &v.verify(&t, mode).await,
                Exp::Reject(M2M, INVALID, "Invalid machine token."),
                "1 MB mt_",
            );
        }
        for (prefix, tt) in [("oat_", OAUTH), ("ak_", TokenType::ApiKey)] {
            let t = format!("{prefix}{}", "a".repeat(1_000_000));
            assert_outcome(
                &v.verify(&t, Mode::MachineAuth).await,
                Exp::Reject(tt, INVALID, "Invalid machine token."),
                prefix,
            );
        }
        assert_eq!(
            emu.counters().values().sum::<u64>(),
            0,
            "{:?}",
            emu.counters()
        );
        emu.shutdown().await;
    });
}

#[test]
fn j_52_a_1mb_header_segment_is_refused() {
    run(async {
        let h = with(h0(), json!({"pad": "h".repeat(1_000_000)}));
        check(
            &tok(&h, &p0()),
            Exp::Reject(M2M, INVALID, "Invalid JWT form. The token is larger than"),
            "1 MB header",
        )
        .await;
    });
}

#[test]
fn j_53_a_hundred_thousand_dots_is_unroutable_in_linear_time() {
    run(async {
        let t = vec!["a"; 100_001].join(".");
        let start = Instant::now();
        check(&t, Exp::Throw, "1e5 dots").await;
        let t2 = vec!["a"; 1_000_001].join(".");
        check_pem(&t2, Exp::Throw, "1e6 dots").await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    });
}

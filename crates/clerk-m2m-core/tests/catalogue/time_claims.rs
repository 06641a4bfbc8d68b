//! 2.6 Time claims

use crate::fixtures::*;

fn exp_token(extra: Value) -> String {
    tok(&h0(), &with(p0(), extra))
}

const NOT_ACTIVE: &str = "JWT cannot be used prior to not before date claim (nbf).";
const IAT_FUTURE: &str = "JWT issued at date claim (iat) is in the future.";

#[test]
fn j_80_a_missing_exp_is_refused() {
    run(async {
        let msg = "Invalid JWT expiry date claim (exp) undefined. Expected number.";
        check(
            &exp_token(json!({"exp": "__delete__"})),
            Exp::Reject(M2M, TVF, msg),
            "no exp",
        )
        .await;
    });
}

#[test]
fn j_81_a_wrongly_typed_exp_is_never_absent() {
    run(async {
        for (exp, shown) in [
            (json!("1795763638"), "\"1795763638\""),
            (json!(true), "true"),
            (json!(null), "null"),
            (json!([]), "[]"),
            (json!({}), "{}"),
        ] {
            let msg = format!("Invalid JWT expiry date claim (exp) {shown}. Expected number.");
            check(
                &exp_token(json!({"exp": exp})),
                Exp::Reject(M2M, TVF, &msg),
                shown,
            )
            .await;
        }
    });
}

#[test]
fn j_82_a_fractional_exp_is_kept_in_expiration() {
    run(async {
        let o = check(
            &exp_token(json!({"exp": NOW_S + 3600.5})),
            ACCEPT,
            "fractional",
        )
        .await;
        assert_eq!(
            m2m_data(&o)["expiration"].as_f64(),
            Some((NOW_S + 3600.5) * 1000.0)
        );
    });
}

/// The reference's rule: seconds truncated toward zero, then `exp_ms <= now - skew` is expired.
fn model_expired(exp_s: f64, now_ms: f64, skew_ms: f64) -> bool {
    exp_s.trunc() * 1000.0 <= now_ms - skew_ms
}

#[test]
fn j_83_exp_at_the_skew_boundary() {
    run(async {
        check(
            &exp_token(json!({"exp": NOW_S - 2.0})),
            ACCEPT,
            "2 s ago, inside the default 5 s",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 60.0})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "60 s ago",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 5.0})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "exactly now − skew",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 4.0})),
            ACCEPT,
            "1 s inside",
        )
        .await;
        // Seconds are truncated toward zero first: now − 4.1 s counts as now − 5 s, the boundary.
        check(
            &exp_token(json!({"exp": NOW_S - 4.1})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "truncated toward zero",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 3.9})),
            ACCEPT,
            "now − 3.9 s counts as now − 3 s",
        )
        .await;
    });
    // Property: around now − skew ± 3 s, with a moving clock and several skews, the answer is the model's.
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 96,
        ..Default::default()
    });
    let strategy = (
        -3000i64..=3000,
        0i64..=999,
        proptest::sample::select(vec![0.0, 1000.0, 5000.0, 30000.0]),
    );
    runner
        .run(&strategy, |(delta_ms, now_frac, skew)| {
            let now_ms = NOW_MS + now_frac as f64;
            let exp_s = (now_ms - skew + delta_ms as f64) / 1000.0;
            let t = exp_token(json!({"exp": exp_s, "iat": NOW_S - 100.0, "nbf": NOW_S - 100.0}));
            let v = verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    clock_skew_in_ms: Some(skew),
                    ..RawOptions::default()
                },
                Arc::new(FixedClock(now_ms)),
            );
            let o = v.verify_local(&t, Mode::MachineAuth).unwrap();
            let rejected =
                matches!(&o, Outcome::Rejected { error, .. } if error.message.starts_with(EXPIRED));
            proptest::prop_assert_eq!(
                rejected,
                model_expired(exp_s, now_ms, skew),
                "exp {} now {} skew {}: {}",
                exp_s,
                now_ms,
                skew,
                o.to_json_string()
            );
            let verified = matches!(o, Outcome::Verified { .. });
            proptest::prop_assert!(rejected || verified, "{}", o.to_json_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn j_84_very_large_exp_is_in_the_future_without_overflow() {
    run(async {
        for exp in [
            "1e20",
            "9e12",
            "99999999999999999999999",
            "1.7976931348623157e308",
        ] {
            let p = format!(r#"{{"sub":"mch_x","jti":"mt_x","exp":{exp}}}"#);
            let o = check(&raw_a(&h0_text(), &p), ACCEPT, exp).await;
            let expected: f64 = exp.parse::<f64>().unwrap() * 1000.0;
            let got = &m2m_data(&o)["expiration"];
            if expected.is_finite() {
                assert_eq!(got.as_f64(), Some(expected), "{exp}");
            } else {
                assert_eq!(got, "Infinity", "{exp}");
            }
        }
    });
}

#[test]
fn j_85_a_negative_exp_is_expired() {
    run(async {
        check(
            &exp_token(json!({"exp": -1})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "-1",
        )
        .await;
    });
}

#[test]
fn j_86_exp_before_the_js_date_range_is_expired() {
    run(async {
        for exp in [-1e13, -8.64e12 - 1.0, -1e300] {
            check(
                &exp_token(json!({"exp": exp})),
                Exp::Reject(M2M, TVF, EXPIRED),
                &exp.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_87_exp_overflowing_f64_is_undecodable() {
    run(async {
        for exp in ["1e400", "-1e400"] {
            let p = format!(r#"{{"sub":"mch_1","exp":{exp}}}"#);
            check(
                &raw_a(&h0_text(), &p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                exp,
            )
            .await;
        }
    });
}

#[test]
fn j_88_nbf_cases() {
    run(async {
        check(
            &exp_token(json!({"nbf": NOW_S + 60.0})),
            Exp::Reject(M2M, TVF, NOT_ACTIVE),
            "now+60",
        )
        .await;
        check(&exp_token(json!({"nbf": NOW_S + 4.0})), ACCEPT, "now+4").await;
        check(
            &exp_token(json!({"nbf": NOW_S + 5.0})),
            ACCEPT,
            "exactly now+skew is not after",
        )
        .await;
        check(
            &exp_token(json!({"nbf": NOW_S + 6.0})),
            Exp::Reject(M2M, TVF, NOT_ACTIVE),
            "now+6",
        )
        .await;
        let msg = "Invalid JWT not before date claim (nbf) \"x\". Expected number.";
        check(
            &exp_token(json!({"nbf": "x"})),
            Exp::Reject(M2M, TVF, msg),
            "\"x\"",
        )
        .await;
        check(
            &exp_token(json!({"nbf": null})),
            Exp::Reject(M2M, TVF, "Invalid JWT not before date claim (nbf) null."),
            "null",
        )
        .await;
        for nbf in [1e13, 1e300] {
            check(
                &exp_token(json!({"nbf": nbf})),
                Exp::Reject(M2M, TVF, NOT_ACTIVE),
                &nbf.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_89_iat_cases() {
    run(async {
        check(
            &exp_token(json!({"iat": NOW_S + 60.0})),
            Exp::Reject(M2M, TVF, IAT_FUTURE),
            "now+60",
        )
        .await;
        let o = check(&exp_token(json!({"iat": "__delete__"})), ACCEPT, "absent").await;
        assert_eq!(m2m_data(&o)["createdAt"], "NaN");
        assert_eq!(m2m_data(&o)["updatedAt"], "NaN");
        check(
            &exp_token(json!({"iat": "x"})),
            Exp::Reject(
                M2M,
                TVF,
                "Invalid JWT issued at date claim (iat) \"x\". Expected number.",
            ),
            "\"x\"",
        )
        .await;
        for iat in [1e13, 1e300] {
            check(
                &exp_token(json!({"iat": iat})),
                Exp::Reject(M2M, TVF, IAT_FUTURE),
                &iat.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_90_odd_clock_skews() {
    run(async {
        let v = |skew: Option<f64>| {
            verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    clock_skew_in_ms: skew,
                    ..RawOptions::default()
                },
                fixed(),
            )
        };
        let just_expired = exp_token(json!({"exp": NOW_S - 1.0}));
        // 0 is honoured (no fallback to 5000), and the default is 5000.
        check_with(
            &v(Some(0.0)),
            &just_expired,
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew 0",
        )
        .await;
        check_with(&v(None), &just_expired, ACCEPT, "default skew").await;
        // Negative: parity, the window shrinks (a valid token becomes "expired").
        check_with(
            &v(Some(-1e9)),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew -1e9",
        )
        .await;
        // Huge values never overflow: a token expired a long time ago is inside the window.
        let o = check_with(
            &v(Some(1e308)),
            &exp_token(json!({"exp": 1})),
            ACCEPT,
            "skew 1e308",
        )
        .await;
        assert_eq!(m2m_data(&o)["expired"], false);
        check_with(
            &v(Some(-1e308)),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew -1e308",
        )
        .await;
        // Non-finite numbers are refused as options (the JS layer does the same for non-numbers);
        // the reference silently falls back to 5000 ms. See SECURITY.md.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let r = VerifyOptions::from_raw(RawOptions {
                clock_skew_in_ms: Some(bad),
                ..RawOptions::default()
            });
            assert_eq!(
                r.err().map(|e| e.to_string()).as_deref(),
                Some("clockSkewInMs must be a finite number"),
                "{bad}"
            );
        }
    });
}

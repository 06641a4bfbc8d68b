//! 2.7 sub, cat, typ, framing

use crate::fixtures::*;

#[test]
fn j_100_non_string_sub_is_not_m2m_and_never_a_type_error() {
    run(async {
        for sub in [
            json!(123),
            json!(["mch_1"]),
            json!({}),
            json!(null),
            json!("__delete__"),
        ] {
            let p = with(p0(), json!({"sub": sub.clone()}));
            check(
                &tok(&h0(), &p),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                &sub.to_string(),
            )
            .await;
            // With typ at+jwt it is an OAuth JWT; the OAuth path rejects the sub.
            let h = with(h0(), json!({"typ": "at+jwt"}));
            let o = check(
                &tok(&h, &p),
                Exp::Reject(
                    OAUTH,
                    TVF,
                    "Subject claim (sub) is required and must be a string.",
                ),
                &sub.to_string(),
            )
            .await;
            assert!(!rejected_message(&o).contains("TypeError"));
        }
    });
}

#[test]
fn j_101_a_session_subject_is_not_m2m() {
    run(async {
        check(
            &tok(&h0(), &with(p0(), json!({"sub": "user_1"}))),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "user_1",
        )
        .await;
    });
}

#[test]
fn j_102_lookalike_prefixes_are_not_m2m() {
    run(async {
        for sub in [
            "\u{ff4d}ch_1",
            "MCH_1",
            " mch_1",
            "mch-1",
            "m\u{0441}h_1",
            "Mch_1",
            "mch",
        ] {
            check(
                &tok(&h0(), &with(p0(), json!({"sub": sub}))),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                sub,
            )
            .await;
        }
    });
}

#[test]
fn j_103_a_json_escaped_prefix_is_m2m() {
    run(async {
        let p = format!(r#"{{"sub":"\u006dch_1","exp":{}}}"#, NOW_S + 60.0);
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "\\u006d").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_1");
    });
}

#[test]
fn j_104_odd_but_prefixed_subjects_are_returned_verbatim() {
    run(async {
        for sub in [
            "mch_\u{0}".to_owned(),
            format!("mch_{}", "z".repeat(10 * 1024)),
            "mch_\n\u{1b}[0m".to_owned(),
        ] {
            let o = check(
                &tok(&h0(), &with(p0(), json!({"sub": sub.clone()}))),
                ACCEPT,
                "odd sub",
            )
            .await;
            assert_eq!(m2m_data(&o)["subject"], json!(sub));
        }
    });
}

#[test]
fn j_110_an_absent_cat_is_accepted() {
    run(async {
        check(
            &tok(&with(h0(), json!({"cat": "__delete__"})), &p0()),
            ACCEPT,
            "no cat",
        )
        .await;
    });
}

#[test]
fn j_111_the_m2m_cat_is_accepted() {
    run(async {
        check(&tok(&h0(), &p0()), ACCEPT, "M2M cat").await;
    });
}

/// A fresh emulator serving A, the token, and no signature work: the token is signed by C.
async fn category_rejected_without_network(cat: Value) {
    let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
    let t = tok_with(
        &with(h0(), json!({ "cat": cat.clone() })),
        &p0(),
        &C,
        JwtAlgorithm::RS256,
    );
    check_with(
        &jwks_verifier(&emu),
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        &cat.to_string(),
    )
    .await;
    check_pem(
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        &cat.to_string(),
    )
    .await;
    // Even with no key configured at all, the category answer comes first.
    check_with(
        &verifier_with(RawOptions::default(), fixed()),
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        "no key",
    )
    .await;
    assert_eq!(emu.count(Route::Jwks), 0, "{cat}: no JWKS request");
    emu.shutdown().await;
}

#[test]
fn j_112_a_session_cat_is_refused_with_zero_jwks_requests() {
    run(category_rejected_without_network(json!(CAT_SESSION)));
}

#[test]
fn j_113_a_template_cat_is_refused_with_zero_jwks_requests() {
    run(category_rejected_without_network(json!(CAT_TEMPLATE)));
}

#[test]
fn j_114_the_ignore_marker_is_not_m2m() {
    run(category_rejected_without_network(json!(CAT_IGNORE)));
}

#[test]
fn j_115_malformed_cats_are_refused() {
    run(async {
        for cat in [
            json!(""),
            json!(null),
            json!(333),
            json!([]),
            json!(format!("{CAT_M2M} ")),
            json!(CAT_M2M.to_lowercase()),
            json!([CAT_M2M]),
        ] {
            let t = tok(&with(h0(), json!({ "cat": cat.clone() })), &p0());
            check(
                &t,
                Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
                &cat.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_116_a_cat_in_the_payload_is_only_a_claim() {
    run(async {
        let t = tok(
            &with(h0(), json!({"cat": "__delete__"})),
            &with(p0(), json!({"cat": CAT_SESSION})),
        );
        let o = check(&t, ACCEPT, "payload cat").await;
        assert_eq!(m2m_data(&o)["claims"], json!({"cat": CAT_SESSION}));
    });
}

#[test]
fn j_117_same_instance_session_or_template_jwts_with_a_machine_sub() {
    run(async {
        for cat in [CAT_SESSION, CAT_TEMPLATE] {
            let t = tok(
                &with(h0(), json!({ "cat": cat })),
                &with(p0(), json!({"sub": "mch_1", "sid": "sess_1"})),
            );
            check(
                &t,
                Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
                cat,
            )
            .await;
        }
        // Without a cat (tokens minted before the rollout) it verifies: Clerk's documented trade-off.
        let t = tok(
            &with(h0(), json!({"cat": "__delete__"})),
            &with(p0(), json!({"sub": "mch_1", "sid": "sess_1"})),
        );
        check(&t, ACCEPT, "no cat").await;
    });
}

#[test]
fn j_120_typ_absent_or_jwt_is_accepted() {
    run(async {
        check(
            &tok(&with(h0(), json!({"typ": "__delete__"})), &p0()),
            ACCEPT,
            "no typ",
        )
        .await;
        check(&tok(&h0(), &p0()), ACCEPT, "JWT").await;
    });
}

#[test]
fn j_121_other_typs_with_a_machine_sub_are_refused() {
    run(async {
        for (typ, shown) in [
            (json!("jwt"), "\"jwt\""),
            (json!("JOSE"), "\"JOSE\""),
            (json!("at+jwt"), "\"at+jwt\""),
            (json!("application/at+jwt"), "\"application/at+jwt\""),
            (json!(null), "null"),
            (json!(1), "1"),
        ] {
            let msg = format!("Invalid JWT type {shown}. Expected \"JWT\".");
            check(
                &tok(&with(h0(), json!({ "typ": typ })), &p0()),
                Exp::Reject(M2M, TVF, &msg),
                shown,
            )
            .await;
        }
    });
}

#[test]
fn j_130_surrounding_whitespace_is_unroutable_in_the_core() {
    run(async {
        let t = tok(&h0(), &p0());
        for bad in [
            format!(" {t}"),
            format!("{t}\n"),
            format!("\t{t}"),
            format!("{t} "),
            " mt_abc".to_owned(),
        ] {
            check(&bad, Exp::Throw, "whitespace").await;
        }
    });
}

#[test]
fn j_131_a_scheme_left_on_is_unroutable_in_the_core() {
    run(async {
        let t = tok(&h0(), &p0());
        for bad in [
            format!("Bearer {t}"),
            "Bearer mt_x".to_owned(),
            format!("bearer {t}"),
            format!("BEARER\t{t}"),
        ] {
            check(&bad, Exp::Throw, "scheme").await;
        }
    });
}

#[test]
fn j_132_degenerate_strings_are_unroutable() {
    run(async {
        for bad in ["", ".", "..", "a.b.c.d", "a.b.c.d.e", "a", "a.b", "...."] {
            check(bad, Exp::Throw, bad).await;
        }
    });
}

#[test]
fn j_133_lookalike_opaque_prefixes_are_unroutable() {
    run(async {
        for bad in [
            "MT_x",
            "\u{ff4d}t_x",
            " mt_x",
            "Mt_x",
            "OAT_x",
            "AK_x",
            "mt-x",
            "sk_test_x",
        ] {
            check(bad, Exp::Throw, bad).await;
        }
    });
}

#[test]
fn j_134_bare_and_junk_opaque_tokens_go_to_the_api_and_are_not_found() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let v = verifier_with(
            RawOptions {
                secret_key: Some(emu.secret_key()),
                api_url: Some(emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        for t in ["mt_", "mt_junk", "mt_\u{0}\"'<>", "mt_😀"] {
            for mode in [Mode::MachineAuth, Mode::M2MOnly] {
                let o = outcome(&v, t, mode).await;
                assert_outcome(&o, Exp::Reject(M2M, INVALID, "Machine token not found"), t);
                let Outcome::Rejected { error, .. } = o else {
                    unreachable!()
                };
                assert_eq!(error.status, Some(404));
            }
        }
        assert_eq!(emu.count(Route::M2mVerify), 8);
        emu.shutdown().await;
    });
}

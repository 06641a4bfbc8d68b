//! 2.3 JSON shape, duplicates, encodings

use crate::fixtures::*;

#[test]
fn j_30_duplicate_payload_keys_last_wins() {
    run(async {
        let p = format!(
            r#"{{"sub":"user_1","sub":"mch_1","exp":{},"iat":{}}}"#,
            NOW_S + 60.0,
            NOW_S - 1.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "dup sub").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_1");
        // And the other order is not an M2M token at all.
        let p = format!(r#"{{"sub":"mch_1","sub":"user_1","exp":{}}}"#, NOW_S + 60.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "dup sub reversed",
        )
        .await;
    });
}

#[test]
fn j_31_a_duplicate_exp_is_read_last_wins() {
    run(async {
        let p = format!(r#"{{"sub":"mch_1","exp":{},"exp":1}}"#, NOW_S + 3600.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, TVF, "JWT is expired."),
            "dup exp",
        )
        .await;
    });
}

#[test]
fn j_32_duplicate_header_keys_last_wins() {
    run(async {
        let p = p0().to_string();
        let h = format!(
            r#"{{"alg":"RS256","kid":"{KID_A}","cat":"{CAT_M2M}","cat":"{CAT_TEMPLATE}"}}"#
        );
        check(
            &raw_a(&h, &p),
            Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
            "dup cat",
        )
        .await;
        let h = format!(r#"{{"alg":"none","alg":"RS256","kid":"{KID_A}"}}"#);
        check(&raw_a(&h, &p), ACCEPT, "dup alg").await;
    });
}

#[test]
fn j_33_a_null_payload_is_an_error_not_a_crash() {
    run(async {
        check(
            &raw_a(&h0_text(), "null"),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "payload null",
        )
        .await;
    });
}

#[test]
fn j_34_non_object_payloads_are_not_m2m() {
    run(async {
        for p in ["[1]", "\"mch_1\"", "42", "true", "[]", "\"\"", "0", "false"] {
            check(
                &raw_a(&h0_text(), p),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                p,
            )
            .await;
        }
    });
}

/// A header without members. PEM mode reaches `verifyJwt`'s algorithm check; JWKS mode first
/// looks the (absent) kid up, as the reference resolves the key before `verifyJwt` — the
/// catalogue's expected text is the PEM-mode one. Both are `token-verification-failed`.
async fn check_memberless_header(header: &str) {
    let t = raw_a(header, &p0().to_string());
    check_pem(
        &t,
        Exp::Reject(M2M, TVF, "Invalid JWT algorithm undefined."),
        header,
    )
    .await;
    let o = check_jwks(&t, Exp::Reject(M2M, TVF, KID_MISMATCH), header).await;
    assert!(rejected_message(&o).contains("kid='undefined'"));
}

#[test]
fn j_35_a_null_header_is_an_invalid_algorithm_not_a_crash() {
    run(check_memberless_header("null"));
}

#[test]
fn j_36_array_and_string_headers_have_no_algorithm() {
    run(async {
        for h in ["[]", "\"x\"", "[\"RS256\"]", "7"] {
            check_memberless_header(h).await;
        }
    });
}

#[test]
fn j_37_payloads_that_are_not_json_are_undecodable() {
    run(async {
        for p in ["{", "{\"sub\":\"mch_1\"} x", "{'sub':'mch_1'}", "NaN", " "] {
            check(
                &raw_a(&h0_text(), p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                p,
            )
            .await;
        }
    });
}

#[test]
fn j_38_invalid_utf8_becomes_replacement_characters() {
    run(async {
        let mut p = format!(r#"{{"sub":"mch_1","exp":{},"note":""#, NOW_S + 60.0).into_bytes();
        p.extend_from_slice(&[0xFF, 0xFE]);
        p.extend_from_slice(b"\"}");
        let t = raw_tok(h0_text().as_bytes(), &p, &A, JwtAlgorithm::RS256);
        let o = check(&t, ACCEPT, "FF FE").await;
        assert_eq!(m2m_data(&o)["claims"]["note"], "\u{FFFD}\u{FFFD}");
    });
}

#[test]
fn j_39_one_leading_bom_is_stripped() {
    run(async {
        let mut p = vec![0xEF, 0xBB, 0xBF];
        p.extend_from_slice(p0().to_string().as_bytes());
        let mut h = vec![0xEF, 0xBB, 0xBF];
        h.extend_from_slice(h0_text().as_bytes());
        check(&raw_tok(&h, &p, &A, JwtAlgorithm::RS256), ACCEPT, "BOM").await;
        // Two BOMs: the second is not whitespace for JSON.parse.
        let mut p2 = vec![0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF];
        p2.extend_from_slice(p0().to_string().as_bytes());
        check(
            &raw_tok(h0_text().as_bytes(), &p2, &A, JwtAlgorithm::RS256),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "two BOMs",
        )
        .await;
    });
}

#[test]
fn j_40_lone_surrogates_are_refused_deliberately() {
    run(async {
        let p = format!(r#"{{"sub":"mch_\ud800","exp":{}}}"#, NOW_S + 60.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "lone surrogate",
        )
        .await;
        // A valid pair is fine.
        let p = format!(r#"{{"sub":"mch_\ud83d\ude00","exp":{}}}"#, NOW_S + 60.0);
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "surrogate pair").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_😀");
    });
}

#[test]
fn j_41_deep_nesting_is_refused_without_recursion() {
    run(async {
        let p = format!(
            r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
            NOW_S + 60.0,
            nested(5000)
        );
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "5000 deep payload",
        )
        .await;
        let h = format!(r#"{{"alg":"RS256","x":{}}}"#, nested(5000));
        check(
            &raw_a(&h, &p0().to_string()),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "5000 deep header",
        )
        .await;
        // Moderate nesting (well under serde_json's 128) is accepted.
        let p = format!(
            r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
            NOW_S + 60.0,
            nested(100)
        );
        check(&raw_a(&h0_text(), &p), ACCEPT, "100 deep").await;
    });
}

#[test]
fn j_42_a_proto_claim_is_dropped_and_claims_is_null() {
    run(async {
        let p = format!(
            r#"{{"sub":"mch_x","jti":"mt_x","exp":{},"__proto__":{{"role":"admin"}}}}"#,
            NOW_S + 60.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "__proto__").await;
        assert_eq!(m2m_data(&o)["claims"], Value::Null);
        // With another custom claim, only that one is kept.
        let p = format!(
            r#"{{"sub":"mch_x","exp":{},"__proto__":{{"role":"admin"}},"team":"a"}}"#,
            NOW_S + 60.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "__proto__ + team").await;
        assert_eq!(m2m_data(&o)["claims"], json!({"team": "a"}));
    });
}

#[test]
fn j_43_odd_scopes_are_errors_and_a_string_aud_stays_a_string() {
    run(async {
        for scopes in [json!(5), json!(["a"]), json!({}), json!(true)] {
            let t = tok(&h0(), &with(p0(), json!({"scopes": scopes.clone()})));
            check(
                &t,
                Exp::Reject(M2M, TVF, "Invalid M2M JWT scopes claim (scopes)"),
                &scopes.to_string(),
            )
            .await;
        }
        let o = check(
            &tok(&h0(), &with(p0(), json!({"aud": "mch_x"}))),
            ACCEPT,
            "aud string",
        )
        .await;
        assert_eq!(m2m_data(&o)["scopes"], json!("mch_x"));
        let o = check(
            &tok(
                &h0(),
                &with(p0(), json!({"scopes": "mch_1 mch_2", "aud": "x"})),
            ),
            ACCEPT,
            "scopes string",
        )
        .await;
        assert_eq!(m2m_data(&o)["scopes"], json!(["mch_1", "mch_2"]));
        let o = check(&tok(&h0(), &p0()), ACCEPT, "neither").await;
        assert_eq!(m2m_data(&o)["scopes"], json!([]));
    });
}

//! 2.2 kid and header-embedded keys

use crate::fixtures::*;

#[test]
fn j_10_absent_kid_is_fine_with_a_pem_and_a_kid_mismatch_with_jwks() {
    run(async {
        let t = tok(&with(h0(), json!({"kid": "__delete__"})), &p0());
        check_pem(&t, ACCEPT, "no kid").await;
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let o = check_with(
            &jwks_verifier(&emu),
            &t,
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "no kid",
        )
        .await;
        assert!(rejected_message(&o).contains("kid='undefined'"));
        assert!(
            emu.count(Route::Jwks) <= 1,
            "fetches: {}",
            emu.count(Route::Jwks)
        );
        emu.shutdown().await;
    });
}

/// J-11's hostile kids.
fn hostile_kids() -> Vec<String> {
    vec![
        "../../etc/passwd".into(),
        "%2e%2e/%2e%2e/etc/passwd".into(),
        "ins_A\u{0}".into(),
        "ins_A\n[fake log] user=admin".into(),
        "k".repeat(10 * 1024),
        "\u{1b}[31mred\u{1b}[0m".into(),
        "x\u{202e}txt.exe".into(),
    ]
}

#[test]
fn j_11_hostile_kids_are_only_map_keys_and_are_escaped_in_messages() {
    run(async {
        for kid in hostile_kids() {
            let t = tok(&with(h0(), json!({"kid": kid})), &p0());
            check_pem(&t, ACCEPT, "hostile kid").await;
            let o = check_jwks(&t, Exp::Reject(M2M, TVF, KID_MISMATCH), "hostile kid").await;
            let m = rejected_message(&o);
            assert!(
                !m.contains('\n')
                    && !m.contains('\u{0}')
                    && !m.contains('\u{1b}')
                    && !m.contains('\u{202e}'),
                "{m:?}"
            );
            assert!(m.len() < 600, "message not truncated: {} bytes", m.len());
            assert!(m.contains(&redact::echo_untrusted(&kid)), "{m:?}");
        }
    });
}

#[test]
fn j_12_prototype_names_as_kid_are_plain_misses_with_at_most_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = jwks_verifier(&emu);
        for kid in ["__proto__", "constructor", "toString", "hasOwnProperty"] {
            let t = tok(&with(h0(), json!({"kid": kid})), &p0());
            let o = check_with(&v, &t, Exp::Reject(M2M, TVF, KID_MISMATCH), kid).await;
            assert!(rejected_message(&o).contains(&format!("kid='{kid}'")));
        }
        // The first miss fetched (cold cache); the others fell in the cooldown (fixed clock).
        assert_eq!(emu.count(Route::Jwks), 1);
        check_with(&v, &tok(&h0(), &p0()), ACCEPT, "A still verifies").await;
        emu.shutdown().await;
    });
}

/// Two instances on one emulator (same apiUrl, different secret keys) and a second emulator
/// (another apiUrl), all sharing one kid.
#[test]
fn j_13_another_tenants_kid_is_never_served_from_its_scope() {
    run(async {
        let shared_kid = "ins_same_kid";
        let emu = Emulator::builder()
            .instance(InstanceConfig::with_default_machines().kid("ins_tenant_a"))
            .instance(InstanceConfig::new().kid("ins_tenant_b"))
            .instance(InstanceConfig::new().kid(shared_kid))
            .instance(InstanceConfig::new().kid(shared_kid))
            .start()
            .await
            .unwrap();
        let opts = |i: usize| RawOptions {
            secret_key: Some(emu.instance(i).unwrap().secret_key),
            api_url: Some(emu.url().into()),
            ..RawOptions::default()
        };
        let sign = |i: usize, kid: &str| {
            emu.sign_jwt(i, &with(h0(), json!({"kid": kid})), &p0())
                .unwrap()
        };
        // Different kids: B's token, after B warmed its own scope, is a kid miss for A.
        let b_token = sign(1, "ins_tenant_b");
        check_with(
            &verifier_with(opts(1), fixed()),
            &b_token,
            ACCEPT,
            "B under B",
        )
        .await;
        check_with(
            &verifier_with(opts(0), fixed()),
            &b_token,
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "B under A",
        )
        .await;
        // Same kid: the kid is found in A's own JWKS, and B's signature fails there.
        let d_token = sign(3, shared_kid);
        check_with(
            &verifier_with(opts(3), fixed()),
            &d_token,
            ACCEPT,
            "D under D",
        )
        .await;
        check_with(
            &verifier_with(opts(2), fixed()),
            &d_token,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "D under C",
        )
        .await;
        // Another apiUrl with the same secret key text is another scope too.
        let other = Emulator::builder()
            .instance(
                InstanceConfig::new()
                    .kid(shared_kid)
                    .secret_key(emu.instance(2).unwrap().secret_key),
            )
            .start()
            .await
            .unwrap();
        let o_token = other
            .sign_jwt(0, &with(h0(), json!({"kid": shared_kid})), &p0())
            .unwrap();
        check_with(
            &verifier_with(
                RawOptions {
                    api_url: Some(other.url().into()),
                    ..opts(2)
                },
                fixed(),
            ),
            &o_token,
            ACCEPT,
            "other under other",
        )
        .await;
        check_with(
            &verifier_with(opts(2), fixed()),
            &o_token,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "other under C",
        )
        .await;
        other.shutdown().await;
        emu.shutdown().await;
    });
}

#[test]
fn j_14_non_string_kids_are_coerced_like_js_string() {
    run(async {
        for (kid, jwks_accepts) in [
            (json!(123), false),
            (json!([KID_A]), true),
            (json!({}), false),
            (json!(true), false),
            (json!(null), false),
        ] {
            let t = tok(&with(h0(), json!({"kid": kid.clone()})), &p0());
            check_pem(&t, ACCEPT, &kid.to_string()).await;
            let exp = if jwks_accepts {
                ACCEPT
            } else {
                Exp::Reject(M2M, TVF, KID_MISMATCH)
            };
            check_jwks(&t, exp, &kid.to_string()).await;
        }
        // String(123) is "123": a key served under that kid matches.
        let emu = jwks_server(&jwks_of(&[A.jwk("123")])).await;
        check_with(
            &jwks_verifier(&emu),
            &tok(&with(h0(), json!({"kid": 123})), &p0()),
            ACCEPT,
            "kid 123",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn j_15_a_valid_kid_with_an_attackers_signature_is_invalid() {
    run(async {
        let t = tok_with(&h0(), &p0(), &C, JwtAlgorithm::RS256);
        check(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "signed by C").await;
    });
}

#[test]
fn j_16_an_embedded_jwk_header_is_never_consulted() {
    run(async {
        let h = with(h0(), json!({"jwk": C.jwk("attacker")}));
        check(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "jwk of C",
        )
        .await;
        check(&tok(&h, &p0()), ACCEPT, "jwk header on an A token").await;
    });
}

/// Counts connections to a loopback "attacker" listener.
async fn attacker_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

#[test]
fn j_17_jku_and_x5u_urls_are_never_fetched() {
    run(async {
        let (url, hits) = attacker_listener().await;
        for member in ["jku", "x5u"] {
            let h = with(h0(), json!({ member: url.clone() }));
            check(
                &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
                Exp::Reject(M2M, TVF, SIG_INVALID),
                member,
            )
            .await;
            check(&tok(&h, &p0()), ACCEPT, member).await;
        }
        // Also with a kid the cache does not know (a JWKS fetch happens, but to apiUrl only).
        let h = json!({"alg": "RS256", "kid": "ins_unknown", "jku": url.clone()});
        check_jwks(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "unknown kid",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the attacker's listener was contacted"
        );
    });
}

#[test]
fn j_18_an_x5c_chain_is_ignored() {
    run(async {
        // A certificate is never parsed; C's DER stands in for one.
        let h = with(
            h0(),
            json!({"x5c": [base64::Engine::encode(&base64::engine::general_purpose::STANDARD, C.spki_der())]}),
        );
        check(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "x5c of C",
        )
        .await;
    });
}

#[test]
fn j_19_crit_is_ignored_for_parity() {
    run(async {
        for crit in [
            json!({"crit": ["x-foo"], "x-foo": 1}),
            json!({"crit": ["exp"]}),
            json!({"crit": []}),
        ] {
            check(
                &tok(&with(h0(), crit.clone()), &p0()),
                ACCEPT,
                &crit.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_20_unencoded_payloads_are_not_supported() {
    run(async {
        // RFC 7797: the signer signs `b64u(header) + '.' + <raw payload>`; we always verify the encoded form.
        let h = with(h0(), json!({"b64": false, "crit": ["b64"]}));
        let header_b64 = b64(h.to_string().as_bytes());
        let payload = p0().to_string();
        let sig = A.sign(
            JwtAlgorithm::RS256,
            format!("{header_b64}.{payload}").as_bytes(),
        );
        let t = format!("{header_b64}.{}.{}", b64(payload.as_bytes()), b64(&sig));
        check(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "b64:false").await;
    });
}

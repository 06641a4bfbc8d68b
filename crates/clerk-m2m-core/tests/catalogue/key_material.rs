//! 2.8 Key material

use crate::fixtures::*;

#[test]
fn j_140_well_formed_pems_verify() {
    run(async {
        let pem = A.spki_pem();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = tok(&h0(), &p0());
        for (what, text) in [
            ("LF", pem.clone()),
            ("CRLF", pem.replace('\n', "\r\n")),
            ("no armour", body.clone()),
            ("one line", body.replace('\n', "")),
        ] {
            check_with(&pem_verifier_for(&text), &t, ACCEPT, what).await;
        }
    });
}

#[test]
fn j_141_a_pem_with_literal_backslash_n_is_unescaped() {
    run(async {
        let escaped = A.spki_pem().replace('\n', "\\n");
        assert!(!escaped.contains('\n'));
        check_with(
            &pem_verifier_for(&escaped),
            &tok(&h0(), &p0()),
            ACCEPT,
            "literal \\n",
        )
        .await;
        let escaped_crlf = A.spki_pem().replace('\n', "\\r\\n");
        check_with(
            &pem_verifier_for(&escaped_crlf),
            &tok(&h0(), &p0()),
            ACCEPT,
            "literal \\r\\n",
        )
        .await;
    });
}

#[test]
fn j_142_3072_and_4096_bit_pems_verify() {
    run(async {
        for size in [KeySize::Rsa3072, KeySize::Rsa4096] {
            let k = TestKey::generate(size);
            let t = tok_with(&h0(), &p0(), &k, JwtAlgorithm::RS256);
            check_with(&pem_verifier_for(&k.spki_pem()), &t, ACCEPT, "big key").await;
            // And A's PEM does not verify it.
            check_pem(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "big key under A").await;
        }
        // e = 3 keys: aws-lc cannot generate them; __test__/catalogue.test.ts signs with Node.
        let k = RsaPublicKey::from_der(&A.spki_der()).unwrap();
        assert_eq!(k.modulus_bits(), 2048);
    });
}

#[test]
fn j_143_a_1024_bit_pem_is_refused() {
    run(async {
        let msg = "Error verifying JWT signature. Error: Unsupported RSA key size: 1024 bits. Keys must be 2048 to 8192 bits.";
        check_with(
            &pem_verifier_for(RSA_1024_SPKI_PEM),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, msg),
            "1024",
        )
        .await;
        assert!(RsaPublicKey::from_pem(RSA_1024_SPKI_PEM).is_err());
    });
}

#[test]
fn j_144_garbage_private_and_certificate_key_material_is_refused_without_echo() {
    run(async {
        let private = A.pkcs8_pem();
        let cert = pem("CERTIFICATE", &A.spki_der());
        for (what, text) in [("garbage", "not a pem".to_owned()), ("private", private.clone()), ("certificate", cert.clone()), ("EC", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpkPd+Fs6kyvt7179iLNkLaPy2WtrOQGSbNUT2YiOw6FBjgOHGyGYdu1PeXQO2kdlPztAXycHpVdxPcT7zWuOsw==\n-----END PUBLIC KEY-----".to_owned())] {
            let o = check_with(&pem_verifier_for(&text), &tok(&h0(), &p0()), Exp::Reject(M2M, TVF, "Error verifying JWT signature. Error: "), what).await;
            let m = rejected_message(&o);
            for line in text.lines().filter(|l| l.len() > 16 && !l.starts_with("-----")) {
                assert!(!m.contains(&line[..16]), "{what}: key material echoed: {m}");
            }
            assert!(!m.contains("not a pem"), "{m}");
        }
    });
}

#[test]
fn j_145_jwt_key_wins_over_secret_key_with_zero_requests() {
    run(async {
        let emu = jwks_server(&jwks_of(&[B.jwk(KID_A)])).await;
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..jwks_options(&emu)
            },
            fixed(),
        );
        check_with(&v, &tok(&h0(), &p0()), ACCEPT, "A under PEM A").await;
        check_with(
            &v,
            &tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B (served by JWKS) under PEM A",
        )
        .await;
        check_with(
            &v,
            &tok(&with(h0(), json!({"kid": "ins_unknown"})), &p0()),
            ACCEPT,
            "unknown kid",
        )
        .await;
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
fn j_146_no_key_at_all_fails_to_resolve_a_jwk() {
    run(async {
        let v = verifier_with(RawOptions::default(), fixed());
        let o = check_with(
            &v,
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, "Failed to resolve JWK during verification."),
            "{}",
        )
        .await;
        let Outcome::Rejected { error, .. } = o else {
            unreachable!()
        };
        assert_eq!(
            error.action.as_deref(),
            Some("Set the CLERK_JWT_KEY environment variable.")
        );
    });
}

#[test]
fn j_147_same_kid_different_pems_in_one_process() {
    run(async {
        let ta = tok(&h0(), &p0());
        let tb = tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256);
        let (va, vb) = (
            pem_verifier_for(&A.spki_pem()),
            pem_verifier_for(&B.spki_pem()),
        );
        check_with(&va, &ta, ACCEPT, "A/A").await;
        check_with(&vb, &tb, ACCEPT, "B/B").await;
        check_with(&va, &tb, Exp::Reject(M2M, TVF, SIG_INVALID), "A/B").await;
        check_with(&vb, &ta, Exp::Reject(M2M, TVF, SIG_INVALID), "B/A").await;
        check_with(&va, &ta, ACCEPT, "A/A again").await;
    });
}

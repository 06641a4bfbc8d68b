//! 2.1 Algorithm attacks

use crate::fixtures::*;

#[test]
fn j_01_alg_none_with_an_empty_signature_is_unroutable() {
    run(async {
        let t = format!(
            "{}.{}.",
            b64(with(h0(), json!({"alg": "none"})).to_string().as_bytes()),
            b64(p0().to_string().as_bytes())
        );
        check(&t, Exp::Throw, "alg none").await;
    });
}

#[test]
fn j_02_none_in_any_case_with_a_junk_signature_is_an_invalid_algorithm() {
    run(async {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let t = with_sig(&with(h0(), json!({"alg": alg})), &p0(), &[0]);
            assert!(t.ends_with(".AA"));
            let msg = format!("Invalid JWT algorithm \"{alg}\". Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), alg).await;
        }
    });
}

#[test]
fn j_03_hs256_keyed_with_the_public_key_has_no_code_path() {
    run(async {
        let pem_text = A.spki_pem();
        let secrets: Vec<(&str, Vec<u8>)> = vec![
            ("PEM text", pem_text.clone().into_bytes()),
            ("DER bytes", A.spki_der()),
            ("raw n", A.n()),
            (
                "PEM with leading whitespace",
                format!("\n  {pem_text}").into_bytes(),
            ),
        ];
        for (what, secret) in secrets {
            let h = with(h0(), json!({"alg": "HS256"}));
            let input = format!(
                "{}.{}",
                b64(h.to_string().as_bytes()),
                b64(p0().to_string().as_bytes())
            );
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            let mac = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            let t = format!("{input}.{}", b64(mac.as_ref()));
            check(
                &t,
                Exp::Reject(M2M, TVF, "Invalid JWT algorithm \"HS256\""),
                what,
            )
            .await;
        }
    });
}

#[test]
fn j_04_ps256_es256_eddsa_and_hs384_are_refused_before_any_key_work() {
    run(async {
        let rng = SystemRandom::new();
        let input_for = |alg: &str| {
            format!(
                "{}.{}",
                b64(with(h0(), json!({"alg": alg})).to_string().as_bytes()),
                b64(p0().to_string().as_bytes())
            )
        };
        let mut tokens = Vec::new();
        // PS256 with A (RSA-PSS).
        let input = input_for("PS256");
        let mut sig = vec![0; A.pair.public_modulus_len()];
        A.pair
            .sign(&signature::RSA_PSS_SHA256, &rng, input.as_bytes(), &mut sig)
            .unwrap();
        tokens.push(("PS256", format!("{input}.{}", b64(&sig))));
        // ES256 with a P-256 key.
        let ec =
            signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let input = input_for("ES256");
        let sig = ec.sign(&rng, input.as_bytes()).unwrap();
        tokens.push(("ES256", format!("{input}.{}", b64(sig.as_ref()))));
        // EdDSA with an Ed25519 key.
        let ed = signature::Ed25519KeyPair::generate().unwrap();
        let input = input_for("EdDSA");
        tokens.push((
            "EdDSA",
            format!("{input}.{}", b64(ed.sign(input.as_bytes()).as_ref())),
        ));
        // HS384 with a random key.
        let input = input_for("HS384");
        let key = aws_lc_rs::hmac::Key::generate(aws_lc_rs::hmac::HMAC_SHA384, &rng).unwrap();
        tokens.push((
            "HS384",
            format!(
                "{input}.{}",
                b64(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref())
            ),
        ));
        for (alg, t) in tokens {
            let msg = format!("Invalid JWT algorithm \"{alg}\". Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), alg).await;
        }
    });
}

#[test]
fn j_05_rs384_and_rs512_need_a_jwk_without_alg() {
    run(async {
        let no_alg = with(A.jwk(KID_A), json!({"alg": "__delete__"}));
        let emu_no_alg = jwks_server(&jwks_of(&[no_alg])).await;
        for alg in [JwtAlgorithm::RS384, JwtAlgorithm::RS512] {
            let t = tok_with(&with(h0(), json!({"alg": alg.as_str()})), &p0(), &A, alg);
            // PEM mode and a JWK with alg RS256: WebCrypto's alg-mismatch message.
            check(&t, Exp::Reject(M2M, TVF, ALG_MISMATCH), alg.as_str()).await;
            // A JWK without alg: the header's hash is used, as WebCrypto does.
            check_with(&jwks_verifier(&emu_no_alg), &t, ACCEPT, alg.as_str()).await;
        }
        // RS256 verifies everywhere.
        check_with(
            &jwks_verifier(&emu_no_alg),
            &tok(&h0(), &p0()),
            ACCEPT,
            "RS256",
        )
        .await;
        emu_no_alg.shutdown().await;
    });
}

#[test]
fn j_06_missing_or_non_string_alg_is_invalid() {
    run(async {
        for (alg, shown) in [
            (json!("__delete__"), "undefined"),
            (json!(null), "null"),
            (json!(123), "123"),
            (json!(["RS256"]), "[\"RS256\"]"),
        ] {
            let t = tok(&with(h0(), json!({"alg": alg})), &p0());
            let msg = format!("Invalid JWT algorithm {shown}. Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), shown).await;
        }
    });
}

#[test]
fn j_07_alg_is_case_and_space_sensitive() {
    run(async {
        for alg in ["rs256", "RS256 ", " RS256", "Rs256"] {
            let t = tok(&with(h0(), json!({"alg": alg})), &p0());
            check(&t, Exp::Reject(M2M, TVF, "Invalid JWT algorithm"), alg).await;
        }
    });
}

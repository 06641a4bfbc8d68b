//! Full JWT verification with a fixed key and a fixed clock (PEM mode: no network).
//!
//! Input byte 0 picks the form:
//! * even: the rest is the token as text (routing, decoding, header checks, signature);
//! * odd: the rest is `header bytes 0xFF payload bytes`, which this target signs with the
//!   fixed key (RS256/384/512 from bits 1–2), so mutations reach the claim rules and the
//!   resource conversion behind a *valid* signature. Bits 3–5 pick the clock skew option.
//!
//! Besides "never panics": both modes answer without the network, `verify_local` settles
//! every PEM-mode JWT, the outcome serialises to JSON, and an accepted M2M token really
//! carries a string `sub` starting with `mch_` under an allowed `cat`.
#![no_main]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use clerk_m2m_core::internals::base64url::encode as b64;
use clerk_m2m_core::internals::claims;
use clerk_m2m_core::FixedClock;
use clerk_m2m_core::decode_with_limit;
use clerk_m2m_core::is_jwt_format;
use clerk_m2m_core::{RawOptions, VerifyOptions};
use clerk_m2m_core::{IdPOAuthAccessToken, M2MToken};
use clerk_m2m_core::Outcome;
use clerk_m2m_core::{Mode, Verifier};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

/// 2023-11-14T22:13:20Z, the catalogue tests' "now".
const NOW_MS: f64 = 1_700_000_000_000.0;
const SKEWS: [Option<f64>; 8] = [
    None,
    Some(0.0),
    Some(5000.0),
    Some(-1e9),
    Some(1e308),
    Some(-1e308),
    Some(0.5),
    Some(60_000.0),
];

struct Fixture {
    pair: KeyPair,
    verifiers: Vec<Verifier>,
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(der)
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("key generation");
    let spki = pair.public_key().as_der().expect("SPKI");
    let key = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        pem(spki.as_ref())
    );
    let verifiers = SKEWS
        .iter()
        .map(|&skew| {
            let raw = RawOptions {
                jwt_key: Some(key.clone()),
                clock_skew_in_ms: skew,
                // Loopback port 9 (discard): nothing here may use the network anyway.
                api_url: Some("http://127.0.0.1:9".into()),
                audience: vec!["mch_aud".into()],
                ..RawOptions::default()
            };
            Verifier::with_clock(
                VerifyOptions::from_raw(raw).expect("options"),
                Arc::new(FixedClock(NOW_MS)),
            )
        })
        .collect();
    Fixture { pair, verifiers }
});

fn sign(alg: u8, input: &str) -> Vec<u8> {
    let encoding: &'static dyn signature::RsaEncoding = match alg % 3 {
        0 => &signature::RSA_PKCS1_SHA256,
        1 => &signature::RSA_PKCS1_SHA384,
        _ => &signature::RSA_PKCS1_SHA512,
    };
    let mut sig = vec![0; FIXTURE.pair.public_modulus_len()];
    FIXTURE
        .pair
        .sign(encoding, &SystemRandom::new(), input.as_bytes(), &mut sig)
        .expect("sign");
    sig
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let token = if selector & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let (header, payload) = match rest.iter().position(|&b| b == 0xFF) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &b"{}"[..]),
        };
        let input = format!("{}.{}", b64(header), b64(payload));
        let sig = sign(selector >> 1, &input);
        format!("{input}.{}", b64(&sig))
    };
    let verifier = &FIXTURE.verifiers[usize::from(selector >> 3) % SKEWS.len()];
    for mode in [Mode::MachineAuth, Mode::M2MOnly] {
        let local = verifier.verify_local(&token, mode);
        if is_jwt_format(&token) {
            // PEM mode never needs the network for a JWT.
            assert!(local.is_some(), "a JWT was sent to the network in PEM mode");
        }
        let Some(outcome) = local else { continue };
        let json: Value = serde_json::from_str(&outcome.to_json_string()).expect("outcome JSON");
        assert!(json.is_object());
        if let Outcome::Verified { data, .. } = &outcome {
            let decoded = decode_with_limit(&token, 16 * 1024).expect("a verified token decodes");
            if let clerk_m2m_core::VerifiedData::M2MJwt(_) = data {
                let sub = decoded
                    .payload
                    .get("sub")
                    .and_then(Value::as_str)
                    .expect("string sub");
                assert!(sub.starts_with("mch_"));
                let cat = decoded.header.get("cat");
                assert!(
                    cat.is_none() || cat == Some(&Value::String("cl_B7d4PD333AAA".into())),
                    "accepted with cat {cat:?}"
                );
                assert!(
                    decoded.payload.get("exp").is_some_and(Value::is_number),
                    "accepted without a numeric exp"
                );
            }
        }
    }

    // The claim rules and resource conversions on the decoded payload, signature or not.
    if let Ok(decoded) = decode_with_limit(&token, 64 * 1024) {
        let clock = FixedClock(NOW_MS);
        let p = &decoded.payload;
        for skew in [0.0, 5000.0, -1e308, 1e308] {
            let _ = claims::assert_expiration_claim(p.get("exp"), skew, &clock);
            let _ = claims::assert_activation_claim(p.get("nbf"), skew, &clock);
            let _ = claims::assert_issued_at_claim(p.get("iat"), skew, &clock);
        }
        let _ = claims::assert_header_type(decoded.header.get("typ"), None::<&[&str]>);
        let _ = claims::assert_header_algorithm(decoded.header.get("alg"));
        let _ = claims::assert_sub_claim(p.get("sub"));
        let _ = claims::assert_audience_claim(p.get("aud"), &["mch_aud"]);
        let _ = claims::assert_oauth_audience_claim(p.get("aud"), &["mch_aud"]);
        if let Ok(t) = M2MToken::from_jwt_payload(p, None, &clock) {
            let _ = t.to_json().to_string();
        }
        if let Ok(t) = IdPOAuthAccessToken::from_jwt_payload(p, Some(0.0), &clock) {
            let _ = t.to_json().to_string();
        }
        let _ = M2MToken::from_json(p).to_json();
    }
});

//! The JWKS document parser (`jwks::parse_jwks`) and the JWK import rules behind it, on
//! arbitrary bytes: never a panic; the key map is bounded by the cap; every entry imports
//! to a key or to an error message, and an imported key never verifies a junk signature.
#![no_main]

use clerk_m2m_core::internals::json::parse_segment;
use clerk_m2m_core::jwks::{kid_lookup_key, kid_mismatch_error, parse_jwks};
use clerk_m2m_core::{
    verify_signature, JwtAlgorithm, VerificationKey, MAX_RSA_BITS, MIN_RSA_BITS,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const MAX_KEYS: usize = 100;

fn import(jwk: &Value) {
    let key = VerificationKey::from_jwk(jwk);
    for alg in JwtAlgorithm::ALL {
        match key.import_for(alg) {
            Ok(k) => {
                assert!((MIN_RSA_BITS..=MAX_RSA_BITS).contains(&k.modulus_bits()));
                let junk = vec![0x5Au8; k.modulus().len()];
                assert_eq!(verify_signature(alg, b"a.b", &junk, k), Ok(false));
            }
            Err(message) => assert!(!message.is_empty()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(doc) = parse_segment(data) else {
        return;
    };
    match parse_jwks(&doc, MAX_KEYS) {
        Ok(keys) => {
            assert!(!keys.is_empty() && keys.len() <= MAX_KEYS);
            for (kid, jwk) in &keys {
                // The map key is what a header kid would be looked up as.
                let from_doc = jwk
                    .as_object()
                    .map(|o| kid_lookup_key(o.get("kid")).into_owned())
                    .unwrap_or_else(|| "undefined".to_owned());
                assert_eq!(kid, &from_doc);
                import(jwk);
                let e = kid_mismatch_error(kid);
                assert!(!e.message.contains('\n'));
            }
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
    // The whole document as one JWK, too (what a `null`/primitive entry would meet).
    import(&doc);
});

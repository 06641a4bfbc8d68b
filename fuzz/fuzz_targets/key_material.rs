//! `jwtKey` parsing: PEM text (SPKI, PKCS#1, bare base64, escaped newlines) and DER, on
//! arbitrary input. Never a panic; an accepted key is within the size policy and a PEM and
//! its DER agree.
#![no_main]

use clerk_m2m_core::internals::decode_base64_lenient;
use clerk_m2m_core::{
    RsaPublicKey, VerificationKey, MAX_RSA_BITS, MIN_RSA_BITS,
};
use libfuzzer_sys::fuzz_target;

fn check(key: &RsaPublicKey) {
    assert!((MIN_RSA_BITS..=MAX_RSA_BITS).contains(&key.modulus_bits()));
    assert_eq!(key.modulus().first().map(|b| *b != 0), Some(true));
    assert!(key.exponent().last().is_some_and(|b| b & 1 == 1));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = RsaPublicKey::from_der(data) {
        check(&k);
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(k) = RsaPublicKey::from_pem(&text) {
        check(&k);
    }
    let _ = VerificationKey::from_pem(&text).public_key().map(check);
    let _ = decode_base64_lenient(&text);
});

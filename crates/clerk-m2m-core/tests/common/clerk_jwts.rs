//! Clerk-shaped M2M JWTs (the claims of `bench/lib/tokens.mjs`), signed by a key of the
//! emulator's signer, and a verifier for its PEM: shared by `benches/verify.rs`,
//! `examples/verify_profile.rs` and `tests/verify_allocations.rs`, each of which includes
//! this file (`#[path]`).
#![allow(dead_code)]

use clerk_bapi_emulator::{KeyError, SigningKey};
use clerk_m2m_core::{RawOptions, Verifier, VerifyOptions};
use serde_json::json;

/// `count` distinct tokens (`jti` `mt_bench000…0{i}`), valid for `ttl_secs` from now.
pub fn clerk_m2m_jwts(key: &SigningKey, count: usize, ttl_secs: i64) -> Result<Vec<String>, KeyError> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid(), "cat": "cl_B7d4PD333AAA" });
    (0..count)
        .map(|i| {
            let payload = json!({
                "iss": "https://bench.clerk.example.test/instances/ins_2benchBENCHbenchBENCHbench",
                "sub": "mch_2benchWEBHOOKbenchWEBHOOKbe",
                "aud": ["mch_2benchTRPCbenchTRPCbenchTRP"],
                "scopes": "mch_2benchTRPCbenchTRPCbenchTRP",
                "jti": format!("mt_bench{i:024}"),
                "iat": now - 5,
                "nbf": now - 10,
                "exp": now + ttl_secs,
            });
            key.sign_jwt(&header, &payload)
        })
        .collect()
}

/// A verifier for `pem` (a `jwtKey`), with the signature cache on or off.
pub fn pem_verifier(pem: &str, token_cache: bool) -> Result<Verifier, clerk_m2m_core::OptionsError> {
    let raw = RawOptions { jwt_key: Some(pem.to_owned()), token_cache: Some(token_cache), ..RawOptions::default() };
    Ok(Verifier::new(VerifyOptions::from_raw(raw)?))
}

//! A verification loop for instruction-count profiles (criterion's wall-clock figures swing
//! on a shared machine; `valgrind --tool=callgrind` counts do not):
//!
//! ```text
//! cargo build --release -p clerk-m2m-core --example verify_profile
//! target/release/examples/verify_profile gen /tmp/tokens.json 2000
//! valgrind --tool=callgrind --toggle-collect=verify_profile::verify_one \
//!     target/release/examples/verify_profile run /tmp/tokens.json hit 2000
//! ```
//!
//! `gen` signs Clerk-shaped M2M JWTs (`tests/common/clerk_jwts.rs`) with a fresh key and
//! writes them with its PEM; `run` verifies them with that PEM: `hit` verifies the first token
//! again and again (signature cache hits: everything but RSA), `rsa` each token once with the
//! signature cache off, `wire` also writes each outcome's wire text, as the binding does.
//! The stages of a verification alone, for the breakdown: `is-jwt` (the format check),
//! `decode-view` (the verifier's decoder), `decode-value` (`decodeJwt`'s), `sha256` (the
//! signing input's digest), `sigkey` (the signature cache's key).

#[path = "../tests/common/clerk_jwts.rs"]
mod clerk_jwts;

use clerk_bapi_emulator::SigningKey;
use clerk_jwts::{clerk_m2m_jwts, pem_verifier};
use clerk_m2m_core::{Mode, Outcome, Verifier};
use serde_json::{json, Value};
use std::hint::black_box;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let (path, count) = (arg(&args, 2)?, arg(&args, 3)?.parse::<usize>()?);
            let key = SigningKey::generate("ins_profile")?;
            let tokens = clerk_m2m_jwts(&key, count, 24 * 3600)?;
            std::fs::write(path, serde_json::to_string(&json!({ "pem": key.public_key_pem(), "tokens": tokens }))?)?;
        }
        Some("run") => {
            let (path, mode, count) = (arg(&args, 2)?, arg(&args, 3)?, arg(&args, 4)?.parse::<usize>()?);
            let file: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
            let pem = file["pem"].as_str().ok_or("no pem")?.to_owned();
            let tokens: Vec<&str> = file["tokens"].as_array().ok_or("no tokens")?.iter().filter_map(Value::as_str).collect();
            let token_cache = mode == "hit";
            let verifier = pem_verifier(&pem, token_cache)?;
            let mut verified = 0;
            if let Some(stage) = stage(mode) {
                for i in 0..count {
                    verified += usize::from(stage(black_box(tokens[i % tokens.len()])));
                }
                println!("{verified}/{count} stages");
                return Ok(());
            }
            for i in 0..count {
                let token = if token_cache { tokens[0] } else { tokens[i % tokens.len()] };
                verified += usize::from(verify_one(&verifier, black_box(token), mode == "wire"));
            }
            println!("{verified}/{count} verified");
        }
        _ => return Err("usage: verify_profile gen FILE COUNT | run FILE hit|rsa|wire COUNT".into()),
    }
    Ok(())
}

/// One verification as the binding's `verifyLocal` does it (and its wire text with `wire`):
/// the function the profile collects (`--toggle-collect=verify_profile::verify_one`).
#[inline(never)]
fn verify_one(verifier: &Verifier, token: &str, wire: bool) -> bool {
    let answer = verifier.verify_local_answer(token, Mode::MachineAuth);
    if let (true, Some(a)) = (wire, &answer) {
        black_box(a.outcome.to_wire_string(verifier.reuse_hint(a)));
    }
    matches!(answer, Some(a) if matches!(a.outcome, Outcome::Verified { .. }))
}

/// One stage of a verification, alone.
fn stage(mode: &str) -> Option<fn(&str) -> bool> {
    Some(match mode {
        "is-jwt" => |t| clerk_m2m_core::is_jwt_format(t),
        "decode-view" => |t| {
            let mut scratch = clerk_m2m_core::internals::Scratch::new();
            clerk_m2m_core::internals::decode_view(t, 16 * 1024, &mut scratch).is_ok_and(|v| !v.payload.is_empty())
        },
        "decode-value" => |t| clerk_m2m_core::decode(t).is_ok(),
        "sha256" => |t| {
            let signed = t.rsplit_once('.').map_or(t, |(s, _)| s);
            clerk_m2m_core::JwtAlgorithm::RS256.digest(signed.as_bytes()).as_ref()[0] != 1
        },
        "sigkey" => |t| clerk_m2m_core::sigcache::SignatureCache::key(7, clerk_m2m_core::JwtAlgorithm::RS256, &[0u8; 32], &t.as_bytes()[..256])[0] != 1,
        _ => return None,
    })
}

fn arg(args: &[String], i: usize) -> Result<&str, Box<dyn std::error::Error>> {
    args.get(i).map(String::as_str).ok_or_else(|| "missing argument".into())
}

//! Criterion benches of the core's hot path, without Node: where a verification's
//! time goes before the napi boundary (`cargo bench -p clerk-m2m-core`).
//!
//! Tokens have the shape of Clerk's M2M JWTs (the same claims as `bench/lib/tokens.mjs`),
//! signed by a fresh RSA-2048 key through the emulator's signer.

#[path = "../tests/common/clerk_jwts.rs"]
mod clerk_jwts;

use clerk_bapi_emulator::SigningKey;
use clerk_jwts::{clerk_m2m_jwts, pem_verifier};
use clerk_m2m_core::{Mode, Verifier};
use clerk_m2m_core::{decode, is_m2m_jwt};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};

fn tokens(key: &SigningKey, count: usize) -> Vec<String> {
    clerk_m2m_jwts(key, count, 3 * 3600).expect("signs")
}

fn verifier(pem: &str, token_cache: bool) -> Verifier {
    pem_verifier(pem, token_cache).expect("valid options")
}

fn hot_path(c: &mut Criterion) {
    let key = SigningKey::generate("ins_bench").expect("key");
    let pool = tokens(&key, 4096);
    let token = pool[0].clone();

    c.bench_function("decode (header + payload JSON, signature bytes)", |b| b.iter(|| decode(black_box(&token))));
    c.bench_function("isM2MJwt", |b| b.iter(|| is_m2m_jwt(black_box(&token))));

    // Signature-cache hit: everything a verification does except the RSA operation.
    let cached = verifier(key.public_key_pem(), true);
    c.bench_function("verify_local, signature cached (all but RSA)", |b| b.iter(|| cached.verify_local(black_box(&token), Mode::MachineAuth)));
    let outcome = cached.verify_local(&token, Mode::MachineAuth).expect("local");
    c.bench_function("outcome wire text", |b| b.iter(|| black_box(&outcome).to_wire_string(Some(1.0))));

    // The signature cache's own cost on a first sighting is its key (SHA-256) and an insert.
    // (A verify_local bench over a cycled pool would measure cache hits, not first sightings.)
    let digest = clerk_m2m_core::JwtAlgorithm::RS256.digest(token.as_bytes());
    c.bench_function("signature cache key (SHA-256 over key id, digest, signature)", |b| {
        b.iter(|| clerk_m2m_core::sigcache::SignatureCache::key(7, clerk_m2m_core::JwtAlgorithm::RS256, black_box(digest.as_ref()), &[0u8; 256]))
    });

    // Every call does the RSA operation (distinct tokens, cache off).
    let uncached = verifier(key.public_key_pem(), false);
    let mut i = 0;
    c.bench_function("verify_local, RSA every call", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % pool.len();
                &pool[i]
            },
            |t| uncached.verify_local(t, Mode::MachineAuth),
            BatchSize::SmallInput,
        )
    });
}

/// Two threads verifying at once (what `verifyMany` does): does throughput double?
/// One shared verifier (one parsed key), and one verifier per thread.
fn two_threads(c: &mut Criterion) {
    let key = SigningKey::generate("ins_bench2").expect("key");
    let pool = std::sync::Arc::new(tokens(&key, 2048));
    let shared = std::sync::Arc::new(verifier(key.public_key_pem(), false));
    let own = [verifier(key.public_key_pem(), false), verifier(key.public_key_pem(), false)].map(std::sync::Arc::new);
    for (name, pick) in [("2 threads, shared key", 0), ("2 threads, a key each", 1)] {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                std::thread::scope(|s| {
                    for t in 0..2u64 {
                        let v = if pick == 0 { shared.clone() } else { own[t as usize].clone() };
                        let pool = pool.clone();
                        s.spawn(move || {
                            for i in 0..iters.div_ceil(2) {
                                black_box(v.verify_local(&pool[((i * 2 + t) as usize) % pool.len()], Mode::MachineAuth));
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    c.bench_function("1 thread", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % pool.len();
            shared.verify_local(&pool[i], Mode::MachineAuth)
        })
    });
}

criterion_group!(benches, hot_path, two_threads);
criterion_main!(benches);

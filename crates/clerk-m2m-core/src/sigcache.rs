//! The verified-signature cache: a repeated token skips only the RSA operation.
//!
//! Entries are keyed by SHA-256 over (key identity, algorithm, hash of the
//! signing input, signature), so a hit means "these exact bytes were verified
//! by this exact key". (The signing input's hash is the one the RSA check
//! needs anyway, so the token is hashed once.) Everything else — decoding, the `cat`/`typ`/`alg` rules, and the
//! time claims against the clock and skew — runs again on every call, so a hit
//! gives the same answer a fresh verification would, including expiry that
//! happened since. Only valid signatures are stored (a flood of garbage cannot
//! evict real entries), the number of entries is bounded, and an entry lives no
//! longer than the JWKS TTL nor past the expiry of the JWKS fetch that supplied
//! the key, so a rotated-out key stops matching.

use crate::keys::JwtAlgorithm;
use quick_cache::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

/// Entries at most (each ~80 bytes with overhead: about 1 MiB in all).
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Lifetime of an entry, equal to the JWKS cache TTL.
pub const ENTRY_TTL_MS: f64 = 300_000.0;

pub type SigKey = [u8; 32];

pub struct SignatureCache {
    /// Key → (stored at, valid until), in ms.
    entries: Cache<SigKey, (f64, f64)>,
    ttl_ms: f64,
    /// Lookups answered by a live entry, and the others ([`SignatureCache::stats`]).
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The cache's counters, for `processStats()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureCacheStats {
    pub entries: usize,
    pub capacity: usize,
    pub hits: u64,
    pub misses: u64,
}

impl std::fmt::Debug for SignatureCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCache").field("len", &self.entries.len()).field("ttl_ms", &self.ttl_ms).finish()
    }
}

static GLOBAL: LazyLock<SignatureCache> = LazyLock::new(|| SignatureCache::new(DEFAULT_CAPACITY, ENTRY_TTL_MS));

/// The process-wide cache (entries of different keys never collide: the key identity is hashed in).
pub fn global() -> &'static SignatureCache {
    &GLOBAL
}

impl SignatureCache {
    pub fn new(capacity: usize, ttl_ms: f64) -> Self {
        SignatureCache { entries: Cache::new(capacity.max(1)), ttl_ms, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// `signed_digest` is [`JwtAlgorithm::digest`] of the signing input.
    pub fn key(key_id: u64, alg: JwtAlgorithm, signed_digest: &[u8], signature: &[u8]) -> SigKey {
        // aws-lc's SHA-256 (SHA-NI when the CPU has it), like the digest itself.
        let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        h.update(&key_id.to_be_bytes());
        h.update(alg.as_str().as_bytes());
        // Lengths make the concatenation unambiguous.
        h.update(&(signed_digest.len() as u64).to_be_bytes());
        h.update(signed_digest);
        h.update(signature);
        let mut key = [0u8; 32];
        key.copy_from_slice(h.finish().as_ref());
        key
    }

    /// True if these bytes were verified by this key, and the entry is still valid
    /// (a clock that went back before it was stored also misses).
    pub fn is_verified(&self, key: &SigKey, now_ms: f64) -> bool {
        let hit = match self.entries.get(key) {
            Some((at, until)) if now_ms >= at && now_ms < until => true,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        };
        (if hit { &self.hits } else { &self.misses }).fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Remembers a verified signature for the TTL, and never past `key_expires_at_ms`
    /// (the expiry of the JWKS fetch that supplied the key; `None` for a PEM key).
    pub fn remember(&self, key: SigKey, now_ms: f64, key_expires_at_ms: Option<f64>) {
        let until = key_expires_at_ms.map_or(now_ms + self.ttl_ms, |k| k.min(now_ms + self.ttl_ms));
        if until > now_ms {
            self.entries.insert(key, (now_ms, until));
        }
    }

    pub fn stats(&self) -> SignatureCacheStats {
        SignatureCacheStats {
            entries: self.entries.len(),
            capacity: usize::try_from(self.entries.capacity()).unwrap_or(usize::MAX),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_for_the_same_bytes_and_key_within_the_ttl() {
        let c = SignatureCache::new(10, 1000.0);
        let k = SignatureCache::key(1, JwtAlgorithm::RS256, b"h.p", b"sig");
        assert!(!c.is_verified(&k, 0.0));
        c.remember(k, 0.0, None);
        assert!(c.is_verified(&k, 999.0));
        assert!(!c.is_verified(&k, 1000.0), "expired entries are gone");
        assert!(!c.is_verified(&k, 1.0), "and stay gone");
        assert_eq!((c.stats().hits, c.stats().misses, c.stats().entries), (1, 3, 0), "hits and misses are counted");
        assert_ne!(k, SignatureCache::key(2, JwtAlgorithm::RS256, b"h.p", b"sig"), "another key");
        assert_ne!(k, SignatureCache::key(1, JwtAlgorithm::RS384, b"h.p", b"sig"), "another algorithm");
        assert_ne!(k, SignatureCache::key(1, JwtAlgorithm::RS256, b"h.p", b"siG"), "another signature");
        assert_ne!(SignatureCache::key(1, JwtAlgorithm::RS256, b"ab", b"c"), SignatureCache::key(1, JwtAlgorithm::RS256, b"a", b"bc"));
    }

    #[test]
    fn a_clock_that_goes_back_misses() {
        let c = SignatureCache::new(10, 1000.0);
        let k = SignatureCache::key(1, JwtAlgorithm::RS256, b"x", b"y");
        c.remember(k, 500.0, None);
        assert!(!c.is_verified(&k, 100.0));
    }

    #[test]
    fn an_entry_never_outlives_the_key_that_verified_it() {
        let c = SignatureCache::new(10, 1000.0);
        let k = SignatureCache::key(1, JwtAlgorithm::RS256, b"x", b"y");
        let k2 = SignatureCache::key(2, JwtAlgorithm::RS256, b"x", b"y");
        let k3 = SignatureCache::key(3, JwtAlgorithm::RS256, b"x", b"y");
        c.remember(k, 0.0, Some(400.0));
        c.remember(k2, 0.0, Some(5000.0));
        c.remember(k3, 10.0, Some(10.0));
        assert_eq!(c.len(), 2, "an already expired key stores nothing");
        assert!(!c.is_verified(&k3, 10.0));
        assert!(c.is_verified(&k, 399.0));
        assert!(!c.is_verified(&k, 400.0), "the JWKS fetch that supplied the key expired");
        assert!(c.is_verified(&k2, 999.0));
        assert!(!c.is_verified(&k2, 1000.0), "the TTL still applies");
    }

    #[test]
    fn capacity_is_bounded() {
        let c = SignatureCache::new(100, 1e9);
        for i in 0..10_000u64 {
            c.remember(SignatureCache::key(i, JwtAlgorithm::RS256, b"x", b"y"), 0.0, None);
        }
        assert!(c.len() <= 100, "{}", c.len());
    }
}

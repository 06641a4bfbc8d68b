//! Random identifiers and secrets in Clerk's shapes (`ins_…`, `mch_…`, `mt_…`, `ak_…`, `oat_…`).
//!
//! Clerk ids are a prefix plus 27 base62 characters (KSUID-like); secrets are longer so that a
//! secret and an id with the same prefix (`mt_` token value vs `mt_` token id) can never collide.

use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;

/// Length of the random part of an id (Clerk ids carry 27 characters after the prefix).
const ID_LEN: usize = 27;
/// Length of the random part of a secret (≥ 32 as the brief requires; 48 base62 chars ≈ 285 bits).
const SECRET_LEN: usize = 48;

/// `prefix` + 27 random base62 characters, e.g. `mch_2x…`.
pub fn id(prefix: &str) -> String {
    // ThreadRng is a CSPRNG (ChaCha), so ids are unguessable as well as unique.
    id_from(&mut rand::rng(), prefix)
}

/// `prefix` + 48 random base62 characters, for bearer secrets (`sk_test_`, `ak_`, `mt_`, `oat_`).
pub fn secret(prefix: &str) -> String {
    secret_from(&mut rand::rng(), prefix)
}

/// [`id`] drawn from `rng` (a seeded one for `--seed`).
pub fn id_from<R: Rng + ?Sized>(rng: &mut R, prefix: &str) -> String {
    format!("{prefix}{}", Alphanumeric.sample_string(rng, ID_LEN))
}

/// [`secret`] drawn from `rng` (a seeded one for `--seed`).
pub fn secret_from<R: Rng + ?Sized>(rng: &mut R, prefix: &str) -> String {
    format!("{prefix}{}", Alphanumeric.sample_string(rng, SECRET_LEN))
}

/// 32 lowercase hex characters, the shape of Clerk's `clerk_trace_id`.
pub fn trace_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// At most the first 7 characters of a secret, for Debug output and logs (the reference's own
/// redaction length).
pub fn redact(secret: &str) -> String {
    let prefix: String = secret.chars().take(7).collect();
    if prefix.len() < secret.len() {
        format!("{prefix}…")
    } else {
        prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_length() {
        let a = id("mch_");
        assert!(a.starts_with("mch_"));
        assert_eq!(a.len(), 4 + ID_LEN);
        assert!(a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, id("mch_"));
    }

    #[test]
    fn secrets_are_longer_than_ids() {
        let s = secret("mt_");
        assert_eq!(s.len(), 3 + SECRET_LEN);
        assert!(s.len() - 3 >= 32);
        assert_ne!(s.len(), id("mt_").len());
    }

    #[test]
    fn trace_ids_are_hex() {
        let t = trace_id();
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn redact_keeps_seven_chars() {
        assert_eq!(redact("sk_test_abcdef"), "sk_test…");
        assert_eq!(redact("ak_1234"), "ak_1234");
        assert_eq!(redact("ab"), "ab");
        assert_eq!(redact(""), "");
        // Multi-byte characters are counted as characters, never split.
        assert_eq!(redact("ééééééééé"), "ééééééé…");
    }
}

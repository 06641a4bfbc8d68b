//! `--seed S`: an emulator whose identities survive restarts. With the same seed (and the same
//! emulator version) instance ids, instance secret keys, signing keys (hence kids, PEMs, JWKS)
//! and machine ids and secret keys come out the same, so a `.env` written once keeps working.
//!
//! Each identity has its own ChaCha20 stream keyed by SHA-256 of the seed and a label naming
//! what it is for (instance index, or instance id + machine name + occurrence), so adding a
//! machine or an instance never changes the others. Tokens, trace ids and keys added at run time
//! stay random: a token minted before a restart must not collide with one minted after it.
//! A seeded emulator's secrets are exactly as secret as its seed; it is for local development.

use crate::ids;
use crate::keys::{KeyError, SigningKey};
use aws_lc_rs::digest::{digest, SHA256};
use rand::rngs::ChaCha20Rng;
use rand::SeedableRng;
use std::fmt;

/// Domain separation: a seed means nothing outside this emulator and this derivation scheme.
const CONTEXT: &str = "clerk-bapi-emulator seed v1";

/// A digested seed; the text itself is not kept.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed([u8; 32]);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(…)")
    }
}

impl Seed {
    pub fn new(text: &str) -> Seed {
        Seed(sha256(&[CONTEXT.as_bytes(), text.as_bytes()]))
    }

    /// The stream for one labelled purpose. The label parts are JSON-encoded as an array, so no
    /// two different part lists (whatever characters a machine name holds) share a stream.
    fn rng(&self, label: &[&str]) -> ChaCha20Rng {
        let label = serde_json::to_vec(label).unwrap_or_default();
        ChaCha20Rng::from_seed(sha256(&[&self.0, &label]))
    }

    /// Instance `index`'s id (`ins_…`) and secret key (`sk_test_…`).
    pub(crate) fn instance_identity(&self, index: usize) -> (String, String) {
        let mut rng = self.rng(&["instance", &index.to_string()]);
        (ids::id_from(&mut rng, "ins_"), ids::secret_from(&mut rng, "sk_test_"))
    }

    /// Instance `index`'s first signing key (RSA-2048). Slower than a random key (pure-Rust
    /// prime search): call from a blocking context in async code.
    pub(crate) fn signing_key(&self, index: usize, kid: String) -> Result<SigningKey, KeyError> {
        SigningKey::generate_from_rng(kid, &mut self.rng(&["signing-key", &index.to_string()]))
    }

    /// The `nth` (0-based) machine named `name` in instance `instance_id`: id (`mch_…`) and
    /// secret key (`ak_…`).
    pub(crate) fn machine_identity(&self, instance_id: &str, name: &str, nth: usize) -> (String, String) {
        let mut rng = self.rng(&["machine", instance_id, &nth.to_string(), name]);
        (ids::id_from(&mut rng, "mch_"), ids::secret_from(&mut rng, "ak_"))
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut input = Vec::new();
    for part in parts {
        // Length-prefixed, so the concatenation is unambiguous.
        input.extend_from_slice(&(part.len() as u64).to_be_bytes());
        input.extend_from_slice(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_stable_and_distinct() {
        let a = Seed::new("dev");
        assert_eq!(a.instance_identity(0), Seed::new("dev").instance_identity(0));
        assert_ne!(a.instance_identity(0), a.instance_identity(1));
        assert_ne!(a.instance_identity(0), Seed::new("dev2").instance_identity(0));
        let (id, secret) = a.instance_identity(0);
        assert!(id.starts_with("ins_") && secret.starts_with("sk_test_"));

        let m = a.machine_identity("ins_x", "webhook", 0);
        assert_eq!(m, Seed::new("dev").machine_identity("ins_x", "webhook", 0));
        assert_ne!(m, a.machine_identity("ins_x", "webhook", 1));
        assert_ne!(m, a.machine_identity("ins_y", "webhook", 0));
        assert_ne!(m, a.machine_identity("ins_x", "worker", 0));
        assert!(m.0.starts_with("mch_") && m.1.starts_with("ak_"));
        // Labels cannot be confused by separators inside names.
        assert_ne!(a.machine_identity("ins_x", "a\",\"b", 0), a.machine_identity("ins_x\",\"a", "b", 0));
        assert_eq!(format!("{a:?}"), "Seed(…)");
    }

    #[test]
    fn signing_keys_are_deterministic_per_seed_and_instance() {
        let a = Seed::new("dev");
        let k1 = a.signing_key(0, "kid".into()).unwrap();
        let k2 = Seed::new("dev").signing_key(0, "kid".into()).unwrap();
        assert_eq!(k1.public_key_pem(), k2.public_key_pem());
        assert_eq!(k1.jwk(), k2.jwk());
        let other = a.signing_key(1, "kid".into()).unwrap();
        assert_ne!(k1.public_key_pem(), other.public_key_pem());
        // A real key: what it signs verifies.
        let token = k1.sign_jwt(&serde_json::json!({"alg": "RS256", "kid": "kid"}), &serde_json::json!({"sub": "mch_1"})).unwrap();
        assert!(crate::keys::verify_jwt(&token, &[&k1]).is_ok());
        assert!(crate::keys::verify_jwt(&token, &[&other]).is_err());
    }
}

//! A secret string (secret key, machine secret key, token) that cannot leak by accident.
//!
//! `Debug` and `Display` show a 7-character prefix only; the value is reachable
//! solely through [`Secret::expose`], which call sites use to build an
//! `Authorization` header. Cache scopes use [`Secret::fingerprint`], a SHA-256,
//! so the raw key never becomes a map key that could be dumped.

use crate::redact::secret_prefix;
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value. Only for the `Authorization` header or a request body.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the value: what cache keys are built from.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A secret given as an option or a parameter: an empty string is as good as absent (the
    /// reference tests keys for truthiness).
    pub fn present(value: Option<String>) -> Option<Secret> {
        value.filter(|s| !s.is_empty()).map(Secret::new)
    }

    /// [`Secret::present`] as serde reads a parameter (`null`, absent and `""` are `None`).
    pub fn deserialize_present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
        Ok(Secret::present(serde::Deserialize::deserialize(deserializer)?))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?})", secret_prefix(&self.0))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&secret_prefix(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_show_only_a_prefix() {
        let s = Secret::new("sk_test_CANARY_0123456789");
        assert_eq!(format!("{s:?}"), "Secret(\"sk_test…\")");
        assert_eq!(format!("{s}"), "sk_test…");
        assert!(!format!("{s:?}{s}").contains("CANARY"));
        assert_eq!(s.expose(), "sk_test_CANARY_0123456789");
    }

    #[test]
    fn fingerprints_differ_per_key() {
        assert_ne!(Secret::new("sk_a").fingerprint(), Secret::new("sk_b").fingerprint());
        assert_eq!(Secret::new("sk_a").fingerprint(), Secret::new("sk_a").fingerprint());
    }
}

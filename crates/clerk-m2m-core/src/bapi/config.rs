//! Where and how to reach the Backend API, and which key each call sends.

use crate::constants::DEFAULT_API_VERSION;
use crate::http;
use crate::secret::Secret;
use std::fmt;
use std::time::Duration;
use url::Url;

/// Where and how to reach the Backend API.
#[derive(Clone)]
pub struct BapiConfig {
    pub api_url: Url,
    pub api_version: String,
    pub secret_key: Option<Secret>,
    pub machine_secret_key: Option<Secret>,
    /// Deadline for each call, retries included (clamped by [`http::clamp_timeout`]).
    pub timeout: Duration,
}

impl BapiConfig {
    /// `api_url` with the reference's defaults: version `v1`, no keys, 5 s deadline.
    pub fn new(api_url: Url) -> Self {
        BapiConfig {
            api_url,
            api_version: DEFAULT_API_VERSION.to_owned(),
            secret_key: None,
            machine_secret_key: None,
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    pub(super) fn secret(&self) -> Option<&Secret> {
        self.secret_key.as_ref().filter(|s| !s.is_empty())
    }

    /// The M2M endpoints' credential: machine secret key, else secret key, else none (the reference's order).
    pub(super) fn m2m_credential<'a>(&'a self, per_call: Option<&'a Secret>) -> Option<&'a Secret> {
        per_call
            .filter(|s| !s.is_empty())
            .or(self.machine_secret_key.as_ref().filter(|s| !s.is_empty()))
            .or(self.secret())
    }
}

impl fmt::Debug for BapiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BapiConfig")
            .field("api_url", &http::display_url(&self.api_url))
            .field("api_version", &self.api_version)
            .field("secret_key", &self.secret_key)
            .field("machine_secret_key", &self.machine_secret_key)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A config for `url` with every default, for the tests of the client's files.
#[cfg(test)]
pub(super) fn cfg(url: &str) -> BapiConfig {
    BapiConfig::new(Url::parse(url).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_precedence() {
        let mut c = cfg("https://api.clerk.com");
        assert!(c.m2m_credential(None).is_none());
        c.secret_key = Some(Secret::new("sk_1"));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "sk_1");
        c.machine_secret_key = Some(Secret::new(""));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "sk_1");
        c.machine_secret_key = Some(Secret::new("ak_m"));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "ak_m");
        let per_call = Secret::new("ak_call");
        assert_eq!(c.m2m_credential(Some(&per_call)).unwrap().expose(), "ak_call");
        let empty = Secret::new("");
        assert_eq!(c.m2m_credential(Some(&empty)).unwrap().expose(), "ak_m");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let mut c = cfg("https://api.clerk.com");
        c.secret_key = Some(Secret::new("sk_test_CANARY_secret"));
        c.machine_secret_key = Some(Secret::new("ak_CANARY_machine"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
        assert!(dbg.contains("sk_test…"), "{dbg}");
    }
}

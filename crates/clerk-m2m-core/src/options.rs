//! Verification options: the reference's option bag, validated once.
//!
//! The reference accepts anything and fails late (an invalid `apiUrl` becomes
//! `Unexpected error` per request, a NaN skew silently becomes 5 s). Here a
//! verifier is built from options once, and options that cannot work are a
//! clear [`OptionsError`] up front. Empty strings count as absent, because the
//! reference tests every key for truthiness.

use crate::claims::resolve_clock_skew;
use crate::constants::{DEFAULT_API_URL, DEFAULT_API_VERSION};
use crate::decode::DEFAULT_MAX_TOKEN_BYTES;
use crate::http::{DEFAULT_TIMEOUT, MAX_TIMEOUT};
use crate::opaque::MAX_RESULT_TTL_MS;
use crate::secret::Secret;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use url::{Host, Url};
/// Smallest and largest token ceilings accepted.
pub const MIN_MAX_TOKEN_BYTES: f64 = 256.0;
pub const MAX_MAX_TOKEN_BYTES: f64 = 1024.0 * 1024.0;

/// Options as they arrive from JavaScript, before validation.
#[derive(Default, Clone)]
pub struct RawOptions {
    pub secret_key: Option<String>,
    pub machine_secret_key: Option<String>,
    pub jwt_key: Option<String>,
    pub api_url: Option<String>,
    pub api_version: Option<String>,
    pub clock_skew_in_ms: Option<f64>,
    pub skip_jwks_cache: bool,
    pub audience: Vec<String>,
    pub timeout_ms: Option<f64>,
    pub max_token_bytes: Option<f64>,
    /// `tokenCache` (default on): remember verified signatures (see `sigcache`).
    pub token_cache: Option<bool>,
    /// `opaqueCacheTtlMs` (default 0 = off, at most 60 000).
    pub opaque_cache_ttl_ms: Option<f64>,
}

/// Why options were refused. Messages name the option, never its value when secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);

/// Validated options.
#[derive(Clone)]
pub struct VerifyOptions {
    pub secret_key: Option<Secret>,
    pub machine_secret_key: Option<Secret>,
    /// The PEM text of `jwtKey`, verbatim (parsed by the verifier).
    pub jwt_key: Option<String>,
    /// `apiUrl` exactly as given: the JWKS cache scope uses it unnormalised, like the reference.
    pub api_url_raw: String,
    pub api_url: Url,
    pub api_version: String,
    /// `clockSkewInMs` as given (`None` = undefined → 5000 ms).
    pub clock_skew_in_ms: Option<f64>,
    pub skip_jwks_cache: bool,
    /// `[audience].flat()` without falsy entries.
    pub audience: Vec<String>,
    pub timeout: Duration,
    pub max_token_bytes: usize,
    pub token_cache: bool,
    pub opaque_cache_ttl_ms: f64,
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("secret_key", &self.secret_key)
            .field("machine_secret_key", &self.machine_secret_key)
            .field("jwt_key", &self.jwt_key.as_ref().map(|_| "<pem>"))
            .field("api_url", &self.api_url_raw)
            .field("api_version", &self.api_version)
            .field("clock_skew_in_ms", &self.clock_skew_in_ms)
            .field("skip_jwks_cache", &self.skip_jwks_cache)
            .field("audience", &self.audience)
            .field("timeout", &self.timeout)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("token_cache", &self.token_cache)
            .field("opaque_cache_ttl_ms", &self.opaque_cache_ttl_ms)
            .finish()
    }
}

/// A string option as the reference reads it: an empty string is as good as absent (it tests
/// every key for truthiness; a secret key: [`Secret::present`]).
pub fn present(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// `http:` is only for loopback (the emulator, local proxies); anything else must be `https:`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Validates a user-supplied API base URL (also used by the M2M token client).
pub fn validate_api_url(raw: &str) -> Result<Url, OptionsError> {
    let url = Url::parse(raw).map_err(|_| OptionsError("apiUrl is not a valid URL".into()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OptionsError("apiUrl must not contain credentials (user:password@)".into()));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(OptionsError("apiUrl must use https: (http: is allowed only for loopback hosts)".into())),
        _ => return Err(OptionsError("apiUrl must be an https: URL".into())),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(OptionsError("apiUrl must not have a query or fragment".into()));
    }
    Ok(url)
}

fn validate_api_version(v: &str) -> Result<(), OptionsError> {
    let ok = !v.is_empty() && v.len() <= 32 && v != "." && v != ".." && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(OptionsError("apiVersion must be a short path segment such as v1".into()))
    }
}

fn finite(name: &str, v: f64) -> Result<f64, OptionsError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(OptionsError(format!("{name} must be a finite number")))
    }
}

/// `timeoutMs`: absent → [`DEFAULT_TIMEOUT`]; otherwise a finite number of milliseconds from 1 to
/// [`MAX_TIMEOUT`] (a network call is on a request's critical path).
pub fn timeout(timeout_ms: Option<f64>) -> Result<Duration, OptionsError> {
    let Some(ms) = timeout_ms else { return Ok(DEFAULT_TIMEOUT) };
    let max_ms = MAX_TIMEOUT.as_millis() as f64;
    if !(1.0..=max_ms).contains(&finite("timeoutMs", ms)?) {
        return Err(OptionsError(format!("timeoutMs must be between 1 and {max_ms}")));
    }
    // Both bounds were checked, so the conversion cannot overflow.
    Ok(Duration::from_millis(ms as u64))
}

impl VerifyOptions {
    pub fn from_raw(raw: RawOptions) -> Result<Self, OptionsError> {
        let api_url_raw = present(raw.api_url).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let api_url = validate_api_url(&api_url_raw)?;
        let api_version = present(raw.api_version).unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        validate_api_version(&api_version)?;
        let clock_skew_in_ms = raw.clock_skew_in_ms.map(|v| finite("clockSkewInMs", v)).transpose()?;
        let timeout = timeout(raw.timeout_ms)?;
        let max_bytes = finite("maxTokenBytes", raw.max_token_bytes.unwrap_or(DEFAULT_MAX_TOKEN_BYTES as f64))?;
        if !(MIN_MAX_TOKEN_BYTES..=MAX_MAX_TOKEN_BYTES).contains(&max_bytes) || max_bytes.fract() != 0.0 {
            return Err(OptionsError(format!("maxTokenBytes must be a whole number between {MIN_MAX_TOKEN_BYTES} and {MAX_MAX_TOKEN_BYTES}")));
        }
        let opaque_cache_ttl_ms = finite("opaqueCacheTtlMs", raw.opaque_cache_ttl_ms.unwrap_or(0.0))?;
        if !(0.0..=MAX_RESULT_TTL_MS).contains(&opaque_cache_ttl_ms) {
            return Err(OptionsError(format!("opaqueCacheTtlMs must be between 0 and {MAX_RESULT_TTL_MS}")));
        }
        Ok(VerifyOptions {
            secret_key: Secret::present(raw.secret_key),
            machine_secret_key: Secret::present(raw.machine_secret_key),
            jwt_key: present(raw.jwt_key),
            api_url_raw,
            api_url,
            api_version,
            clock_skew_in_ms,
            skip_jwks_cache: raw.skip_jwks_cache,
            audience: raw.audience.into_iter().filter(|a| !a.is_empty()).collect(),
            timeout,
            max_token_bytes: max_bytes as usize,
            token_cache: raw.token_cache.unwrap_or(true),
            opaque_cache_ttl_ms,
        })
    }

    /// The skew `verifyJwt` uses: the given value (validated finite), else the default.
    pub fn effective_clock_skew_ms(&self) -> f64 {
        resolve_clock_skew(self.clock_skew_in_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawOptions {
        RawOptions::default()
    }

    #[test]
    fn defaults() {
        let o = VerifyOptions::from_raw(raw()).unwrap();
        assert_eq!(o.api_url_raw, "https://api.clerk.com");
        assert_eq!(o.api_version, "v1");
        assert_eq!(o.timeout, Duration::from_millis(5000));
        assert_eq!(o.max_token_bytes, 16384);
        assert_eq!(o.effective_clock_skew_ms(), 5000.0);
        assert!(o.secret_key.is_none() && o.machine_secret_key.is_none() && o.jwt_key.is_none());
    }

    #[test]
    fn empty_strings_are_absent_and_zero_skew_is_honoured() {
        let o = VerifyOptions::from_raw(RawOptions {
            secret_key: Some(String::new()),
            jwt_key: Some(String::new()),
            api_url: Some(String::new()),
            clock_skew_in_ms: Some(0.0),
            audience: vec![String::new(), "a".into()],
            ..raw()
        })
        .unwrap();
        assert!(o.secret_key.is_none() && o.jwt_key.is_none());
        assert_eq!(o.api_url_raw, DEFAULT_API_URL);
        assert_eq!(o.effective_clock_skew_ms(), 0.0);
        assert_eq!(o.audience, ["a"]);
    }

    #[test]
    fn api_url_rules() {
        for ok in ["https://api.clerk.com", "https://proxy.example/clerk/", "http://127.0.0.1:3000", "http://localhost:1", "http://[::1]:8080", "http://127.5.0.1"] {
            assert!(validate_api_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://api.clerk.com", "ftp://x", "not a url", "https://user:pw@api.clerk.com", "https://user@api.clerk.com", "https://a?x=1", "http://10.0.0.1", "http://localhost.evil.com", "file:///etc/passwd"] {
            assert!(validate_api_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        for (skew, timeout, max) in [(Some(f64::NAN), None, None), (Some(f64::INFINITY), None, None), (None, Some(0.0), None), (None, Some(f64::NAN), None), (None, Some(1e308), None), (None, None, Some(10.0)), (None, None, Some(1e12)), (None, None, Some(2048.5))] {
            let r = VerifyOptions::from_raw(RawOptions { clock_skew_in_ms: skew, timeout_ms: timeout, max_token_bytes: max, ..raw() });
            assert!(r.is_err(), "{skew:?} {timeout:?} {max:?}");
        }
        let o = VerifyOptions::from_raw(RawOptions { clock_skew_in_ms: Some(-1e308), timeout_ms: Some(1.0), max_token_bytes: Some(65536.0), ..raw() }).unwrap();
        assert_eq!(o.effective_clock_skew_ms(), -1e308);
    }

    #[test]
    fn api_version_is_a_plain_segment() {
        for bad in ["", "..", "v1/../x", "v1?x", "a b"] {
            let r = VerifyOptions::from_raw(RawOptions { api_version: Some(bad.into()), ..raw() });
            if bad.is_empty() {
                assert!(r.is_ok());
            } else {
                assert!(r.is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let o = VerifyOptions::from_raw(RawOptions { secret_key: Some("sk_test_CANARYCANARY".into()), machine_secret_key: Some("ak_CANARYCANARY".into()), jwt_key: Some("-----BEGIN PUBLIC KEY-----".into()), ..raw() }).unwrap();
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
        assert!(!dbg.contains("BEGIN"), "{dbg}");
    }
}

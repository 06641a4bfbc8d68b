//! The one HTTP client every Backend API call goes through.
//!
//! The reference uses `fetch` with no timeout, no size limit, redirects
//! followed, and (for JWKS only) five retries on any error. Here every call
//! has a deadline covering connect, retries, backoff and the body read; bodies
//! are capped; a 3xx is an error (a redirect could point the secret key or the
//! key source elsewhere — W8/K-11); and only transient failures of idempotent
//! requests are retried, a bounded number of times, inside the deadline.
//!
//! One process-wide [`reqwest::Client`] keeps connections pooled and alive, so
//! a warm verifier pays no TCP/TLS handshake per call.

use crate::errors::{Transport, TransportKind};
use crate::secret::Secret;
use rand::Rng;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode};
use std::error::Error as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// `Clerk-API-Version` sent with every request (the reference's `SUPPORTED_BAPI_VERSION`).
pub const CLERK_API_VERSION: &str = "2026-05-12";
/// `User-Agent` sent with every request: this package, not the reference.
pub const USER_AGENT: &str = concat!("clerk-m2m-native/", env!("CARGO_PKG_VERSION"));
/// Whole-call deadline when the caller gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5_000);
/// Shortest deadline accepted (shorter ones are raised to it).
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest deadline accepted (longer ones are lowered to it): a verification sits on a request's critical path.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);
/// TCP (and TLS) connect limit per attempt; the whole-call deadline still applies on top.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest response body read. A JWKS or token document is a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Extra attempts after the first, for idempotent requests only.
pub const MAX_RETRIES: u32 = 2;
/// First backoff step; doubled per retry and multiplied by a jitter factor in [1, 2).
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// A retry is only worth starting if at least this much of the deadline is left after the backoff.
const MIN_ATTEMPT_BUDGET: Duration = Duration::from_millis(50);

/// Whether a request may be sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Read-only (JWKS, the verify endpoints, list): retried on connection errors and 5xx.
    Idempotent,
    /// Creates or changes state (create, revoke): sent once, whatever happens.
    Never,
}

/// One request. The body, if any, is JSON.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a Url,
    /// Sent as `Authorization: Bearer <secret>`; `None` sends no `Authorization` header.
    pub bearer: Option<&'a Secret>,
    pub body: Option<Vec<u8>>,
    pub retry: Retry,
    /// Deadline for the whole call; clamped with [`clamp_timeout`].
    pub timeout: Duration,
}

/// A complete response with a non-redirect status (2xx, 4xx or 5xx).
#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    /// At most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
    /// How many times the request was sent (1 = no retry).
    pub attempts: u32,
}

impl std::fmt::Debug for Response {
    /// Leaves the body out: a create response carries a freshly minted token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("content_type", &self.header_str(header::CONTENT_TYPE.as_str()))
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The standard reason phrase (`Unauthorized`…), `''` for unknown codes: the reference's `statusText`.
    pub fn status_text(&self) -> &'static str {
        StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header as text; `None` if absent or not visible ASCII.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// True when `Content-Type` is `application/json`, whatever its parameters (`; charset=utf-8`).
    pub fn is_json(&self) -> bool {
        self.header_str(header::CONTENT_TYPE.as_str()).is_some_and(is_json_media_type)
    }

    /// `Retry-After` read as the reference does (`parseInt(value, 10)`); `None` when absent,
    /// not a number or negative.
    pub fn retry_after(&self) -> Option<u64> {
        self.header_str(header::RETRY_AFTER.as_str()).and_then(parse_retry_after)
    }
}

/// Why a call produced no usable response. Messages name the URL without its
/// query and never contain a header value, so no secret can appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("request to {url} timed out after {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128, attempts: u32 },
    #[error("could not connect to {url}: {detail}")]
    Connect { url: String, detail: String, attempts: u32 },
    #[error("connection to {url} failed before a response: {detail}")]
    Network { url: String, detail: String, attempts: u32 },
    #[error("response from {url} is larger than {limit} bytes")]
    BodyTooLarge { url: String, limit: usize, attempts: u32 },
    #[error("{url} answered with a redirect (status {status}); redirects are not followed")]
    Redirect { url: String, status: u16, attempts: u32 },
    #[error("invalid HTTP response from {url}: {detail}")]
    Protocol { url: String, detail: String, attempts: u32 },
    #[error("the request to {url} could not be built: {detail}")]
    InvalidRequest { url: String, detail: String },
    #[error("the HTTP client is unavailable: {detail}")]
    Client { detail: String },
}

impl HttpError {
    /// Stable, machine-readable classification.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Timeout { .. } => "timeout",
            HttpError::Connect { .. } => "connect",
            HttpError::Network { .. } => "network",
            HttpError::BodyTooLarge { .. } => "body-too-large",
            HttpError::Redirect { .. } => "redirect",
            HttpError::Protocol { .. } => "protocol",
            HttpError::InvalidRequest { .. } => "invalid-request",
            HttpError::Client { .. } => "client",
        }
    }

    /// How many times the request was sent before this error (0 if never).
    pub fn attempts(&self) -> u32 {
        match self {
            HttpError::Timeout { attempts, .. }
            | HttpError::Connect { attempts, .. }
            | HttpError::Network { attempts, .. }
            | HttpError::BodyTooLarge { attempts, .. }
            | HttpError::Redirect { attempts, .. }
            | HttpError::Protocol { attempts, .. } => *attempts,
            HttpError::InvalidRequest { .. } | HttpError::Client { .. } => 0,
        }
    }

    /// What failed, as the failure reasons carry it ([`crate::errors::FailureReason::Unavailable`]).
    pub fn transport(&self) -> Transport {
        let (kind, status) = match self {
            HttpError::Timeout { .. } => (TransportKind::Timeout, None),
            HttpError::Connect { .. } => (TransportKind::Connect, None),
            HttpError::Network { .. } => (TransportKind::Network, None),
            HttpError::BodyTooLarge { .. } => (TransportKind::BodyTooLarge, None),
            HttpError::Redirect { status, .. } => (TransportKind::Redirect, Some(*status)),
            HttpError::Protocol { .. } => (TransportKind::Protocol, None),
            HttpError::InvalidRequest { .. } | HttpError::Client { .. } => (TransportKind::Client, None),
        };
        Transport { kind, status, retry_after: None, attempts: self.attempts(), message: self.to_string() }
    }

    /// Failures where the request may not have been processed and a new connection may succeed.
    fn is_transient(&self) -> bool {
        matches!(self, HttpError::Connect { .. } | HttpError::Network { .. })
    }
}

/// Raises a deadline below [`MIN_TIMEOUT`] and lowers one above [`MAX_TIMEOUT`].
pub fn clamp_timeout(timeout: Duration) -> Duration {
    timeout.clamp(MIN_TIMEOUT, MAX_TIMEOUT)
}

/// `application/json` with any parameters, case-insensitively (`Application/JSON; charset=UTF-8`).
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// `parseInt(value, 10)` restricted to what a delay can be: leading whitespace
/// and `+` allowed, digits up to the first non-digit; negative or no digits → `None`;
/// absurdly large values saturate.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let s = value.trim_start();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        // parseInt gives a negative number (or NaN for "-"): not a usable delay.
        return None;
    }
    let digits: &str = s.find(|c: char| !c.is_ascii_digit()).map_or(s, |end| s.get(..end).unwrap_or(""));
    if digits.is_empty() {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

/// The URL as shown in messages: no query, no fragment, no userinfo.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Fails only for URLs that cannot carry credentials, which then have none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

static CLIENT: LazyLock<Result<Client, String>> = LazyLock::new(build_client);

fn build_client() -> Result<Client, String> {
    let mut headers = HeaderMap::new();
    headers.insert("Clerk-API-Version", HeaderValue::from_static(CLERK_API_VERSION));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(32)
        .tcp_keepalive(Duration::from_secs(60))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| error_detail(&e))
}

/// The shared client; an error (never a panic) if it could not be built, e.g. no usable TLS backend.
pub fn client() -> Result<&'static Client, HttpError> {
    CLIENT.as_ref().map_err(|detail| HttpError::Client { detail: detail.clone() })
}

/// Sends `req`, retrying where allowed, all within `req.timeout`.
///
/// Returns `Ok` for any final status except 3xx (the caller interprets 4xx/5xx);
/// a 5xx is returned after the retries are used up.
pub async fn send(req: Request<'_>) -> Result<Response, HttpError> {
    let timeout = clamp_timeout(req.timeout);
    let start = Instant::now();
    // The timeout is at most MAX_TIMEOUT, so this only fails on a clock at the end of time.
    let deadline = start.checked_add(timeout).unwrap_or(start);
    let attempts = AtomicU32::new(0);
    let started_wall = std::time::SystemTime::now();
    let result = match tokio::time::timeout_at(deadline, run(&req, deadline, &attempts)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(HttpError::Timeout {
            url: display_url(req.url),
            timeout_ms: timeout.as_millis(),
            attempts: attempts.load(Ordering::Relaxed),
        }),
    };
    crate::telemetry::record_http(&req.method, req.url, settled(&result), start.into_std(), started_wall);
    result
}

/// What the telemetry counts of a finished request.
fn settled(result: &Result<Response, HttpError>) -> crate::telemetry::Settled {
    match result {
        Ok(resp) => crate::telemetry::Settled { status: Some(resp.status), attempts: resp.attempts, retry_after: resp.retry_after(), error: None },
        Err(e) => crate::telemetry::Settled {
            status: match e {
                HttpError::Redirect { status, .. } => Some(*status),
                _ => None,
            },
            attempts: e.attempts(),
            retry_after: None,
            error: Some(e.kind()),
        },
    }
}

async fn run(req: &Request<'_>, deadline: Instant, attempts: &AtomicU32) -> Result<Response, HttpError> {
    let client = client()?;
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        attempts.store(attempt, Ordering::Relaxed);
        let outcome = attempt_once(client, req, attempt).await;
        let transient = match &outcome {
            Ok(resp) => resp.status >= 500,
            Err(e) => e.is_transient(),
        };
        if !transient || req.retry == Retry::Never || attempt > MAX_RETRIES {
            return outcome;
        }
        let mut delay = backoff(attempt);
        if let Ok(resp) = &outcome {
            if let Some(secs) = resp.retry_after() {
                // The server asked for a pause: honour it, or stop if it does not fit.
                delay = delay.max(Duration::from_secs(secs.min(MAX_TIMEOUT.as_secs().saturating_add(1))));
            }
        }
        let resume = Instant::now().checked_add(delay).and_then(|t| t.checked_add(MIN_ATTEMPT_BUDGET));
        match resume {
            Some(t) if t < deadline => tokio::time::sleep(delay).await,
            // Not enough time left for a useful attempt: the last answer is better than a timeout.
            _ => return outcome,
        }
    }
}

/// `BACKOFF_BASE × 2^(attempt-1) × jitter`, jitter uniform in [1, 2).
fn backoff(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(10);
    let base = BACKOFF_BASE.saturating_mul(1u32 << exp);
    let jitter: f64 = rand::rng().random_range(1.0..2.0);
    base.mul_f64(jitter)
}

async fn attempt_once(client: &Client, req: &Request<'_>, attempt: u32) -> Result<Response, HttpError> {
    let mut builder = client.request(req.method.clone(), req.url.clone());
    if let Some(secret) = req.bearer {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", secret.expose())).map_err(|_| HttpError::Client {
            // The key itself is never shown; only the reason it cannot be a header.
            detail: "the secret key contains characters that cannot be sent in an HTTP header".into(),
        })?;
        value.set_sensitive(true);
        builder = builder.header(header::AUTHORIZATION, value);
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    let url = || display_url(req.url);
    let mut resp = builder.send().await.map_err(|e| classify_send_error(&e, url(), attempt))?;
    let status = resp.status().as_u16();
    if resp.status().is_redirection() {
        return Err(HttpError::Redirect { url: url(), status, attempts: attempt });
    }
    if resp.content_length().is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(HttpError::BodyTooLarge { url: url(), limit: MAX_BODY_BYTES, attempts: attempt });
    }
    let headers = std::mem::take(resp.headers_mut());
    let mut body: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if chunk.len() > MAX_BODY_BYTES.saturating_sub(body.len()) {
                    return Err(HttpError::BodyTooLarge { url: url(), limit: MAX_BODY_BYTES, attempts: attempt });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(HttpError::Protocol { url: url(), detail: error_detail(&e), attempts: attempt }),
        }
    }
    Ok(Response { status, headers, body, attempts: attempt })
}

/// Sorts a failure of `send()` (no response head received) into connect / network / protocol.
fn classify_send_error(e: &reqwest::Error, url: String, attempts: u32) -> HttpError {
    let detail = error_detail(e);
    if e.is_builder() {
        // Nothing was sent (e.g. a scheme reqwest cannot speak); retrying cannot help.
        return HttpError::InvalidRequest { url, detail };
    }
    if e.is_connect() {
        return HttpError::Connect { url, detail, attempts };
    }
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() {
                // The peer does not speak HTTP: asking again will not help.
                return HttpError::Protocol { url, detail, attempts };
            }
        }
        source = err.source();
    }
    HttpError::Network { url, detail, attempts }
}

/// The innermost cause of a reqwest error, without the URL (kept short: it ends up in messages).
fn error_detail(e: &reqwest::Error) -> String {
    let Some(mut innermost) = e.source() else {
        // No cause: reqwest's own text would include the URL and its query; describe by category instead.
        let what = if e.is_body() || e.is_decode() { "error reading the body" } else { "request failed" };
        return what.to_owned();
    };
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    crate::redact::echo_untrusted(&innermost.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_clamped_without_panicking() {
        assert_eq!(clamp_timeout(Duration::ZERO), MIN_TIMEOUT);
        assert_eq!(clamp_timeout(Duration::MAX), MAX_TIMEOUT);
        assert_eq!(clamp_timeout(Duration::from_millis(800)), Duration::from_millis(800));
    }

    #[test]
    fn json_media_type_ignores_parameters_and_case() {
        for ok in ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", " application/json ; x=y"] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in ["", "text/plain", "application/jsonx", "application/problem+json", "text/json", "application/json-seq"] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn retry_after_parses_like_parse_int() {
        assert_eq!(parse_retry_after("7"), Some(7));
        assert_eq!(parse_retry_after("  12abc"), Some(12));
        assert_eq!(parse_retry_after("+3"), Some(3));
        assert_eq!(parse_retry_after("1.9"), Some(1));
        assert_eq!(parse_retry_after("0"), Some(0));
        assert_eq!(parse_retry_after("99999999999999999999999"), Some(u64::MAX));
        for none in ["", " ", "-1", "-", "abc", "Wed, 21 Oct 2015 07:28:00 GMT", "+"] {
            assert_eq!(parse_retry_after(none), None, "{none:?}");
        }
    }

    #[test]
    fn display_url_drops_query_fragment_and_credentials() {
        let u = Url::parse("https://user:pw@api.example/v1/jwks?secret=x#frag").unwrap();
        assert_eq!(display_url(&u), "https://api.example/v1/jwks");
    }

    #[test]
    fn backoff_grows_with_jitter_in_range() {
        for _ in 0..100 {
            let b1 = backoff(1);
            let b2 = backoff(2);
            assert!(b1 >= Duration::from_millis(100) && b1 < Duration::from_millis(200), "{b1:?}");
            assert!(b2 >= Duration::from_millis(200) && b2 < Duration::from_millis(400), "{b2:?}");
        }
        // Huge attempt numbers saturate instead of overflowing.
        assert!(backoff(u32::MAX) >= Duration::from_millis(100 * 1024));
    }

    #[test]
    fn error_kinds_are_stable_and_messages_have_no_query() {
        let e = HttpError::Timeout { url: "https://h/x".into(), timeout_ms: 5, attempts: 1 };
        assert_eq!((e.kind(), e.attempts()), ("timeout", 1));
        assert_eq!(e.to_string(), "request to https://h/x timed out after 5 ms");
        assert_eq!(HttpError::Connect { url: String::new(), detail: String::new(), attempts: 3 }.kind(), "connect");
        assert_eq!(HttpError::Network { url: String::new(), detail: String::new(), attempts: 1 }.kind(), "network");
        assert_eq!(HttpError::BodyTooLarge { url: String::new(), limit: 1, attempts: 1 }.kind(), "body-too-large");
        assert_eq!(HttpError::Redirect { url: String::new(), status: 302, attempts: 1 }.kind(), "redirect");
        assert_eq!(HttpError::Protocol { url: String::new(), detail: String::new(), attempts: 1 }.kind(), "protocol");
        assert_eq!(HttpError::Client { detail: String::new() }.attempts(), 0);
        assert_eq!(HttpError::InvalidRequest { url: String::new(), detail: String::new() }.kind(), "invalid-request");
        assert!(HttpError::Connect { url: String::new(), detail: String::new(), attempts: 1 }.is_transient());
        assert!(!HttpError::Protocol { url: String::new(), detail: String::new(), attempts: 1 }.is_transient());
    }

    #[test]
    fn response_helpers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        let r = Response { status: 429, headers, body: vec![], attempts: 1 };
        assert!(r.is_json());
        assert_eq!(r.retry_after(), Some(7));
        let r2 = Response { body: b"{\"token\":\"mt_CANARY\"}".to_vec(), ..r.clone() };
        assert!(!format!("{r2:?}").contains("CANARY"));
        assert_eq!(r.status_text(), "Too Many Requests");
        assert!(!r.is_success());
        let r = Response { status: 599, headers: HeaderMap::new(), body: vec![], attempts: 1 };
        assert_eq!(r.status_text(), "");
        assert!(!r.is_json());
        assert_eq!(r.retry_after(), None);
    }

    #[tokio::test]
    async fn an_unsupported_scheme_is_refused_without_retries() {
        let url = Url::parse("ftp://127.0.0.1/x?secret=1").unwrap();
        let e = send(Request { method: Method::GET, url: &url, bearer: None, body: None, retry: Retry::Idempotent, timeout: DEFAULT_TIMEOUT }).await.unwrap_err();
        assert_eq!(e.kind(), "invalid-request", "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[tokio::test]
    async fn a_secret_that_cannot_be_a_header_is_refused_without_showing_it() {
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        let bad = Secret::new("sk_test_CANARY\nInjected: yes");
        let e = send(Request { method: Method::GET, url: &url, bearer: Some(&bad), body: None, retry: Retry::Idempotent, timeout: DEFAULT_TIMEOUT }).await.unwrap_err();
        assert_eq!(e.kind(), "client");
        assert!(!e.to_string().contains("CANARY"), "{e}");
    }

    #[test]
    fn the_shared_client_builds() {
        assert!(client().is_ok());
        assert!(USER_AGENT.starts_with("clerk-m2m-native/"));
    }
}

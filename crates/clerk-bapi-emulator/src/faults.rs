//! Fault injection: which route misbehaves, how, and for how many requests.
//!
//! A fault is set per [`Route`] and replaces any earlier fault on that route. It applies to the
//! next `times` requests (then clears itself) or, with `times: None`, until cleared. The HTTP side
//! of each fault lives in `routes::guard`; this module is the data model and the table.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Upper bounds that keep a fault from exhausting the machine running the tests.
pub mod limits {
    /// Longest `delay` (10 minutes).
    pub const MAX_DELAY_MS: u64 = 600_000;
    /// Largest `oversized` body (512 MiB; it is streamed, never held in memory).
    pub const MAX_OVERSIZED_BYTES: u64 = 512 * 1024 * 1024;
    /// Largest custom body for `status` / `non_json` (1 MiB).
    pub const MAX_BODY_BYTES: usize = 1024 * 1024;
    /// Largest `slow_drip` chunk.
    pub const MAX_DRIP_CHUNK: usize = 65_536;
    /// Longest pause between `slow_drip` chunks (10 s).
    pub const MAX_DRIP_INTERVAL_MS: u64 = 10_000;
}

/// The emulated endpoints that can be counted and faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `GET /v1/jwks`
    Jwks,
    /// `POST /m2m_tokens`
    M2mCreate,
    /// `GET /m2m_tokens`
    M2mList,
    /// `POST /m2m_tokens/{id}/revoke`
    M2mRevoke,
    /// `POST /m2m_tokens/verify`
    M2mVerify,
    /// `POST /oauth_applications/access_tokens/verify`
    OauthVerify,
    /// `POST /api_keys/verify`
    ApiKeyVerify,
    /// every `/v1/machines…` endpoint
    Machines,
}

impl Route {
    /// Every route, in a stable order.
    pub const ALL: [Route; 8] = [
        Route::Jwks,
        Route::M2mCreate,
        Route::M2mList,
        Route::M2mRevoke,
        Route::M2mVerify,
        Route::OauthVerify,
        Route::ApiKeyVerify,
        Route::Machines,
    ];

    /// The route's name in the admin API and counters (`jwks`, `m2m_create`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Jwks => "jwks",
            Route::M2mCreate => "m2m_create",
            Route::M2mList => "m2m_list",
            Route::M2mRevoke => "m2m_revoke",
            Route::M2mVerify => "m2m_verify",
            Route::OauthVerify => "oauth_verify",
            Route::ApiKeyVerify => "api_key_verify",
            Route::Machines => "machines",
        }
    }

    /// Parses a route name (exact, lowercase).
    pub fn parse(name: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Route::Jwks => 0,
            Route::M2mCreate => 1,
            Route::M2mList => 2,
            Route::M2mRevoke => 3,
            Route::M2mVerify => 4,
            Route::OauthVerify => 5,
            Route::ApiKeyVerify => 6,
            Route::Machines => 7,
        }
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Retry-After` value: seconds or any header text (e.g. an HTTP date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RetryAfter {
    Seconds(u64),
    Text(String),
}

impl RetryAfter {
    pub fn header_text(&self) -> String {
        match self {
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::Text(t) => t.clone(),
        }
    }
}

/// How a route misbehaves. JSON form: `{"type":"status","status":503,"retryAfter":2}`
/// (field names camelCase; snake_case accepted too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Fault {
    /// Wait `ms`, then answer normally.
    Delay { ms: u64 },
    /// Accept the request and never answer (released, without an answer, at shutdown).
    Hang,
    /// Answer `status` without running the endpoint, with an optional `Retry-After` header and
    /// body (default: a Clerk-format error for that status) and content type (default JSON).
    Status {
        status: u16,
        #[serde(default, alias = "retry_after", skip_serializing_if = "Option::is_none")]
        retry_after: Option<RetryAfter>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, alias = "content_type", skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
    /// Answer a body that is not JSON (default an HTML error page) under
    /// `Content-Type: application/json` (overridable), status default 200.
    NonJson {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, alias = "content_type", skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
    /// Run the endpoint, then send only the first half of its JSON body (a complete HTTP message
    /// whose JSON is cut short).
    TruncatedJson,
    /// Answer exactly `bytes` bytes (`{"padding":"xxx…"}` when `bytes` ≥ 14), streamed, status
    /// default 200.
    Oversized {
        bytes: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// Run the endpoint, then send its body `chunk_bytes` (default 4) at a time with
    /// `interval_ms` (default 50) pauses; headers go out at once, `Content-Length` is exact.
    SlowDrip {
        #[serde(default, alias = "chunk_bytes", skip_serializing_if = "Option::is_none")]
        chunk_bytes: Option<usize>,
        #[serde(default, alias = "interval_ms", skip_serializing_if = "Option::is_none")]
        interval_ms: Option<u64>,
    },
    /// Close the connection (TCP reset) after reading the request, without any response bytes.
    Drop,
    /// Run the endpoint, send the status line, headers (with the full `Content-Length`) and the
    /// first `after_bytes` body bytes (default half), then reset the connection.
    Reset {
        #[serde(default, alias = "after_bytes", skip_serializing_if = "Option::is_none")]
        after_bytes: Option<usize>,
    },
    /// Answer a redirect (`status` default 302) to `location` without running the endpoint.
    Redirect {
        location: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
}

impl Fault {
    /// The fault's `type` name (`delay`, `hang`, …), as recorded in the request log.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Delay { .. } => "delay",
            Fault::Hang => "hang",
            Fault::Status { .. } => "status",
            Fault::NonJson { .. } => "non_json",
            Fault::TruncatedJson => "truncated_json",
            Fault::Oversized { .. } => "oversized",
            Fault::SlowDrip { .. } => "slow_drip",
            Fault::Drop => "drop",
            Fault::Reset { .. } => "reset",
            Fault::Redirect { .. } => "redirect",
        }
    }

    /// Checks every parameter against [`limits`] and HTTP rules, so applying the fault cannot fail.
    pub fn validate(&self) -> Result<(), String> {
        fn status_ok(status: u16, range: std::ops::RangeInclusive<u16>) -> Result<(), String> {
            if range.contains(&status) {
                Ok(())
            } else {
                Err(format!("status {status} must be in {}..={}", range.start(), range.end()))
            }
        }
        fn header_ok(name: &str, value: &str) -> Result<(), String> {
            axum::http::HeaderValue::from_str(value).map(|_| ()).map_err(|_| format!("{name} is not a valid header value"))
        }
        fn body_ok(body: &Option<String>) -> Result<(), String> {
            match body {
                Some(b) if b.len() > limits::MAX_BODY_BYTES => Err(format!("body must not exceed {} bytes", limits::MAX_BODY_BYTES)),
                _ => Ok(()),
            }
        }
        match self {
            Fault::Delay { ms } if *ms > limits::MAX_DELAY_MS => Err(format!("ms must not exceed {}", limits::MAX_DELAY_MS)),
            Fault::Delay { .. } | Fault::Hang | Fault::TruncatedJson | Fault::Drop | Fault::Reset { .. } => Ok(()),
            Fault::Status { status, retry_after, body, content_type } => {
                status_ok(*status, 100..=999)?;
                if let Some(r) = retry_after {
                    header_ok("retryAfter", &r.header_text())?;
                }
                if let Some(ct) = content_type {
                    header_ok("contentType", ct)?;
                }
                body_ok(body)
            }
            Fault::NonJson { status, body, content_type } => {
                status_ok(status.unwrap_or(200), 100..=999)?;
                if let Some(ct) = content_type {
                    header_ok("contentType", ct)?;
                }
                body_ok(body)
            }
            Fault::Oversized { bytes, status } => {
                status_ok(status.unwrap_or(200), 100..=999)?;
                if *bytes > limits::MAX_OVERSIZED_BYTES {
                    return Err(format!("bytes must not exceed {}", limits::MAX_OVERSIZED_BYTES));
                }
                Ok(())
            }
            Fault::SlowDrip { chunk_bytes, interval_ms } => {
                if let Some(c) = chunk_bytes {
                    if *c == 0 || *c > limits::MAX_DRIP_CHUNK {
                        return Err(format!("chunkBytes must be in 1..={}", limits::MAX_DRIP_CHUNK));
                    }
                }
                match interval_ms {
                    Some(i) if *i > limits::MAX_DRIP_INTERVAL_MS => Err(format!("intervalMs must not exceed {}", limits::MAX_DRIP_INTERVAL_MS)),
                    _ => Ok(()),
                }
            }
            Fault::Redirect { location, status } => {
                status_ok(status.unwrap_or(302), 300..=399)?;
                header_ok("location", location)
            }
        }
    }
}

/// A fault plus how many more requests it applies to (`None` = until cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(flatten)]
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// A fault for every request until cleared.
    pub fn always(fault: Fault) -> FaultRule {
        FaultRule { fault, times: None }
    }

    /// A fault for the next `n` requests only.
    pub fn times(fault: Fault, n: u32) -> FaultRule {
        FaultRule { fault, times: Some(n) }
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> FaultRule {
        FaultRule::always(fault)
    }
}

/// The active fault of each route.
#[derive(Debug, Default)]
pub struct FaultTable {
    rules: Mutex<BTreeMap<Route, FaultRule>>,
}

impl FaultTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Route, FaultRule>> {
        // A panic elsewhere while holding the lock leaves a consistent map; keep using it.
        self.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets (replaces) the fault of `route`. `times: Some(0)` clears it.
    pub fn set(&self, route: Route, rule: FaultRule) -> Result<(), String> {
        rule.fault.validate()?;
        let mut rules = self.lock();
        if rule.times == Some(0) {
            rules.remove(&route);
        } else {
            rules.insert(route, rule);
        }
        Ok(())
    }

    pub fn clear(&self, route: Route) {
        self.lock().remove(&route);
    }

    pub fn clear_all(&self) {
        self.lock().clear();
    }

    /// The fault to apply to one request of `route`, consuming one use of a counted fault.
    pub fn take(&self, route: Route) -> Option<Fault> {
        let mut rules = self.lock();
        let rule = rules.get_mut(&route)?;
        let fault = rule.fault.clone();
        if let Some(times) = rule.times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                rules.remove(&route);
            }
        }
        Some(fault)
    }

    /// The active rules, by route name.
    pub fn snapshot(&self) -> BTreeMap<String, FaultRule> {
        self.lock().iter().map(|(r, rule)| (r.as_str().to_owned(), rule.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn route_names_roundtrip() {
        for (i, r) in Route::ALL.into_iter().enumerate() {
            assert_eq!(Route::parse(r.as_str()), Some(r));
            assert_eq!(r.index(), i);
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.as_str()));
        }
        assert_eq!(Route::parse("JWKS"), None);
        assert_eq!(Route::parse(""), None);
    }

    #[test]
    fn fault_json_accepts_camel_and_snake() {
        let a: FaultRule = serde_json::from_value(json!({"type": "status", "status": 503, "retryAfter": 2, "times": 1})).unwrap();
        let b: FaultRule = serde_json::from_value(json!({"type": "status", "status": 503, "retry_after": 2, "times": 1})).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.fault, Fault::Status { status: 503, retry_after: Some(RetryAfter::Seconds(2)), body: None, content_type: None });
        let c: FaultRule = serde_json::from_value(json!({"type": "status", "status": 429, "retryAfter": "Wed, 21 Oct 2015 07:28:00 GMT"})).unwrap();
        assert_eq!(c.times, None);
        let d: FaultRule = serde_json::from_value(json!({"type": "slow_drip", "chunk_bytes": 2, "intervalMs": 5})).unwrap();
        assert_eq!(d.fault, Fault::SlowDrip { chunk_bytes: Some(2), interval_ms: Some(5) });
        // Serialization is camelCase with the tag.
        assert_eq!(serde_json::to_value(&d).unwrap(), json!({"type": "slow_drip", "chunkBytes": 2, "intervalMs": 5}));
        for bad in [json!({"type": "nope"}), json!({"status": 500}), json!({"type": "delay"}), json!({"type": "oversized", "bytes": -1})] {
            assert!(serde_json::from_value::<FaultRule>(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_kind_parses() {
        let all = [
            json!({"type": "delay", "ms": 5}),
            json!({"type": "hang"}),
            json!({"type": "status", "status": 500}),
            json!({"type": "non_json"}),
            json!({"type": "truncated_json"}),
            json!({"type": "oversized", "bytes": 10}),
            json!({"type": "slow_drip"}),
            json!({"type": "drop"}),
            json!({"type": "reset"}),
            json!({"type": "redirect", "location": "http://127.0.0.1:1/"}),
        ];
        for v in all {
            let rule: FaultRule = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(rule.fault.kind(), v["type"].as_str().unwrap());
            assert!(rule.fault.validate().is_ok());
        }
    }

    #[test]
    fn validation_boundaries() {
        assert!(Fault::Delay { ms: limits::MAX_DELAY_MS }.validate().is_ok());
        assert!(Fault::Delay { ms: limits::MAX_DELAY_MS + 1 }.validate().is_err());
        assert!(Fault::Status { status: 99, retry_after: None, body: None, content_type: None }.validate().is_err());
        assert!(Fault::Status { status: 1000, retry_after: None, body: None, content_type: None }.validate().is_err());
        assert!(Fault::Status { status: 999, retry_after: None, body: None, content_type: None }.validate().is_ok());
        let bad_header = Fault::Status { status: 503, retry_after: Some(RetryAfter::Text("a\nb".into())), body: None, content_type: None };
        assert!(bad_header.validate().is_err());
        let big = Fault::NonJson { status: None, body: Some("x".repeat(limits::MAX_BODY_BYTES + 1)), content_type: None };
        assert!(big.validate().is_err());
        assert!(Fault::NonJson { status: None, body: None, content_type: Some("text/html".into()) }.validate().is_ok());
        assert!(Fault::Oversized { bytes: limits::MAX_OVERSIZED_BYTES, status: None }.validate().is_ok());
        assert!(Fault::Oversized { bytes: limits::MAX_OVERSIZED_BYTES + 1, status: None }.validate().is_err());
        assert!(Fault::SlowDrip { chunk_bytes: Some(0), interval_ms: None }.validate().is_err());
        assert!(Fault::SlowDrip { chunk_bytes: Some(limits::MAX_DRIP_CHUNK + 1), interval_ms: None }.validate().is_err());
        assert!(Fault::SlowDrip { chunk_bytes: None, interval_ms: Some(limits::MAX_DRIP_INTERVAL_MS + 1) }.validate().is_err());
        assert!(Fault::Redirect { location: "http://x/".into(), status: Some(200) }.validate().is_err());
        assert!(Fault::Redirect { location: "http://x/".into(), status: Some(307) }.validate().is_ok());
        assert!(Fault::Redirect { location: "bad\r\nheader".into(), status: None }.validate().is_err());
    }

    #[test]
    fn table_counts_down_and_clears() {
        let table = FaultTable::default();
        table.set(Route::Jwks, FaultRule::times(Fault::Hang, 2)).unwrap();
        table.set(Route::M2mVerify, FaultRule::always(Fault::Drop)).unwrap();
        assert_eq!(table.take(Route::Jwks), Some(Fault::Hang));
        assert_eq!(table.snapshot()["jwks"].times, Some(1));
        assert_eq!(table.take(Route::Jwks), Some(Fault::Hang));
        assert_eq!(table.take(Route::Jwks), None);
        for _ in 0..5 {
            assert_eq!(table.take(Route::M2mVerify), Some(Fault::Drop));
        }
        assert_eq!(table.take(Route::M2mList), None);
        table.clear(Route::M2mVerify);
        assert_eq!(table.take(Route::M2mVerify), None);
        table.set(Route::Machines, FaultRule::always(Fault::Hang)).unwrap();
        table.set(Route::Machines, FaultRule::times(Fault::Hang, 0)).unwrap();
        assert!(table.snapshot().is_empty());
        table.set(Route::Machines, FaultRule::always(Fault::Hang)).unwrap();
        table.clear_all();
        assert!(table.snapshot().is_empty());
        assert!(table.set(Route::Jwks, FaultRule::always(Fault::Delay { ms: u64::MAX })).is_err());
    }
}

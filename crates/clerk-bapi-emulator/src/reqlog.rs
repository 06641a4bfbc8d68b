//! A bounded log of recent requests, for wire-format tests (which headers and body a client sent),
//! and the live feed of the dashboard.
//!
//! Only the first 7 characters of the Authorization credential are kept. Bodies are kept as
//! parsed JSON *verbatim* (a verify body contains the token being verified): the log exists so
//! tests can assert exact wire bodies, and it is only reachable in-process or through the local
//! admin API (Host-checked). `Debug` output omits bodies. The dashboard never sees this record:
//! it gets a [`RequestSummary`] — method, path, route, status, latency, caller, fault — with no
//! body, query, header or credential in it, broadcast to a bounded number of subscribers.

use crate::faults::Route;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Summaries a slow dashboard may fall behind by before it skips (and is told how many it missed).
const FEED_CAPACITY: usize = 512;

/// One request as the emulator saw it.
#[derive(Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// Increasing sequence number (never reused, survives `clear`).
    pub seq: u64,
    /// Emulator time (ms) when the request arrived.
    pub at_ms: i64,
    /// Route name, `None` for unknown paths / unsupported methods.
    pub route: Option<String>,
    pub method: String,
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    pub clerk_api_version: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    pub authorization_present: bool,
    /// Scheme word of the Authorization header (`Bearer`), if it has one.
    pub authorization_scheme: Option<String>,
    /// First 7 characters of the credential after the scheme (the whole header if no scheme).
    pub authorization_prefix: Option<String>,
    /// Body parsed as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
    pub body_length: usize,
    /// Response status; `None` while pending or when no response was sent (`hang`, `drop`).
    pub status: Option<u16>,
    /// The fault applied to this request (`type` name), if any.
    pub fault: Option<String>,
    /// Who called: `instance` (an instance secret key), `machine`, `unknown` (a credential this
    /// emulator does not know) or `None` (no credential).
    pub caller: Option<String>,
    /// The calling machine's id and name, when a machine secret key was used.
    pub caller_machine_id: Option<String>,
    pub caller_machine_name: Option<String>,
    /// Milliseconds from arrival to the response head (`None` while pending or when not sent).
    pub latency_ms: Option<f64>,
}

/// What the dashboard's live log shows of a request: nothing that could be a secret.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestSummary {
    pub seq: u64,
    pub at_ms: i64,
    pub route: Option<String>,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub latency_ms: Option<f64>,
    pub caller: Option<String>,
    pub caller_machine_id: Option<String>,
    pub caller_machine_name: Option<String>,
    pub fault: Option<String>,
}

impl fmt::Debug for RecordedRequest {
    /// Omits the body, which may contain a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("seq", &self.seq)
            .field("route", &self.route)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("authorization_prefix", &self.authorization_prefix)
            .field("body_length", &self.body_length)
            .field("status", &self.status)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

impl RecordedRequest {
    /// Builds an entry from request parts and the (already buffered) body.
    pub fn new(route: Option<Route>, parts: &Parts, body: &[u8], at_ms: i64, fault: Option<&str>) -> RecordedRequest {
        let auth = header_text(&parts.headers, "authorization");
        let (scheme, credential) = match auth.as_deref().map(|a| a.split_once(' ')) {
            Some(Some((scheme, rest))) => (Some(scheme.to_owned()), Some(rest.trim_start())),
            Some(None) => (None, auth.as_deref()),
            None => (None, None),
        };
        RecordedRequest {
            seq: 0,
            at_ms,
            route: route.map(|r| r.as_str().to_owned()),
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            clerk_api_version: header_text(&parts.headers, "clerk-api-version"),
            user_agent: header_text(&parts.headers, "user-agent"),
            content_type: header_text(&parts.headers, "content-type"),
            authorization_present: auth.is_some(),
            authorization_scheme: scheme,
            authorization_prefix: credential.map(|c| c.chars().take(7).collect()),
            body: serde_json::from_slice(body).ok(),
            body_length: body.len(),
            status: None,
            fault: fault.map(str::to_owned),
            caller: None,
            caller_machine_id: None,
            caller_machine_name: None,
            latency_ms: None,
        }
    }

    pub fn summary(&self) -> RequestSummary {
        RequestSummary {
            seq: self.seq,
            at_ms: self.at_ms,
            route: self.route.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            latency_ms: self.latency_ms,
            caller: self.caller.clone(),
            caller_machine_id: self.caller_machine_id.clone(),
            caller_machine_name: self.caller_machine_name.clone(),
            fault: self.fault.clone(),
        }
    }
}

/// Ring buffer of the last `capacity` requests, and the feed of their summaries.
#[derive(Debug)]
pub struct RequestLog {
    inner: Mutex<LogInner>,
    feed: broadcast::Sender<RequestSummary>,
}

#[derive(Debug)]
struct LogInner {
    entries: VecDeque<RecordedRequest>,
    capacity: usize,
    next_seq: u64,
}

impl RequestLog {
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog { inner: Mutex::new(LogInner { entries: VecDeque::new(), capacity, next_seq: 1 }), feed: broadcast::channel(FEED_CAPACITY).0 }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends an entry (evicting the oldest when full) and returns its sequence number.
    pub fn record(&self, mut entry: RecordedRequest) -> u64 {
        let mut inner = self.lock();
        let seq = inner.next_seq;
        inner.next_seq = inner.next_seq.saturating_add(1);
        entry.seq = seq;
        // No subscriber is not an error: the feed only serves open dashboards.
        let _ = self.feed.send(entry.summary());
        if inner.capacity == 0 {
            return seq;
        }
        while inner.entries.len() >= inner.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
        seq
    }

    /// Records the response status of entry `seq`, if it is still in the buffer.
    pub fn set_status(&self, seq: u64, status: u16) {
        self.finish(seq, Some(status), None);
    }

    /// Records how entry `seq` ended: its status (`None`: no response was sent) and latency.
    pub fn finish(&self, seq: u64, status: Option<u16>, latency_ms: Option<f64>) {
        let mut inner = self.lock();
        if let Some(e) = inner.entries.iter_mut().rev().find(|e| e.seq == seq) {
            e.status = status.or(e.status);
            e.latency_ms = latency_ms.or(e.latency_ms);
            let _ = self.feed.send(e.summary());
        }
    }

    /// The live feed of summaries (each request once when it arrives, again when it ends).
    pub fn subscribe(&self) -> broadcast::Receiver<RequestSummary> {
        self.feed.subscribe()
    }

    /// Summaries of the buffered requests, oldest first (what a dashboard shows on opening).
    pub fn summaries(&self) -> Vec<RequestSummary> {
        self.lock().entries.iter().map(RecordedRequest::summary).collect()
    }

    /// Oldest first.
    pub fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().entries.iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(auth: Option<&str>) -> Parts {
        let mut b = Request::builder()
            .method("POST")
            .uri("/m2m_tokens/verify?x=1")
            .header("Clerk-API-Version", "2026-05-12")
            .header("User-Agent", "@clerk/backend@3.25.0")
            .header("Content-Type", "application/json");
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn entry_captures_wire_details_and_redacts_auth() {
        let e = RecordedRequest::new(Some(Route::M2mVerify), &parts(Some("Bearer ak_secretvalue")), br#"{"token":"mt_x"}"#, 5, None);
        assert_eq!(e.route.as_deref(), Some("m2m_verify"));
        assert_eq!(e.method, "POST");
        assert_eq!(e.path, "/m2m_tokens/verify");
        assert_eq!(e.query.as_deref(), Some("x=1"));
        assert_eq!(e.clerk_api_version.as_deref(), Some("2026-05-12"));
        assert_eq!(e.user_agent.as_deref(), Some("@clerk/backend@3.25.0"));
        assert_eq!(e.content_type.as_deref(), Some("application/json"));
        assert!(e.authorization_present);
        assert_eq!(e.authorization_scheme.as_deref(), Some("Bearer"));
        assert_eq!(e.authorization_prefix.as_deref(), Some("ak_secr"));
        assert_eq!(e.body, Some(serde_json::json!({"token": "mt_x"})));
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("mt_x") && !dbg.contains("secretvalue"));
        let json = serde_json::to_value(&e).unwrap();
        assert!(!json.to_string().contains("secretvalue"));
        assert_eq!(json["authorizationPrefix"], "ak_secr");
    }

    #[test]
    fn entry_without_auth_or_scheme() {
        let e = RecordedRequest::new(None, &parts(None), b"not json", 0, Some("drop"));
        assert!(!e.authorization_present);
        assert_eq!(e.authorization_prefix, None);
        assert_eq!(e.body, None);
        assert_eq!(e.body_length, 8);
        assert_eq!(e.fault.as_deref(), Some("drop"));
        let e = RecordedRequest::new(None, &parts(Some("mt_abcdefghij")), b"", 0, None);
        assert_eq!(e.authorization_scheme, None);
        assert_eq!(e.authorization_prefix.as_deref(), Some("mt_abcd"));
    }

    #[test]
    fn summaries_carry_nothing_secret_and_are_broadcast() {
        let log = RequestLog::new(10);
        let mut feed = log.subscribe();
        let mut e = RecordedRequest::new(Some(Route::M2mVerify), &parts(Some("Bearer ak_secretvalue")), br#"{"token":"mt_secret"}"#, 5, None);
        e.caller = Some("machine".into());
        e.caller_machine_name = Some("orders".into());
        let seq = log.record(e);
        log.finish(seq, Some(200), Some(1.5));
        let (first, done) = (feed.try_recv().unwrap(), feed.try_recv().unwrap());
        assert_eq!((first.status, done.status, done.latency_ms), (None, Some(200), Some(1.5)));
        let text = serde_json::to_string(&log.summaries()).unwrap();
        assert!(text.contains("orders") && text.contains("/m2m_tokens/verify"));
        for secret in ["mt_secret", "ak_secr", "x=1", "2026-05-12"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        log.finish(999, Some(500), None); // evicted or unknown: nothing sent
        assert!(feed.try_recv().is_err());
    }

    #[test]
    fn log_is_bounded_and_tracks_status() {
        let log = RequestLog::new(3);
        let p = parts(None);
        let seqs: Vec<u64> = (0..5).map(|i| log.record(RecordedRequest::new(None, &p, b"", i, None))).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        let snap = log.snapshot();
        assert_eq!(snap.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        log.set_status(4, 201);
        log.set_status(1, 500); // evicted: ignored
        assert_eq!(log.snapshot()[1].status, Some(201));
        log.clear();
        assert!(log.snapshot().is_empty());
        assert_eq!(log.record(RecordedRequest::new(None, &p, b"", 0, None)), 6);
        let none = RequestLog::new(0);
        none.record(RecordedRequest::new(None, &p, b"", 0, None));
        assert!(none.snapshot().is_empty());
    }
}

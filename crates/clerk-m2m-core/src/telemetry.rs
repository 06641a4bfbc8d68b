//! What the core tells operators about its HTTP requests: one record per request
//! ([`HttpEvent`]), and process-wide counters of those requests with a latency histogram
//! ([`HttpMetrics`]). (Outcome counts live with the verifier: `outcome_counts.rs`.)
//!
//! HTTP records reach JavaScript only when it asks: a caller that wants them runs its
//! verification inside [`collect_http_events`] (a tokio task-local list, so concurrent
//! verifications never see each other's requests, and a request made by a single-flight
//! leader is reported to the leader only). Outside such a scope [`record_http`] only
//! bumps atomic counters: nothing is allocated, nothing crosses the boundary.
//!
//! Nothing here holds a URL: a request is named by its route template (`/v1/jwks`,
//! `/m2m_tokens/verify`, `/m2m_tokens/{id}/revoke`), never by ids or query strings.

use serde::Serialize;
use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use url::Url;

/// Records kept per verification at most (a JWKS fetch and an opaque verify, each with its
/// own retries inside one record, never come close).
pub const MAX_EVENTS_PER_SCOPE: usize = 16;

/// One request as `send()` saw it: all its attempts, retries and backoff included.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvent {
    pub method: &'static str,
    /// The route template ([`route_template`]).
    pub route: &'static str,
    /// The final status, when a response head arrived.
    pub status: Option<u16>,
    pub attempts: u32,
    /// Wall-clock start (ms since the epoch) and duration (ms), for spans drawn after the fact.
    pub started_at: f64,
    pub duration_ms: f64,
    /// `Retry-After` of the final response, in seconds.
    pub retry_after: Option<u64>,
    /// The transport failure's kind (`timeout`, `connect`…) when no usable response came back.
    pub error: Option<&'static str>,
}

/// The Backend API routes this package calls, as templates (`{id}` for the one id segment).
const ROUTES: [&str; 7] = [
    "/{version}/jwks",
    "/m2m_tokens/verify",
    "/m2m_tokens/{id}/revoke",
    "/m2m_tokens",
    "/oauth_applications/access_tokens/verify",
    "/api_keys/verify",
    "other",
];
const OTHER_ROUTE: usize = ROUTES.len() - 1;

/// The template of a request URL, matched on the tail of its path (an `apiUrl` may carry a
/// path prefix). The JWKS route keeps its version segment when it is the usual `v1`.
pub fn route_template(url: &Url) -> &'static str {
    route_name(route_index(url))
}

fn route_name(index: usize) -> &'static str {
    match index {
        0 => "/v1/jwks",
        i => ROUTES.get(i).copied().unwrap_or("other"),
    }
}

fn route_index(url: &Url) -> usize {
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    match segments.as_slice() {
        [.., "jwks"] => 0,
        [.., "m2m_tokens", "verify"] => 1,
        [.., "m2m_tokens", _, "revoke"] => 2,
        [.., "m2m_tokens"] => 3,
        [.., "oauth_applications", "access_tokens", "verify"] => 4,
        [.., "api_keys", "verify"] => 5,
        _ => OTHER_ROUTE,
    }
}

tokio::task_local! {
    static EVENTS: RefCell<Vec<HttpEvent>>;
}

/// Runs `work`, returning what it returns and the HTTP requests it made (in order, at most
/// [`MAX_EVENTS_PER_SCOPE`]).
pub async fn collect_http_events<F: Future>(work: F) -> (F::Output, Vec<HttpEvent>) {
    EVENTS
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let events = EVENTS.try_with(|e| std::mem::take(&mut *e.borrow_mut())).unwrap_or_default();
            (out, events)
        })
        .await
}

/// Latency histogram bucket bounds (ms), Prometheus-style (`le`), `+Inf` implied.
pub const LATENCY_BUCKETS_MS: [f64; 11] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0];

/// How a request ended, for counting: a status class, or a transport failure.
const RESULT_CLASSES: [&str; 5] = ["2xx", "3xx", "4xx", "5xx", "error"];

/// Process-wide request counters: per route × result class, and a latency histogram per route.
pub struct HttpMetrics {
    requests: [[AtomicU64; RESULT_CLASSES.len()]; ROUTES.len()],
    attempts: [AtomicU64; ROUTES.len()],
    /// Cumulative-free bucket counts; the last is `+Inf`.
    buckets: [[AtomicU64; LATENCY_BUCKETS_MS.len() + 1]; ROUTES.len()],
    /// Sum of durations in microseconds (an integer, so it can be an atomic).
    sum_us: [AtomicU64; ROUTES.len()],
}

static HTTP_METRICS: LazyLock<HttpMetrics> = LazyLock::new(|| HttpMetrics {
    requests: Default::default(),
    attempts: Default::default(),
    buckets: Default::default(),
    sum_us: Default::default(),
});

/// The process-wide request counters.
pub fn http_metrics() -> &'static HttpMetrics {
    &HTTP_METRICS
}

/// One route's counters, as read by [`HttpMetrics::snapshot`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteMetrics {
    pub route: &'static str,
    /// Requests by result class (`2xx`, `3xx`, `4xx`, `5xx`, `error`); classes never seen are left out.
    pub requests: Vec<(&'static str, u64)>,
    pub attempts: u64,
    /// Non-cumulative counts per bucket of [`LATENCY_BUCKETS_MS`], then `+Inf`.
    pub buckets: Vec<u64>,
    pub sum_ms: f64,
}

impl HttpMetrics {
    fn record(&self, route: usize, class: usize, attempts: u32, duration: Duration) {
        let route = route.min(OTHER_ROUTE);
        let ms = duration.as_secs_f64() * 1000.0;
        let bucket = LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(LATENCY_BUCKETS_MS.len());
        if let Some(row) = self.requests.get(route) {
            if let Some(c) = row.get(class) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(a) = self.attempts.get(route) {
            a.fetch_add(u64::from(attempts), Ordering::Relaxed);
        }
        if let Some(b) = self.buckets.get(route).and_then(|row| row.get(bucket)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(s) = self.sum_us.get(route) {
            s.fetch_add(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// Every route that has seen a request.
    pub fn snapshot(&self) -> Vec<RouteMetrics> {
        (0..ROUTES.len())
            .filter_map(|i| {
                let requests: Vec<(&'static str, u64)> = RESULT_CLASSES
                    .iter()
                    .zip(self.requests.get(i)?.iter())
                    .map(|(name, c)| (*name, c.load(Ordering::Relaxed)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                if requests.is_empty() {
                    return None;
                }
                Some(RouteMetrics {
                    route: route_name(i),
                    requests,
                    attempts: self.attempts.get(i)?.load(Ordering::Relaxed),
                    buckets: self.buckets.get(i)?.iter().map(|b| b.load(Ordering::Relaxed)).collect(),
                    sum_ms: self.sum_us.get(i)?.load(Ordering::Relaxed) as f64 / 1000.0,
                })
            })
            .collect()
    }
}

/// How a request ended, as [`crate::http::send`] reports it to [`record_http`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settled {
    /// The final status, when a response head arrived.
    pub status: Option<u16>,
    pub attempts: u32,
    pub retry_after: Option<u64>,
    /// The transport failure's kind when there is no usable response.
    pub error: Option<&'static str>,
}

/// Called by [`crate::http::send`] once per request (all attempts): counts it, and, inside a
/// [`collect_http_events`] scope, records it for the caller.
pub(crate) fn record_http(method: &reqwest::Method, url: &Url, settled: Settled, started: Instant, started_wall: SystemTime) {
    let duration = started.elapsed();
    let route = route_index(url);
    let Settled { status, attempts, retry_after, error } = settled;
    let class = match (error, status) {
        (Some(_), _) | (None, None) => 4,
        (None, Some(s)) => usize::from((s / 100).saturating_sub(2)).min(3),
    };
    http_metrics().record(route, class, attempts, duration);
    // Outside a scope (nobody asked): nothing more.
    let _ = EVENTS.try_with(|events| {
        let mut events = events.borrow_mut();
        if events.len() < MAX_EVENTS_PER_SCOPE {
            events.push(HttpEvent {
                method: method_name(method),
                route: route_name(route),
                status,
                attempts,
                started_at: started_wall.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0),
                duration_ms: duration.as_secs_f64() * 1000.0,
                retry_after,
                error,
            });
        }
    });
}

fn method_name(m: &reqwest::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates_without_ids_or_queries() {
        let t = |u: &str| route_template(&Url::parse(u).unwrap());
        assert_eq!(t("https://api.clerk.com/v1/jwks"), "/v1/jwks");
        assert_eq!(t("http://127.0.0.1:9/proxy/v1/jwks?x=1"), "/v1/jwks");
        assert_eq!(t("https://api.clerk.com/m2m_tokens/verify"), "/m2m_tokens/verify");
        assert_eq!(t("https://api.clerk.com/m2m_tokens/mt_SECRETISH/revoke"), "/m2m_tokens/{id}/revoke");
        assert_eq!(t("https://api.clerk.com/m2m_tokens?subject=mch_1"), "/m2m_tokens");
        assert_eq!(t("https://api.clerk.com/oauth_applications/access_tokens/verify"), "/oauth_applications/access_tokens/verify");
        assert_eq!(t("https://api.clerk.com/api_keys/verify"), "/api_keys/verify");
        assert_eq!(t("https://api.clerk.com/whatever/mt_x"), "other");
    }

    #[test]
    fn the_histogram_puts_durations_in_their_bucket() {
        let m = HttpMetrics { requests: Default::default(), attempts: Default::default(), buckets: Default::default(), sum_us: Default::default() };
        m.record(1, 0, 1, Duration::from_millis(3));
        m.record(1, 3, 3, Duration::from_millis(700));
        m.record(1, 4, 2, Duration::from_secs(60));
        let s = m.snapshot();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].route, "/m2m_tokens/verify");
        assert_eq!(s[0].requests, vec![("2xx", 1), ("5xx", 1), ("error", 1)]);
        assert_eq!(s[0].attempts, 6);
        assert_eq!(s[0].buckets[0], 1);
        assert_eq!(s[0].buckets[7], 1, "700 ms ≤ 1000");
        assert_eq!(s[0].buckets[LATENCY_BUCKETS_MS.len()], 1, "+Inf");
        assert!((s[0].sum_ms - 60_703.0).abs() < 1.0);
    }

    #[tokio::test]
    async fn events_are_collected_only_inside_a_scope_and_per_task() {
        let url = Url::parse("http://127.0.0.1:9/v1/jwks").unwrap();
        let ok = Settled { status: None, attempts: 3, retry_after: None, error: Some("connect") };
        // Outside a scope: counted, not recorded (and no panic).
        record_http(&reqwest::Method::GET, &url, ok, Instant::now(), SystemTime::now());
        let ((), events) = collect_http_events(async {
            record_http(&reqwest::Method::GET, &url, ok, Instant::now(), SystemTime::now());
            // Another task's scope is its own.
            let (url2, ok2) = (url.clone(), ok);
            let inner = tokio::spawn(collect_http_events(async move {
                record_http(&reqwest::Method::POST, &url2, ok2, Instant::now(), SystemTime::now());
            }));
            let ((), theirs) = inner.await.unwrap();
            assert_eq!(theirs.len(), 1);
            assert_eq!(theirs[0].method, "POST");
        })
        .await;
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!((e.method, e.route, e.status, e.attempts, e.error), ("GET", "/v1/jwks", None, 3, Some("connect")));
        let json = serde_json::to_string(e).unwrap();
        assert!(json.contains("\"durationMs\"") && json.contains("\"startedAt\"") && !json.contains("127.0.0.1"), "{json}");
    }

    #[tokio::test]
    async fn a_scope_keeps_a_bounded_number_of_events() {
        let url = Url::parse("http://h/m2m_tokens/verify").unwrap();
        let r = Settled { status: None, attempts: 0, retry_after: None, error: Some("client") };
        let ((), events) = collect_http_events(async {
            for _ in 0..100 {
                record_http(&reqwest::Method::POST, &url, r, Instant::now(), SystemTime::now());
            }
        })
        .await;
        assert_eq!(events.len(), MAX_EVENTS_PER_SCOPE);
    }
}

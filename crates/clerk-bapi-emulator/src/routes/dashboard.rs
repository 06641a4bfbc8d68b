//! The dashboard: one page, its script and its stylesheet, compiled into the emulator (no CDN,
//! works offline), and the live event stream it listens to.
//!
//! The page carries the emulator's token (for [`crate::access::TOKEN_HEADER`]) in a `<meta>`
//! tag: only a page served from the emulator itself can read it, never one of another origin.
//! The Content-Security-Policy allows nothing but the emulator's own script, style and API.

use crate::app::App;
use crate::errors::ApiError;
use crate::reqlog::RequestSummary;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::stream::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

const PAGE: &str = include_str!("../../dashboard/index.html");
const SCRIPT: &str = include_str!("../../dashboard/app.js");
const STYLE: &str = include_str!("../../dashboard/app.css");
/// Where the page's `<meta name="emulator-token">` gets the token.
const TOKEN_SLOT: &str = "{{EMULATOR_TOKEN}}";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Least time between two "changed" events of one stream (changes in between are coalesced).
const CHANGED_EVERY: Duration = Duration::from_millis(200);
/// A comment line this often keeps proxies and the browser from timing the stream out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

pub async fn page(State(app): State<App>) -> Response {
    // The token is base62 (`ids::secret`): nothing in it needs HTML escaping.
    asset("text/html; charset=utf-8", PAGE.replace(TOKEN_SLOT, app.access.token()))
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /` from a browser is sent to the dashboard; anything else gets the usual unmatched-path 404.
pub async fn root(State(app): State<App>, req: axum::extract::Request) -> Response {
    let wants_html = req.method() == axum::http::Method::GET && req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_html && app.access.host_allowed(req.headers().get(header::HOST).and_then(|h| h.to_str().ok())) {
        return Redirect::to(crate::app::DASHBOARD_PATH).into_response();
    }
    super::guard::unmatched(&app, req, ApiError::not_found("Resource")).await
}

/// One dashboard's stream: what was buffered when it opened, then each request as it starts and
/// ends, a `changed` event when the state changes, and `lagged` when it fell behind.
struct Feed {
    backlog: VecDeque<RequestSummary>,
    requests: broadcast::Receiver<RequestSummary>,
    changes: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    last_changed: Instant,
    _slot: crate::app::SubscriberSlot,
}

fn request_event(summary: &RequestSummary) -> Event {
    Event::default().event("request").data(serde_json::to_string(summary).unwrap_or_else(|_| "{}".into()))
}

/// Resolves once the emulator stops. Returns `()` so no `watch::Ref` (not `Send`) is held.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

impl Feed {
    async fn next(&mut self) -> Option<Event> {
        if let Some(summary) = self.backlog.pop_front() {
            return Some(request_event(&summary));
        }
        tokio::select! {
            biased;
            _ = stopped(&mut self.stop) => None,
            received = self.requests.recv() => match received {
                Ok(summary) => Some(request_event(&summary)),
                Err(RecvError::Lagged(missed)) => Some(Event::default().event("lagged").data(missed.to_string())),
                Err(RecvError::Closed) => None,
            },
            changed = self.changes.changed() => {
                changed.ok()?;
                tokio::time::sleep_until(self.last_changed + CHANGED_EVERY).await;
                self.last_changed = Instant::now();
                let version = *self.changes.borrow_and_update();
                Some(Event::default().event("changed").data(version.to_string()))
            }
        }
    }
}

/// `GET /__emulator/events`: the live request log and change notices (server-sent events), for
/// at most [`crate::app::MAX_EVENT_SUBSCRIBERS`] dashboards at once.
pub async fn events(State(app): State<App>) -> Response {
    let Some(slot) = app.try_subscribe() else {
        let mut e = ApiError::refused("too_many_dashboards", format!("At most {} dashboards may follow the live log at once.", crate::app::MAX_EVENT_SUBSCRIBERS));
        e.status = StatusCode::SERVICE_UNAVAILABLE;
        return e.into_response();
    };
    // Subscribe before reading the backlog, so nothing falls between the two (the page keys
    // rows by `seq`, so a request seen twice is shown once).
    let requests = app.log.subscribe();
    let mut changes = app.changes();
    changes.borrow_and_update();
    let feed = Feed { backlog: app.log.summaries().into(), requests, changes, stop: app.shutdown_rx(), last_changed: Instant::now(), _slot: slot };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move { feed.next().await.map(|event| (Ok::<_, Infallible>(event), feed)) });
    sse_response(stream)
}

fn sse_response(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    let mut response = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    let headers: &mut HeaderMap = response.headers_mut();
    // Tell buffering proxies to pass events through at once.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

//! The middleware in front of the dashboard and the admin API: the Host and CSRF rules of
//! [`crate::access`], no caching of answers that hold secrets, and a change notice (for the
//! dashboard and the state file) after every successful state-changing request.

use crate::app::App;
use crate::errors::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn protect(State(app): State<App>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if !app.access.host_allowed(host) {
        return ApiError::refused(
            "host_not_allowed",
            "The emulator's dashboard and admin API answer only requests addressed to it by IP address or localhost (a defence against DNS rebinding); start it with --allow-host NAME to add a name.",
        )
        .into_response();
    }
    if !app.access.csrf_ok(req.method(), req.headers()) {
        return ApiError::refused("emulator_token_missing", "A browser request that changes the emulator's state must carry the emulator's token header (the dashboard sends it): a defence against other pages forging requests.").into_response();
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut response = next.run(req).await;
    if changes_state && response.status().is_success() {
        app.changed();
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

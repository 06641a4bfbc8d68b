//! The HTTP surface, built by [`app`]: the emulated Backend API routes (each behind the
//! counting/fault [`guard`]), the admin API and the dashboard (behind [`protect`]'s Host and CSRF
//! rules), and Clerk-format 404/405 fallbacks. Routes are tested in-process with
//! `tower::ServiceExt::oneshot` on `app(…)`, and over real sockets in `tests/`.

pub mod admin;
pub mod api;
pub mod dashboard;
pub mod guard;
pub mod input;
pub mod instances;
pub mod machines;
pub mod protect;

use crate::app::App;
use crate::errors::ApiError;
use crate::faults::Route;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use guard::RouteCtx;

/// Wraps an endpoint in the guard of `route`.
fn guarded(app: &App, route: Route, endpoint: MethodRouter<App>) -> MethodRouter<App> {
    endpoint.route_layer(from_fn_with_state(RouteCtx { app: app.clone(), route }, guard::guard))
}

async fn not_found(State(app): State<App>, req: Request) -> Response {
    guard::unmatched(&app, req, ApiError::not_found("Resource")).await
}

async fn method_not_allowed(State(app): State<App>, req: Request) -> Response {
    guard::unmatched(&app, req, ApiError::method_not_allowed()).await
}

/// The emulated Backend API (`/v1/jwks`, `/m2m_tokens…`, `/v1/machines…`, verify endpoints).
fn backend_api(a: &App) -> Router<App> {
    Router::new()
        .route("/v1/jwks", guarded(a, Route::Jwks, get(api::jwks)))
        .route("/m2m_tokens", guarded(a, Route::M2mCreate, post(api::create_m2m)).merge(guarded(a, Route::M2mList, get(api::list_m2m))))
        .route("/m2m_tokens/verify", guarded(a, Route::M2mVerify, post(api::verify_m2m)))
        .route("/m2m_tokens/{id}/revoke", guarded(a, Route::M2mRevoke, post(api::revoke_m2m)))
        .route("/oauth_applications/access_tokens/verify", guarded(a, Route::OauthVerify, post(api::verify_oauth)))
        .route("/api_keys/verify", guarded(a, Route::ApiKeyVerify, post(api::verify_api_key)))
        .route("/v1/machines", guarded(a, Route::Machines, get(machines::list).post(machines::create)))
        .route("/v1/machines/{id}", guarded(a, Route::Machines, get(machines::get).patch(machines::update).delete(machines::delete)))
        .route("/v1/machines/{id}/secret_key", guarded(a, Route::Machines, get(machines::secret_key)))
        .route("/v1/machines/{id}/secret_key/rotate", guarded(a, Route::Machines, post(machines::rotate_secret_key)))
        .route("/v1/machines/{id}/scopes", guarded(a, Route::Machines, post(machines::create_scope)))
        .route("/v1/machines/{id}/scopes/{other}", guarded(a, Route::Machines, delete(machines::delete_scope)))
}

/// The admin API and the dashboard (`/__emulator/…`): not counted, faulted or logged.
fn admin_api(a: &App) -> Router<App> {
    let i = "/__emulator/instances/{instance}";
    Router::new()
        .route("/__emulator/ui", get(dashboard::page))
        .route("/__emulator/ui/app.js", get(dashboard::script))
        .route("/__emulator/ui/app.css", get(dashboard::style))
        .route("/__emulator/events", get(dashboard::events))
        .route("/__emulator/info", get(admin::info))
        .route("/__emulator/faults", get(admin::list_faults).delete(admin::clear_faults))
        .route("/__emulator/faults/{route}", put(admin::set_fault).post(admin::set_fault).delete(admin::clear_fault))
        .route("/__emulator/counters", get(admin::counters).delete(admin::reset_counters))
        .route("/__emulator/requests", get(admin::requests).delete(admin::clear_requests))
        .route("/__emulator/requests/summaries", get(admin::request_summaries))
        .route("/__emulator/clock", get(admin::clock).put(admin::set_clock))
        .route(&format!("{i}/keys"), post(instances::add_key))
        .route(&format!("{i}/keys/{{kid}}"), delete(instances::retire_key))
        .route(&format!("{i}/settings"), put(instances::settings))
        .route(&format!("{i}/machines"), post(instances::create_machine))
        .route(&format!("{i}/machines/{{machine}}"), patch(instances::update_machine).delete(instances::delete_machine))
        .route(&format!("{i}/machines/{{machine}}/scopes"), post(instances::add_scope))
        .route(&format!("{i}/machines/{{machine}}/scopes/{{other}}"), delete(instances::delete_scope))
        .route(&format!("{i}/machines/{{machine}}/secret_key/rotate"), post(instances::rotate_machine_secret))
        .route(&format!("{i}/m2m_tokens"), get(instances::list_tokens).post(instances::mint_token))
        .route(&format!("{i}/m2m_tokens/{{id}}/revoke"), post(instances::revoke_token))
        .route(&format!("{i}/inspect"), post(instances::inspect))
        .route(&format!("{i}/oauth_tokens"), post(instances::seed_oauth))
        .route(&format!("{i}/api_keys"), post(instances::seed_api_key))
        .route(&format!("{i}/sign"), post(instances::sign))
        .route_layer(from_fn_with_state(a.clone(), protect::protect))
}

/// The emulator's whole router over `app`'s state.
pub fn app(app: App) -> Router {
    backend_api(&app)
        .merge(admin_api(&app))
        .route("/", axum::routing::any(dashboard::root))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

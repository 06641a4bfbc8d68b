//! The HTTP surface: emulated Backend API routes (each behind the counting/fault [`guard`]),
//! the admin API, and Clerk-format 404/405 fallbacks.

pub mod admin;
pub mod api;
pub mod guard;
pub mod input;
pub mod machines;

use crate::errors::ApiError;
use crate::faults::Route;
use crate::server::App;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{delete, get, post, put, MethodRouter};
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

pub(crate) fn router(app: App) -> Router {
    let a = &app;
    let api = Router::new()
        .route("/v1/jwks", guarded(a, Route::Jwks, get(api::jwks)))
        .route("/m2m_tokens", guarded(a, Route::M2mCreate, post(api::create_m2m)).merge(guarded(a, Route::M2mList, get(api::list_m2m))))
        .route("/m2m_tokens/verify", guarded(a, Route::M2mVerify, post(api::verify_m2m)))
        .route("/m2m_tokens/{id}/revoke", guarded(a, Route::M2mRevoke, post(api::revoke_m2m)))
        .route("/oauth_applications/access_tokens/verify", guarded(a, Route::OauthVerify, post(api::verify_oauth)))
        .route("/api_keys/verify", guarded(a, Route::ApiKeyVerify, post(api::verify_api_key)))
        .route("/v1/machines", guarded(a, Route::Machines, get(machines::list).post(machines::create)))
        .route("/v1/machines/{id}", guarded(a, Route::Machines, get(machines::get)))
        .route("/v1/machines/{id}/secret_key", guarded(a, Route::Machines, get(machines::secret_key)))
        .route("/v1/machines/{id}/scopes", guarded(a, Route::Machines, post(machines::create_scope)))
        .route("/v1/machines/{id}/scopes/{other}", guarded(a, Route::Machines, delete(machines::delete_scope)));
    let admin = Router::new()
        .route("/__emulator/info", get(admin::info))
        .route("/__emulator/faults", get(admin::list_faults).delete(admin::clear_faults))
        .route("/__emulator/faults/{route}", put(admin::set_fault).post(admin::set_fault).delete(admin::clear_fault))
        .route("/__emulator/counters", get(admin::counters).delete(admin::reset_counters))
        .route("/__emulator/requests", get(admin::requests).delete(admin::clear_requests))
        .route("/__emulator/clock", get(admin::clock).put(admin::set_clock))
        .route("/__emulator/instances/{instance}/keys", post(admin::add_key))
        .route("/__emulator/instances/{instance}/keys/{kid}", delete(admin::retire_key))
        .route("/__emulator/instances/{instance}/settings", put(admin::settings))
        .route("/__emulator/instances/{instance}/machines", post(admin::create_machine))
        .route("/__emulator/instances/{instance}/oauth_tokens", post(admin::seed_oauth))
        .route("/__emulator/instances/{instance}/api_keys", post(admin::seed_api_key))
        .route("/__emulator/instances/{instance}/sign", post(admin::sign));
    api.merge(admin).fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(app)
}

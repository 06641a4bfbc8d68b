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

#[cfg(test)]
mod tests {
    //! The router in-process (`oneshot`, as in axum's examples): what needs no socket.
    use crate::app::test_support;
    use axum::body::Body;
    use axum::http::{header, Method, Request, StatusCode};
    use http_body_util::BodyExt;
    use serde_json::{json, Value};
    use tower::ServiceExt;

    const HOST: &str = "127.0.0.1:4010";

    fn request(method: Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(path).header(header::HOST, HOST);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()
    }

    async fn send(app: &crate::app::App, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let res = super::app(app.clone()).oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
    }

    fn json_of(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[tokio::test]
    async fn admin_and_dashboard_refuse_other_hosts() {
        let app = test_support::app();
        for host in ["evil.example:4010", "127.0.0.1:9999", "rebind.127.0.0.1.nip.io:4010"] {
            let req = Request::builder().uri("/__emulator/info").header(header::HOST, host).body(Body::empty()).unwrap();
            let (status, _, body) = send(&app, req).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{host}");
            assert_eq!(json_of(&body)["errors"][0]["code"], "host_not_allowed");
            let page = Request::builder().uri("/__emulator/ui").header(header::HOST, host).body(Body::empty()).unwrap();
            assert_eq!(send(&app, page).await.0, StatusCode::FORBIDDEN);
        }
        for host in [HOST, "localhost:4010", "[::1]:4010"] {
            let req = Request::builder().uri("/__emulator/info").header(header::HOST, host).body(Body::empty()).unwrap();
            assert_eq!(send(&app, req).await.0, StatusCode::OK, "{host}");
        }
        // The emulated Backend API answers under any name (Docker service names, proxies).
        let jwks = Request::builder().uri("/v1/jwks").header(header::HOST, "emulator:4010").header(header::AUTHORIZATION, "Bearer sk_test_secret").body(Body::empty()).unwrap();
        assert_eq!(send(&app, jwks).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn browser_requests_that_change_state_need_the_token() {
        let app = test_support::app();
        let fault = || Some(json!({"type": "status", "status": 503}));
        let cross_site = [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")];
        let (status, _, body) = send(&app, request(Method::PUT, "/__emulator/faults/jwks", &cross_site, fault())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(json_of(&body)["errors"][0]["code"], "emulator_token_missing");
        assert!(app.faults.snapshot().is_empty(), "nothing changed");
        // A form post (no custom header possible) is refused too.
        let form = [("origin", "null"), ("content-type", "text/plain")];
        assert_eq!(send(&app, request(Method::POST, "/__emulator/instances/0/keys", &form, None)).await.0, StatusCode::FORBIDDEN);
        // Reading is allowed (another origin cannot read the answer anyway).
        assert_eq!(send(&app, request(Method::GET, "/__emulator/faults", &cross_site, None)).await.0, StatusCode::OK);
        // The page's own requests carry the token.
        let same_origin = [("origin", "http://127.0.0.1:4010"), ("sec-fetch-site", "same-origin"), ("x-clerk-emulator-token", "test-token")];
        assert_eq!(send(&app, request(Method::PUT, "/__emulator/faults/jwks", &same_origin, fault())).await.0, StatusCode::OK);
        let wrong = [("origin", "http://127.0.0.1:4010"), ("x-clerk-emulator-token", "test-tokeN")];
        assert_eq!(send(&app, request(Method::DELETE, "/__emulator/faults", &wrong, None)).await.0, StatusCode::FORBIDDEN);
        // Programs (no browser headers) are not CSRF: the existing admin API keeps working.
        assert_eq!(send(&app, request(Method::DELETE, "/__emulator/faults", &[], None)).await.0, StatusCode::OK);
        assert!(app.faults.snapshot().is_empty());
    }

    #[tokio::test]
    async fn the_dashboard_is_one_self_contained_page_with_its_token() {
        let app = test_support::app();
        let (status, headers, body) = send(&app, request(Method::GET, "/__emulator/ui", &[], None)).await;
        assert_eq!(status, StatusCode::OK);
        let page = String::from_utf8(body).unwrap();
        assert!(page.contains(r#"<meta name="emulator-token" content="test-token">"#));
        for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "url("] {
            assert!(!page.contains(remote), "no CDN, nothing off the emulator: {remote}");
        }
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        for (path, kind) in [("/__emulator/ui/app.js", "text/javascript"), ("/__emulator/ui/app.css", "text/css")] {
            let (status, headers, body) = send(&app, request(Method::GET, path, &[], None)).await;
            assert_eq!(status, StatusCode::OK);
            assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind));
            assert!(!String::from_utf8(body).unwrap().contains("https://"));
        }
        // `GET /` sends a browser to the page; an API client still gets Clerk's 404, counted.
        let (status, headers, _) = send(&app, request(Method::GET, "/", &[("accept", "text/html,*/*")], None)).await;
        assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/__emulator/ui"));
        let (status, _, body) = send(&app, request(Method::GET, "/", &[("accept", "application/json")], None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(json_of(&body)["errors"][0]["code"], "resource_not_found");
        assert_eq!(send(&app, request(Method::POST, "/", &[], None)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.counters.get(None), 2);
    }

    #[tokio::test]
    async fn the_dashboards_admin_api_names_machines_by_name_or_id() {
        let app = test_support::app();
        let a_id = app.state().instances[0].machines[0].id.clone();
        let (status, _, body) = send(&app, request(Method::PATCH, "/__emulator/instances/0/machines/c", &[], Some(json!({"name": "cron", "defaultTokenTtl": 30})))).await;
        assert_eq!(status, StatusCode::OK);
        let c = json_of(&body);
        assert_eq!((c["name"].as_str(), c["defaultTokenTtl"].as_u64()), (Some("cron"), Some(30)));
        let (_, _, body) = send(&app, request(Method::POST, "/__emulator/instances/0/machines/cron/scopes", &[], Some(json!({"to": "a"})))).await;
        assert_eq!(json_of(&body)["scopedMachines"], json!([a_id]));
        let (_, _, body) = send(&app, request(Method::POST, "/__emulator/instances/0/m2m_tokens", &[], Some(json!({"machine": "cron", "format": "jwt", "secondsUntilExpiration": 60})))).await;
        let t = json_of(&body);
        assert_eq!((t["machineName"].as_str(), t["scopeNames"][0].as_str(), t["format"].as_str()), (Some("cron"), Some("a"), Some("jwt")));
        let (_, _, body) = send(&app, request(Method::POST, "/__emulator/instances/0/inspect", &[], Some(json!({"token": t["token"]})))).await;
        assert_eq!(json_of(&body)["verifies"], true);
        let (_, _, body) = send(&app, request(Method::POST, &format!("/__emulator/instances/0/m2m_tokens/{}/revoke", t["id"].as_str().unwrap()), &[], Some(json!({"reason": "test"})))).await;
        assert_eq!(json_of(&body)["revocationReason"], "test");
        let (_, _, body) = send(&app, request(Method::GET, "/__emulator/instances/0/m2m_tokens?machine=cron&revoked=true", &[], None)).await;
        assert_eq!(json_of(&body)["totalCount"], 1);
        let (_, _, body) = send(&app, request(Method::POST, "/__emulator/instances/0/machines/cron/secret_key/rotate", &[], Some(json!({"previousTokenTtl": 60})))).await;
        assert!(json_of(&body)["previousSecretKeyExpiresAt"].as_i64().is_some());
        assert_eq!(send(&app, request(Method::DELETE, "/__emulator/instances/0/machines/cron", &[], None)).await.0, StatusCode::OK);
        for (method, path, body) in [
            (Method::PATCH, "/__emulator/instances/0/machines/ghost", Some(json!({"name": "x"}))),
            (Method::POST, "/__emulator/instances/0/m2m_tokens", Some(json!({"machine": "ghost"}))),
            (Method::GET, "/__emulator/instances/9/m2m_tokens", None),
        ] {
            assert_eq!(send(&app, request(method, path, &[], body)).await.0, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(send(&app, request(Method::POST, "/__emulator/instances/0/m2m_tokens", &[], Some(json!({"machine": "a", "format": "paseto"})))).await.0, StatusCode::BAD_REQUEST);
        // None of this is counted or logged: it is the owner's, not the Backend API's.
        assert_eq!(app.counters.snapshot().values().sum::<u64>(), 0);
        assert!(app.log.snapshot().is_empty());
    }
}

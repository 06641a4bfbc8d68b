//! Fault injection on every network path (JWKS, opaque verify, create, revoke,
//! list): each call ends within its deadline plus a small margin, with the
//! right error kind / status / code, and is retried only where allowed
//! (counted by the emulator). Catalogue rows K-05…K-11, O-04…O-08, O-13 (docs/SECURITY.md).

mod common;

use clerk_bapi_emulator::{Fault, InstanceConfig, RetryAfter, Route};
use clerk_m2m_core::bapi::{
    self, create_m2m_token, fetch_jwks, list_m2m_tokens, map_machine_error, revoke_m2m_token, verify_m2m_opaque, BapiConfig,
    CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams,
};
use clerk_m2m_core::TokenType;
use clerk_m2m_core::{MachineErrorCode, Reason};
use clerk_m2m_core::http::{self, Retry};
use clerk_m2m_core::Secret;
use common::{assert_bounded, closed_port_url, emulator_with, run};
use reqwest::Method;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "sk_test_CANARY_faults_0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Jwks,
    Verify,
    Create,
    Revoke,
    List,
}

const ALL: [Path; 5] = [Path::Jwks, Path::Verify, Path::Create, Path::Revoke, Path::List];

impl Path {
    fn route(self) -> Route {
        match self {
            Path::Jwks => Route::Jwks,
            Path::Verify => Route::M2mVerify,
            Path::Create => Route::M2mCreate,
            Path::Revoke => Route::M2mRevoke,
            Path::List => Route::M2mList,
        }
    }

    /// Read-only calls may be retried; create and revoke never.
    fn idempotent(self) -> bool {
        !matches!(self, Path::Create | Path::Revoke)
    }
}

/// What a call ended with, for either error type.
#[derive(Debug)]
struct Outcome {
    ok: bool,
    status: Option<u16>,
    kind: Option<&'static str>,
    retry_after: Option<u64>,
    /// The `handleClerkAPIError` code of the Backend API paths.
    code: Option<MachineErrorCode>,
    /// JWKS path: the TokenVerificationError reason.
    reason: Option<Reason>,
    message: String,
    elapsed: Duration,
    requests: u64,
}

struct Ctx {
    emu: clerk_bapi_emulator::EmulatorHandle,
    /// Instance secret key + webhook's machine key (create/list/revoke).
    cfg: BapiConfig,
    token: String,
    token_id: String,
    secrets: Vec<String>,
}

async fn ctx(timeout_ms: u64) -> Arc<Ctx> {
    let emu = emulator_with(vec![InstanceConfig::with_default_machines().secret_key(SECRET)]).await;
    let webhook = emu.machine("webhook").unwrap();
    let mut cfg = BapiConfig::new(url::Url::parse(emu.url()).unwrap());
    cfg.secret_key = Some(Secret::new(SECRET));
    cfg.machine_secret_key = Some(Secret::new(webhook.secret_key.clone()));
    cfg.timeout = Duration::from_millis(timeout_ms);
    let mut setup = cfg.clone();
    setup.timeout = Duration::from_secs(5);
    let created = create_m2m_token(&setup, &CreateM2mTokenParams::default()).await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let token_id = created["id"].as_str().unwrap().to_owned();
    let secrets = vec![SECRET.to_owned(), webhook.secret_key.clone(), token.clone()];
    emu.reset_counters();
    Arc::new(Ctx { emu, cfg, token, token_id, secrets })
}

async fn call(ctx: &Ctx, path: Path) -> Outcome {
    let start = Instant::now();
    let bapi_result = match path {
        Path::Jwks => {
            let r = fetch_jwks(&ctx.cfg).await;
            let elapsed = start.elapsed();
            return match r {
                Ok(_) => Outcome { ok: true, status: None, kind: None, retry_after: None, code: None, reason: None, message: String::new(), elapsed, requests: 0 },
                Err(e) => Outcome { ok: false, status: None, kind: None, retry_after: None, code: None, reason: Some(e.reason), message: e.message, elapsed, requests: 0 },
            };
        }
        Path::Verify => verify_m2m_opaque(&ctx.cfg, &ctx.token).await,
        Path::Create => create_m2m_token(&ctx.cfg, &CreateM2mTokenParams::default()).await,
        Path::Revoke => revoke_m2m_token(&ctx.cfg, &RevokeM2mTokenParams { m2m_token_id: ctx.token_id.clone(), ..Default::default() }).await,
        Path::List => list_m2m_tokens(&ctx.cfg, &ListM2mTokensParams::default()).await,
    };
    let elapsed = start.elapsed();
    match bapi_result {
        Ok(_) => Outcome { ok: true, status: None, kind: None, retry_after: None, code: None, reason: None, message: String::new(), elapsed, requests: 0 },
        Err(e) => {
            let m = map_machine_error(TokenType::M2MToken, &e, "Machine token not found");
            assert_eq!(m.action, None);
            assert_eq!(m.status, e.status);
            let message = format!("{} | {}", e.errors.first().map(|x| x.message.clone()).unwrap_or_default(), m.message);
            Outcome { ok: false, status: e.status, kind: e.kind, retry_after: e.retry_after, code: Some(m.code), reason: None, message, elapsed, requests: 0 }
        }
    }
}

/// Sets `fault` on every route (until cleared), calls every path concurrently,
/// and returns each outcome with the number of requests the emulator received.
async fn under_fault(fault: Fault, timeout_ms: u64) -> Vec<(Path, Outcome)> {
    let ctx = ctx(timeout_ms).await;
    for p in ALL {
        ctx.emu.set_fault(p.route(), fault.clone()).unwrap();
    }
    let mut set = tokio::task::JoinSet::new();
    for p in ALL {
        let ctx = ctx.clone();
        set.spawn(async move { (p, call(&ctx, p).await) });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        let (p, mut o) = r.unwrap();
        o.requests = ctx.emu.count(p.route());
        for s in &ctx.secrets {
            assert!(!o.message.contains(s.as_str()), "{p:?}: a secret leaked into {:?}", o.message);
        }
        assert!(o.elapsed <= Duration::from_millis(timeout_ms) + common::MARGIN, "{p:?} under {}: took {:?}", fault.kind(), o.elapsed);
        out.push((p, o));
    }
    match Arc::try_unwrap(ctx) {
        Ok(ctx) => ctx.emu.shutdown().await,
        Err(_) => panic!("context still shared"),
    }
    out.sort_by_key(|(p, _)| ALL.iter().position(|q| q == p));
    out
}

fn status(status: u16, retry_after: Option<u64>) -> Fault {
    Fault::Status { status, retry_after: retry_after.map(RetryAfter::Seconds), body: None, content_type: None }
}

/// Requests expected for a transient failure: 1 + 2 retries where allowed.
fn transient_attempts(p: Path) -> u64 {
    if p.idempotent() {
        3
    } else {
        1
    }
}

#[test]
fn status_500_is_retried_only_on_idempotent_calls() {
    run(async {
        for (p, o) in under_fault(status(500, None), 2500).await {
            assert!(!o.ok);
            assert_eq!(o.requests, transient_attempts(p), "{p:?}");
            match p {
                Path::Jwks => assert!(o.message.ends_with("/v1/jwks with code=500"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind, o.code), (Some(500), None, Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
            }
        }
    });
}

#[test]
fn status_503_with_a_long_retry_after_stops_at_once_and_exposes_it() {
    run(async {
        for (p, o) in under_fault(status(503, Some(7)), 2000).await {
            assert_eq!(o.requests, 1, "{p:?}: Retry-After 7 s does not fit in a 2 s deadline");
            match p {
                Path::Jwks => assert!(o.message.ends_with("with code=503"), "{}", o.message),
                _ => assert_eq!((o.status, o.retry_after, o.code), (Some(503), Some(7), Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
            }
        }
    });
}

#[test]
fn status_503_with_retry_after_zero_is_retried_where_allowed() {
    run(async {
        for (p, o) in under_fault(status(503, Some(0)), 2500).await {
            assert_eq!(o.requests, transient_attempts(p), "{p:?}");
            if p != Path::Jwks {
                assert_eq!((o.status, o.retry_after), (Some(503), Some(0)));
            }
        }
    });
}

#[test]
fn status_429_is_never_retried_and_exposes_retry_after() {
    run(async {
        for (p, o) in under_fault(status(429, Some(7)), 2000).await {
            assert_eq!(o.requests, 1, "{p:?}");
            match p {
                Path::Jwks => assert!(o.message.ends_with("with code=429"), "{}", o.message),
                _ => assert_eq!((o.status, o.retry_after, o.code), (Some(429), Some(7), Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
            }
        }
    });
}

#[test]
fn status_401_is_never_retried_and_maps_to_secret_key_invalid() {
    run(async {
        let fault = Fault::Status {
            status: 401,
            retry_after: None,
            body: Some(r#"{"errors":[{"code":"clerk_key_invalid","message":"Secret Key invalid"}],"clerk_trace_id":"tr_1"}"#.into()),
            content_type: None,
        };
        for (p, o) in under_fault(fault, 2000).await {
            assert_eq!(o.requests, 1, "{p:?}");
            match p {
                Path::Jwks => assert_eq!((o.reason, o.message.as_str()), (Some(Reason::InvalidSecretKey), "Secret Key invalid")),
                _ => assert_eq!((o.status, o.code, o.message.as_str()), (Some(401), Some(MachineErrorCode::InvalidSecretKey), "Secret Key invalid | Secret Key invalid"), "{p:?}"),
            }
        }
    });
}

fn assert_timed_out(results: Vec<(Path, Outcome)>, timeout_ms: u64) {
    for (p, o) in results {
        assert!(!o.ok);
        assert!(o.elapsed >= Duration::from_millis(timeout_ms), "{p:?} ended early: {:?}", o.elapsed);
        assert_eq!(o.requests, 1, "{p:?}");
        match p {
            Path::Jwks => assert!(o.message.contains(&format!("timed out after {timeout_ms} ms")), "{}", o.message),
            _ => assert_eq!((o.status, o.kind, o.code), (None, Some("timeout"), Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
        }
    }
}

#[test]
fn a_hung_server_is_cut_off_at_the_deadline() {
    run(async {
        assert_timed_out(under_fault(Fault::Hang, 600).await, 600);
    });
}

#[test]
fn a_slow_drip_is_cut_off_at_the_deadline() {
    run(async {
        assert_timed_out(under_fault(Fault::SlowDrip { chunk_bytes: Some(1), interval_ms: Some(100) }, 600).await, 600);
    });
}

#[test]
fn a_slow_but_timely_answer_succeeds() {
    run(async {
        for (p, o) in under_fault(Fault::Delay { ms: 200 }, 1500).await {
            assert!(o.ok, "{p:?}: {o:?}");
            assert_eq!(o.requests, 1);
        }
    });
}

fn assert_invalid_body(results: Vec<(Path, Outcome)>) {
    for (p, o) in results {
        assert_eq!(o.requests, 1, "{p:?}");
        match p {
            Path::Jwks => assert!(o.message.ends_with("the response is not valid JSON"), "{}", o.message),
            _ => assert_eq!((o.status, o.kind, o.code), (None, Some(bapi::KIND_INVALID_RESPONSE), Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
        }
    }
}

#[test]
fn garbage_under_a_json_content_type_is_an_error_not_data() {
    run(async {
        assert_invalid_body(under_fault(Fault::NonJson { status: None, body: None, content_type: None }, 1500).await);
    });
}

#[test]
fn a_text_success_body_is_an_error_not_data() {
    run(async {
        let results = under_fault(Fault::NonJson { status: Some(200), body: Some("success".into()), content_type: Some("text/plain".into()) }, 1500).await;
        for (p, o) in results {
            assert_eq!(o.requests, 1, "{p:?}");
            match p {
                // JWKS parses any 2xx body as JSON, like the reference: "success" is not JSON.
                Path::Jwks => assert!(o.message.ends_with("the response is not valid JSON"), "{}", o.message),
                _ => {
                    assert_eq!((o.status, o.kind), (None, Some(bapi::KIND_INVALID_RESPONSE)), "{p:?}");
                    assert!(o.message.contains("without a JSON body (content-type: text/plain)"), "{}", o.message);
                }
            }
        }
    });
}

#[test]
fn an_html_502_from_a_proxy_is_retried_where_allowed_and_keeps_its_status() {
    run(async {
        let results = under_fault(Fault::NonJson { status: Some(502), body: None, content_type: Some("text/html".into()) }, 2500).await;
        for (p, o) in results {
            assert_eq!(o.requests, transient_attempts(p), "{p:?}");
            match p {
                Path::Jwks => assert!(o.message.ends_with("with code=502"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind, o.code), (Some(502), None, Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
            }
        }
    });
}

#[test]
fn truncated_json_is_an_error() {
    run(async {
        assert_invalid_body(under_fault(Fault::TruncatedJson, 1500).await);
    });
}

#[test]
fn a_huge_body_is_refused_without_reading_it() {
    run(async {
        for (p, o) in under_fault(Fault::Oversized { bytes: 100 * 1024 * 1024, status: None }, 3000).await {
            assert_eq!(o.requests, 1, "{p:?}");
            assert!(o.elapsed < Duration::from_millis(1500), "{p:?} read too much: {:?}", o.elapsed);
            match p {
                Path::Jwks => assert!(o.message.contains("is larger than 1048576 bytes"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind), (None, Some("body-too-large")), "{p:?}"),
            }
        }
    });
}

#[test]
fn redirects_are_never_followed() {
    run(async {
        // The target would serve the same paths: following it would show up in the counters as a second request.
        let results = under_fault(Fault::Redirect { location: "/v1/jwks".into(), status: None }, 1500).await;
        for (p, o) in results {
            assert_eq!(o.requests, 1, "{p:?}");
            match p {
                Path::Jwks => assert!(o.message.ends_with("/v1/jwks with code=302"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind, o.code), (None, Some("redirect"), Some(MachineErrorCode::UnexpectedError)), "{p:?}"),
            }
        }
        let results = under_fault(Fault::Redirect { location: "http://127.0.0.1:1/".into(), status: Some(307) }, 1500).await;
        for (p, o) in results {
            assert_eq!(o.requests, 1, "{p:?}");
            if p == Path::Jwks {
                assert!(o.message.ends_with("with code=307"), "{}", o.message);
            }
        }
    });
}

#[test]
fn a_dropped_connection_is_retried_only_on_idempotent_calls() {
    run(async {
        for (p, o) in under_fault(Fault::Drop, 2500).await {
            assert_eq!(o.requests, transient_attempts(p), "{p:?}: create/revoke must never be sent twice (O-13)");
            match p {
                Path::Jwks => assert!(o.message.contains("failed before a response"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind), (None, Some("network")), "{p:?}"),
            }
        }
    });
}

#[test]
fn a_reset_in_the_middle_of_the_body_is_a_protocol_error() {
    run(async {
        for (p, o) in under_fault(Fault::Reset { after_bytes: None }, 1500).await {
            assert_eq!(o.requests, 1, "{p:?}");
            match p {
                Path::Jwks => assert!(o.message.contains("invalid HTTP response"), "{}", o.message),
                _ => assert_eq!((o.status, o.kind), (None, Some("protocol")), "{p:?}"),
            }
        }
    });
}

#[test]
fn connection_refused_is_a_connect_error_retried_only_where_allowed() {
    run(async {
        let url = closed_port_url();
        let mut cfg = BapiConfig::new(url::Url::parse(&url).unwrap());
        cfg.secret_key = Some(Secret::new(SECRET));
        cfg.timeout = Duration::from_millis(1500);
        let start = Instant::now();
        let e = fetch_jwks(&cfg).await.unwrap_err();
        assert_bounded(start, 1500, "jwks");
        assert_eq!(e.reason, Reason::RemoteJwkFailedToLoad);
        assert!(e.message.starts_with(&format!("Error loading Clerk JWKS: could not connect to {url}/v1/jwks")), "{}", e.message);
        assert!(!e.message.contains("CANARY"));

        for (name, r) in [
            ("verify", verify_m2m_opaque(&cfg, "mt_x").await),
            ("create", create_m2m_token(&cfg, &CreateM2mTokenParams::default()).await),
            ("revoke", revoke_m2m_token(&cfg, &RevokeM2mTokenParams { m2m_token_id: "mt_1".into(), ..Default::default() }).await),
            ("list", list_m2m_tokens(&cfg, &ListM2mTokensParams::default()).await),
        ] {
            let e = r.unwrap_err();
            assert_eq!((e.status, e.kind, e.status_text.as_str()), (None, Some("connect"), ""), "{name}");
            assert_eq!(e.errors[0].code, "unexpected_error");
            let m = map_machine_error(TokenType::M2MToken, &e, "Machine token not found");
            assert_eq!(m.full_message(), "Unexpected error (code=unexpected-error, status=n/a)");
        }

        // The attempt counts, seen at the HTTP layer (nothing listens to count them).
        let target = url::Url::parse(&format!("{url}/v1/jwks")).unwrap();
        for (retry, expected) in [(Retry::Idempotent, 3), (Retry::Never, 1)] {
            let start = Instant::now();
            let e = http::send(http::Request { method: Method::GET, url: &target, bearer: None, body: None, retry, timeout: Duration::from_millis(1500) }).await.unwrap_err();
            assert_bounded(start, 1500, "send");
            assert_eq!((e.kind(), e.attempts()), ("connect", expected), "{retry:?}");
        }
        // A deadline too short for the backoff: fewer attempts, the connect error (not a timeout) reported.
        let e = http::send(http::Request { method: Method::GET, url: &target, bearer: None, body: None, retry: Retry::Idempotent, timeout: Duration::from_millis(120) }).await.unwrap_err();
        assert_eq!(e.kind(), "connect");
        assert!(e.attempts() < 3, "{}", e.attempts());
    });
}

#[test]
fn a_healthy_server_answers_every_path_on_the_first_attempt() {
    run(async {
        let ctx = ctx(1500).await;
        for p in ALL {
            let o = call(&ctx, p).await;
            assert!(o.ok, "{p:?}: {o:?}");
            assert_eq!(ctx.emu.count(p.route()), 1, "{p:?}");
        }
        match Arc::try_unwrap(ctx) {
            Ok(ctx) => ctx.emu.shutdown().await,
            Err(_) => panic!("context still shared"),
        }
    });
}

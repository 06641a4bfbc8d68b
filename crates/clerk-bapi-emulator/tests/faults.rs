//! Every fault mode over real HTTP, plus counters and the request log.

mod common;

use clerk_bapi_emulator::{Emulator, Fault, FaultRule, RetryAfter, Route};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn status_fault(status: u16) -> Fault {
    Fault::Status { status, retry_after: None, body: None, content_type: None }
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let emu = start().await;
    let sk = emu.secret_key();
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Delay { ms: 300 }, 1)).unwrap();
    let t = Instant::now();
    let r = get(emu.url(), "/v1/jwks", Some(&sk)).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["keys"].is_array());
    // times = 1: the fault is gone and the next request is not delayed.
    assert!(emu.faults().is_empty());
    get(emu.url(), "/v1/jwks", Some(&sk)).await;
    let log = emu.requests();
    assert_eq!(log.iter().map(|r| r.fault.as_deref()).collect::<Vec<_>>(), [Some("delay"), None]);
    emu.shutdown().await;
}

#[tokio::test]
async fn hang_never_answers_and_does_not_block_shutdown() {
    let emu = start().await;
    let url = emu.url().to_owned();
    let sk = emu.secret_key();
    emu.set_fault(Route::M2mVerify, Fault::Hang).unwrap();
    // A client with a short timeout gives up.
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(400)).build().unwrap();
    let err = quick.post(format!("{url}/m2m_tokens/verify")).header("Authorization", format!("Bearer {sk}")).body(r#"{"token":"mt_x"}"#).send().await.unwrap_err();
    assert!(err.is_timeout());
    // A patient client is still waiting when the emulator shuts down: shutdown is prompt and the
    // client sees a closed connection, never a response.
    let patient = tokio::spawn({
        let url = url.clone();
        async move { try_call(&url, Method::POST, "/m2m_tokens/verify", Some(&sk), Some(r#"{"token":"mt_x"}"#)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!patient.is_finished());
    let hung = emu.requests().into_iter().filter(|r| r.fault.as_deref() == Some("hang")).count();
    assert_eq!(hung, 2);
    assert!(emu.requests().iter().all(|r| r.status.is_none()));
    let t = Instant::now();
    emu.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3), "shutdown took {:?}", t.elapsed());
    let result = tokio::time::timeout(Duration::from_secs(5), patient).await.unwrap().unwrap();
    assert!(result.is_err(), "a hung request must not get an answer");
    // The port is closed.
    assert!(try_call(&url, Method::GET, "/v1/jwks", None, None).await.is_err());
}

#[tokio::test]
async fn status_with_retry_after_and_bodies() {
    let emu = start().await;
    let url = emu.url();
    let webhook = emu.machine("webhook").unwrap();
    emu.set_fault(
        Route::M2mCreate,
        FaultRule::times(Fault::Status { status: 429, retry_after: Some(RetryAfter::Seconds(7)), body: None, content_type: None }, 1),
    )
    .unwrap();
    let r = post(url, "/m2m_tokens", Some(&webhook.secret_key), &json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.error_code(), "too_many_requests");
    assert!(r.json()["clerk_trace_id"].is_string());
    // The endpoint did not run: no token was minted.
    assert_eq!(get(url, "/m2m_tokens", Some(&webhook.secret_key)).await.json()["total_count"], 0);

    emu.set_fault(Route::M2mVerify, Fault::Status { status: 503, retry_after: Some(RetryAfter::Text("Wed, 21 Oct 2015 07:28:00 GMT".into())), body: Some("{\"custom\":true}".into()), content_type: None }).unwrap();
    let r = post(url, "/m2m_tokens/verify", None, &json!({})).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_eq!(r.json(), json!({"custom": true}));

    emu.set_fault(Route::M2mVerify, Fault::Status { status: 500, retry_after: None, body: Some("oops".into()), content_type: Some("text/plain".into()) }).unwrap();
    let r = post(url, "/m2m_tokens/verify", None, &json!({})).await;
    assert_eq!((r.status, r.content_type(), r.bytes.as_slice()), (StatusCode::INTERNAL_SERVER_ERROR, "text/plain", &b"oops"[..]));
    assert!(r.headers.get("retry-after").is_none());
    // Invalid faults are refused.
    assert!(emu.set_fault(Route::Jwks, status_fault(42)).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn non_json_and_truncated_json() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::NonJson { status: None, body: None, content_type: None }, 1)).unwrap();
    let r = get(url, "/v1/jwks", Some(&sk)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    assert!(serde_json::from_slice::<Value>(&r.bytes).is_err());
    assert!(String::from_utf8_lossy(&r.bytes).contains("<html>"));

    emu.set_fault(Route::Jwks, FaultRule::times(Fault::NonJson { status: Some(502), body: Some("not json".into()), content_type: Some("text/html".into()) }, 1)).unwrap();
    let r = get(url, "/v1/jwks", Some(&sk)).await;
    assert_eq!((r.status, r.content_type(), r.bytes.as_slice()), (StatusCode::BAD_GATEWAY, "text/html", &b"not json"[..]));

    let full = get(url, "/v1/jwks", Some(&sk)).await.bytes;
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::TruncatedJson, 1)).unwrap();
    let r = get(url, "/v1/jwks", Some(&sk)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.headers["content-length"].to_str().unwrap().parse::<usize>().unwrap(), r.bytes.len());
    assert_eq!(r.bytes.len(), full.len() / 2);
    assert!(full.starts_with(&r.bytes));
    assert!(serde_json::from_slice::<Value>(&r.bytes).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn oversized_body_is_exact() {
    let emu = start().await;
    let n: u64 = 3 * 1024 * 1024 + 17;
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Oversized { bytes: n, status: None }, 1)).unwrap();
    let r = get(emu.url(), "/v1/jwks", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-length"], n.to_string().as_str());
    assert_eq!(r.bytes.len() as u64, n);
    assert_eq!(r.json()["padding"].as_str().unwrap().len() as u64, n - 14);
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Oversized { bytes: 10, status: Some(500) }, 1)).unwrap();
    let r = get(emu.url(), "/v1/jwks", None).await;
    assert_eq!((r.status, r.bytes.as_slice()), (StatusCode::INTERNAL_SERVER_ERROR, &b"xxxxxxxxxx"[..]));
    emu.shutdown().await;
}

#[tokio::test]
async fn slow_drip_sends_headers_then_trickles_the_body() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let full: Value = get(url, "/v1/jwks", Some(&sk)).await.json();
    let len = full.to_string().len();
    let chunk = len.div_ceil(8); // 8 chunks, 7 pauses
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::SlowDrip { chunk_bytes: Some(chunk), interval_ms: Some(60) }, 1)).unwrap();
    let start = Instant::now();
    let res = client().get(format!("{url}/v1/jwks")).header("Authorization", format!("Bearer {sk}")).send().await.unwrap();
    let headers_at = start.elapsed();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], len.to_string().as_str());
    let body = res.bytes().await.unwrap();
    let total = start.elapsed();
    // Headers (with the first chunk) come at once; the 7 pauses all happen after them.
    assert!(total - headers_at >= Duration::from_millis(7 * 60), "headers at {headers_at:?}, total {total:?}");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), full);
    // Defaults (4 bytes / 50 ms) are accepted too.
    emu.set_fault(Route::M2mList, FaultRule::times(Fault::SlowDrip { chunk_bytes: None, interval_ms: Some(1) }, 1)).unwrap();
    assert_eq!(get(url, "/m2m_tokens", Some(&sk)).await.json()["total_count"], 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let emu = start().await;
    let sk = emu.secret_key();
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Drop, 2)).unwrap();
    for _ in 0..2 {
        let err = try_call(emu.url(), Method::GET, "/v1/jwks", Some(&sk), None).await.unwrap_err();
        assert!(!err.is_timeout(), "{err:?}");
        assert!(err.status().is_none());
    }
    assert_eq!(get(emu.url(), "/v1/jwks", Some(&sk)).await.status, StatusCode::OK);
    let log = emu.requests();
    assert_eq!(log.iter().filter(|r| r.fault.as_deref() == Some("drop") && r.status.is_none()).count(), 2);
    assert_eq!(log.last().unwrap().status, Some(200));
    assert_eq!(emu.count(Route::Jwks), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn reset_mid_response() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let full_len = get(url, "/v1/jwks", Some(&sk)).await.bytes.len();
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Reset { after_bytes: Some(10) }, 1)).unwrap();
    let res = client().get(format!("{url}/v1/jwks")).header("Authorization", format!("Bearer {sk}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], full_len.to_string().as_str());
    assert!(res.bytes().await.is_err(), "the body must be cut off");
    // Default: half the body, still an error for the client.
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Reset { after_bytes: None }, 1)).unwrap();
    let res = client().get(format!("{url}/v1/jwks")).header("Authorization", format!("Bearer {sk}")).send().await.unwrap();
    assert!(res.bytes().await.is_err());
    // after_bytes beyond the body still withholds the last byte.
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Reset { after_bytes: Some(1 << 30) }, 1)).unwrap();
    let res = client().get(format!("{url}/v1/jwks")).header("Authorization", format!("Bearer {sk}")).send().await.unwrap();
    assert!(res.bytes().await.is_err());
    assert_eq!(get(url, "/v1/jwks", Some(&sk)).await.status, StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test]
async fn redirect() {
    let emu = start().await;
    let url = emu.url();
    let target = format!("{url}/__emulator/info");
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Redirect { location: target.clone(), status: None }, 1)).unwrap();
    let r = get(url, "/v1/jwks", None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.headers["location"], target.as_str());
    // A client that follows redirects lands on the target.
    emu.set_fault(Route::Jwks, FaultRule::times(Fault::Redirect { location: target.clone(), status: Some(307) }, 1)).unwrap();
    let res = reqwest::Client::new().get(format!("{url}/v1/jwks")).send().await.unwrap();
    assert_eq!(res.url().as_str(), target);
    assert_eq!(res.status(), StatusCode::OK);
    assert!(emu.set_fault(Route::Jwks, Fault::Redirect { location: "x".into(), status: Some(200) }).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn fault_lifetimes_and_clearing() {
    let emu = start().await;
    let url = emu.url();
    emu.set_fault(Route::Jwks, FaultRule::times(status_fault(500), 2)).unwrap();
    emu.set_fault(Route::M2mList, status_fault(502)).unwrap();
    emu.set_fault(Route::Machines, status_fault(503)).unwrap();
    assert_eq!(emu.faults().len(), 3);
    let sk = emu.secret_key();
    let statuses: Vec<u16> = futures_statuses(url, "/v1/jwks", &sk, 3).await;
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(futures_statuses(url, "/m2m_tokens", &sk, 3).await, [502, 502, 502]);
    emu.clear_fault(Route::M2mList);
    assert_eq!(futures_statuses(url, "/m2m_tokens", &sk, 1).await, [200]);
    emu.clear_faults();
    assert_eq!(futures_statuses(url, "/v1/machines", &sk, 1).await, [200]);
    // Faults apply before authentication: even a keyless request gets the fault.
    emu.set_fault(Route::Jwks, FaultRule::times(status_fault(418), 1)).unwrap();
    assert_eq!(get(url, "/v1/jwks", None).await.status.as_u16(), 418);
    emu.shutdown().await;
}

async fn futures_statuses(url: &str, path: &str, key: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(get(url, path, Some(key)).await.status.as_u16());
    }
    out
}

#[tokio::test]
async fn every_route_counts_and_can_be_faulted() {
    let emu = start().await;
    let url = emu.url();
    let requests: [(Route, Method, &str); 8] = [
        (Route::Jwks, Method::GET, "/v1/jwks"),
        (Route::M2mCreate, Method::POST, "/m2m_tokens"),
        (Route::M2mList, Method::GET, "/m2m_tokens"),
        (Route::M2mRevoke, Method::POST, "/m2m_tokens/mt_x/revoke"),
        (Route::M2mVerify, Method::POST, "/m2m_tokens/verify"),
        (Route::OauthVerify, Method::POST, "/oauth_applications/access_tokens/verify"),
        (Route::ApiKeyVerify, Method::POST, "/api_keys/verify"),
        (Route::Machines, Method::GET, "/v1/machines/mch_x/secret_key"),
    ];
    for (route, method, path) in &requests {
        emu.set_fault(*route, FaultRule::times(status_fault(599), 1)).unwrap();
        assert_eq!(call(url, method.clone(), path, None, None).await.status.as_u16(), 599, "{route}");
        // Without the fault the same keyless request is a 401.
        assert_eq!(call(url, method.clone(), path, None, None).await.status, StatusCode::UNAUTHORIZED, "{route}");
        assert_eq!(emu.count(*route), 2, "{route}");
    }
    let counters = emu.counters();
    assert_eq!(counters.len(), 9);
    assert_eq!(counters["other"], 0);
    emu.reset_counters();
    assert!(emu.counters().values().all(|c| *c == 0));
    emu.shutdown().await;
}

#[tokio::test]
async fn request_log_captures_wire_details_and_is_bounded() {
    let emu = Emulator::builder().request_log_capacity(3).start().await.unwrap();
    let url = emu.url();
    let sk = emu.secret_key();
    post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": "mt_abc"})).await;
    let log = emu.requests();
    let e = log.last().unwrap();
    assert_eq!((e.method.as_str(), e.path.as_str(), e.route.as_deref()), ("POST", "/m2m_tokens/verify", Some("m2m_verify")));
    assert_eq!(e.clerk_api_version.as_deref(), Some("2026-05-12"));
    assert_eq!(e.user_agent.as_deref(), Some(UA));
    assert_eq!(e.content_type.as_deref(), Some("application/json"));
    assert!(e.authorization_present);
    assert_eq!(e.authorization_scheme.as_deref(), Some("Bearer"));
    assert_eq!(e.authorization_prefix.as_deref(), Some(&sk[..7]));
    assert_eq!(e.body, Some(json!({"token": "mt_abc"})));
    assert_eq!(e.status, Some(404));
    assert!(!format!("{e:?}").contains(&sk));
    get(url, "/m2m_tokens?subject=mch_1&limit=5", None).await;
    let e = emu.requests().pop().unwrap();
    assert_eq!(e.query.as_deref(), Some("subject=mch_1&limit=5"));
    assert!(!e.authorization_present);
    assert_eq!(e.body, None);
    get(url, "/nowhere", None).await;
    get(url, "/v1/jwks", None).await;
    let log = emu.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[1].route, None);
    assert_eq!(log[1].status, Some(404));
    emu.clear_requests();
    assert!(emu.requests().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn garbage_input_never_takes_the_server_down() {
    use rand::RngExt;
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let mk = emu.machine("trpc").unwrap().secret_key;
    let paths = ["/m2m_tokens", "/m2m_tokens/verify", "/m2m_tokens/%FF%FE/revoke", "/oauth_applications/access_tokens/verify", "/api_keys/verify", "/v1/machines", "/v1/machines/%00/scopes", "/m2m_tokens?limit=%FF&revoked=%00"];
    let mut rng = rand::rng();
    for i in 0..300 {
        let len = rng.random_range(0..200);
        let body: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let path = paths[i % paths.len()];
        let key = if i % 2 == 0 { &sk } else { &mk };
        // Blank bodies mean "no parameters" and may legitimately succeed (e.g. create).
        let parses_as_object = body.iter().all(u8::is_ascii_whitespace) || serde_json::from_slice::<Value>(&body).is_ok_and(|v| v.is_object());
        let res = client().post(format!("{url}{path}")).header("Authorization", format!("Bearer {key}")).body(body).send().await.unwrap();
        assert!(res.status().as_u16() < 500, "{path}: {}", res.status());
        if !parses_as_object {
            assert!(res.status().is_client_error(), "{path}: {}", res.status());
        }
        assert_eq!(res.headers()["content-type"], "application/json");
    }
    for body in ["{\"token\":\"\u{0}\"}", "{\"claims\":{\"a\":[[[[[[[[[[]]]]]]]]]]}}", "{\"seconds_until_expiration\":1e999}", "{\"seconds_until_expiration\":-0}", "{\"token\":\"a.b.c\"}", "{\"token\":\"e30.e30.e30\"}"] {
        for path in ["/m2m_tokens", "/m2m_tokens/verify"] {
            let r = call(url, Method::POST, path, Some(&mk), Some(body)).await;
            assert!(r.status.as_u16() < 500, "{path} {body}: {}", r.status);
        }
    }
    assert_eq!(get(url, "/v1/jwks", Some(&sk)).await.status, StatusCode::OK);
    emu.shutdown().await;
}

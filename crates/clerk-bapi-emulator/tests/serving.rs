//! What the server loop guarantees over real sockets: a slow client cannot hold a connection
//! (request timeout for the head and the body), and the dashboard's event stream delivers each
//! request as it happens, without secrets, to a bounded number of subscribers.

mod common;

use clerk_bapi_emulator::Emulator;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    let emu = Emulator::builder().request_timeout(Duration::from_millis(400)).start().await.unwrap();
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /v1/jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    // Keep trickling, one header line every 100 ms, never finishing the head.
    let mut closed_after = None;
    for i in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await {
            // A 408 or a plain close: either way the emulator hung up.
            if n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408") {
                closed_after = Some(started.elapsed());
                break;
            }
        }
    }
    let after = closed_after.expect("the connection stayed open for 4 s of trickling");
    assert!(after < Duration::from_secs(2), "{after:?}");
    // A client that does send its request on time is served as usual.
    assert_eq!(get(emu.url(), "/v1/jwks", Some(&emu.secret_key())).await.status, StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_a_408() {
    let emu = Emulator::builder().request_timeout(Duration::from_millis(300)).start().await.unwrap();
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    let key = emu.machine("webhook").unwrap().secret_key;
    let head = format!("POST /m2m_tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 5 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"));
    assert_eq!(emu.requests().last().unwrap().status, Some(408));
    emu.shutdown().await;
}

#[tokio::test]
async fn the_event_stream_shows_requests_as_they_happen_without_secrets() {
    let emu = start().await;
    let url = emu.url().to_owned();
    let webhook = emu.machine("webhook").unwrap();
    let mut events = client().get(format!("{url}/__emulator/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let t = mint(&url, &webhook.secret_key, json!({})).await;
    post(&url, "/m2m_tokens/verify", Some(&emu.machine("trpc").unwrap().secret_key), &json!({"token": t["token"]})).await;
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(seen.contains("\"route\":\"m2m_verify\"") && seen.contains("\"status\":200") && seen.matches("event: request").count() >= 4) {
        assert!(Instant::now() < deadline, "events so far: {seen}");
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_millis(500), events.chunk()).await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(seen.contains("\"callerMachineName\":\"webhook\""));
    assert!(seen.contains("\"callerMachineName\":\"trpc\""));
    assert!(seen.contains("event: changed"), "minting changes the state");
    for secret in [t["token"].as_str().unwrap(), &webhook.secret_key, &webhook.secret_key[..7]] {
        assert!(!seen.contains(secret), "{secret} leaked into the stream");
    }
    // Bounded: 16 dashboards at once; the 17th is told so.
    let mut open = Vec::new();
    for _ in 1..16 {
        open.push(client().get(format!("{url}/__emulator/events")).send().await.unwrap());
    }
    assert!(open.iter().all(|r| r.status() == StatusCode::OK));
    let refused = client().get(format!("{url}/__emulator/events")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(open);
    drop(events);
    // A closed stream frees its place.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = client().get(format!("{url}/__emulator/events")).send().await.unwrap();
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "places were not freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Streams end at shutdown (they do not hold it up).
    let started = Instant::now();
    emu.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2));
}

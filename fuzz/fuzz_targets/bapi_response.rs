//! Backend API response handling, end to end: a loopback HTTP server answers each call with a
//! response built from the input, and the real client (`http::send` through the public
//! `bapi::*` calls) reads, interprets and maps it; then the resource conversions run on
//! whatever came back. The response *interpreter* is private to `bapi.rs`, so this goes
//! through the socket (a few thousand executions per second).
//!
//! Input: byte 0 = status (from a table), byte 1 = content type (table), byte 2 = which call,
//! byte 3 = extra header (none / `Retry-After` / `cf-ray` / a redirect `Location`), then the body.
//!
//! Checks: never a panic; a 2xx JSON object is the only success; a 401 maps to
//! `secret-key-invalid`, a 404 to `token-invalid`, everything else to `unexpected-error`;
//! no secret appears in any error.
#![no_main]

use clerk_m2m_core::bapi::{
    self, BapiConfig, CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams,
};
use clerk_m2m_core::TokenType;
use clerk_m2m_core::MachineErrorCode;
use clerk_m2m_core::jwks::parse_jwks;
use clerk_m2m_core::api_error_to_json;
use clerk_m2m_core::internals::APIKey;
use clerk_m2m_core::{IdPOAuthAccessToken, M2MToken};
use clerk_m2m_core::Secret;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

const SECRET: &str = "sk_test_FUZZCANARY_0123456789abcdef";
const MACHINE_SECRET: &str = "ak_FUZZCANARY_0123456789abcdef";
const STATUSES: [u16; 16] = [
    200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 599,
];
const CONTENT_TYPES: [Option<&str>; 6] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("Application/JSON;charset=ISO-8859-1"),
    Some("text/html"),
    Some("application/problem+json"),
    None,
];

/// The next response the server sends.
static NEXT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

static SERVER: LazyLock<String> = LazyLock::new(|| {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            // Read the request head and body, then answer and close.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + length {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let response = NEXT.lock().map(|r| r.clone()).unwrap_or_default();
            let _ = stream.write_all(&response);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    url
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

fn config() -> BapiConfig {
    let mut cfg = BapiConfig::new(url::Url::parse(&SERVER).expect("url"));
    cfg.secret_key = Some(Secret::new(SECRET));
    cfg.machine_secret_key = Some(Secret::new(MACHINE_SECRET));
    // Shorter than the first retry backoff plus its budget: a 5xx is answered once, so every
    // execution costs one round trip.
    cfg.timeout = Duration::from_millis(140);
    cfg
}

fn response(status: u16, content_type: Option<&str>, extra: u8, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} Fuzz\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    match extra % 5 {
        1 => head.push_str(&format!("Retry-After: {}\r\n", extra / 5)),
        2 => head.push_str("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"),
        3 => head.push_str("cf-ray: 8a1b2c3d4e5f-AMS\r\n"),
        4 => head.push_str("Location: http://127.0.0.1:9/elsewhere\r\n"),
        _ => {}
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// No configured secret in `text`, unless the server's answer itself carried the marker (the
/// fuzzer learns it from this very comparison and may put it in a body or a trace id).
fn no_secret(text: &str, answer: &[u8]) {
    if answer.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
        return;
    }
    assert!(!text.contains(MARKER), "a secret leaked: {text}");
}

const MARKER: &str = "FUZZCANARY";

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let status = STATUSES[usize::from(data[0]) % STATUSES.len()];
    let content_type = CONTENT_TYPES[usize::from(data[1]) % CONTENT_TYPES.len()];
    let call = data[2] % 7;
    let body = &data[4..];
    *NEXT.lock().expect("lock") = response(status, content_type, data[3], body);
    let cfg = config();

    RUNTIME.block_on(async {
        if call == 6 {
            // JWKS: fetch, then the document parser.
            match bapi::fetch_jwks(&cfg).await {
                Ok(doc) => {
                    assert!((200..300).contains(&status));
                    let _ = parse_jwks(&doc, 100);
                }
                Err(e) => no_secret(&e.message, body),
            }
            return;
        }
        let result = match call {
            0 => bapi::verify_m2m_opaque(&cfg, "mt_fuzz").await,
            1 => bapi::verify_oauth_opaque(&cfg, "oat_fuzz").await,
            2 => bapi::verify_api_key(&cfg, "ak_fuzz").await,
            3 => {
                bapi::create_m2m_token(
                    &cfg,
                    &CreateM2mTokenParams {
                        seconds_until_expiration: Some(60.0),
                        ..Default::default()
                    },
                )
                .await
            }
            4 => {
                bapi::revoke_m2m_token(
                    &cfg,
                    &RevokeM2mTokenParams {
                        m2m_token_id: "mt_fuzz".into(),
                        ..Default::default()
                    },
                )
                .await
            }
            _ => {
                bapi::list_m2m_tokens(
                    &cfg,
                    &ListM2mTokensParams {
                        subject: Some("mch_fuzz".into()),
                        limit: Some(10.0),
                        ..Default::default()
                    },
                )
                .await
            }
        };
        match result {
            Ok(v) => {
                assert!((200..300).contains(&status), "success on {status}");
                assert!(v.is_object(), "a success is a JSON object");
                let _ = M2MToken::from_json(&v).to_json().to_string();
                let _ = IdPOAuthAccessToken::from_json(&v).to_json().to_string();
                let _ = APIKey::from_json(&v).to_json().to_string();
                if let Some(Value::Array(items)) = v.get("m2m_tokens") {
                    for item in items {
                        let _ = M2MToken::from_json(item).to_json();
                    }
                }
            }
            Err(e) => {
                let mapped = bapi::map_machine_error(TokenType::M2MToken, &e, "");
                let expected = match e.status {
                    Some(401) => MachineErrorCode::InvalidSecretKey,
                    Some(404) => MachineErrorCode::TokenInvalid,
                    _ => MachineErrorCode::UnexpectedError,
                };
                assert_eq!(mapped.code, expected);
                assert_eq!(mapped.status, e.status);
                if let Some(s) = e.status {
                    assert!(
                        !(200..300).contains(&s) && !(300..400).contains(&s),
                        "status {s} reported as an API error"
                    );
                }
                no_secret(&api_error_to_json(&e).to_string(), body);
                no_secret(&mapped.message, body);
            }
        }
    });
});

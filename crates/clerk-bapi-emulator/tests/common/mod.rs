//! Shared helpers for the integration tests: a real emulator on 127.0.0.1:0 and a reqwest client.
#![allow(dead_code)]

use clerk_bapi_emulator::{Emulator, EmulatorHandle};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

pub const UA: &str = "@clerk/backend@3.25.0";

pub async fn start() -> EmulatorHandle {
    Emulator::builder().start().await.expect("emulator starts")
}

/// A client that never follows redirects (tests look at the 302 itself) and never waits forever.
pub fn client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().unwrap()
}

/// A finished exchange.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// First error code of a Clerk error body.
    pub fn error_code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends a request the way @clerk/backend does (Clerk-API-Version, User-Agent, JSON content type).
pub async fn call(url: &str, method: Method, path: &str, key: Option<&str>, body: Option<&str>) -> Reply {
    try_call(url, method, path, key, body).await.expect("request completes")
}

pub async fn try_call(url: &str, method: Method, path: &str, key: Option<&str>, body: Option<&str>) -> Result<Reply, reqwest::Error> {
    let mut req = client()
        .request(method, format!("{url}{path}"))
        .header("Clerk-API-Version", "2026-05-12")
        .header("User-Agent", UA)
        .header("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let res = req.send().await?;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await?.to_vec();
    Ok(Reply { status, headers, bytes })
}

pub async fn get(url: &str, path: &str, key: Option<&str>) -> Reply {
    call(url, Method::GET, path, key, None).await
}

pub async fn post(url: &str, path: &str, key: Option<&str>, body: &Value) -> Reply {
    call(url, Method::POST, path, key, Some(&body.to_string())).await
}

/// Mints a token for `machine_key` and returns the create response body.
pub async fn mint(url: &str, machine_key: &str, body: Value) -> Value {
    let r = post(url, "/m2m_tokens", Some(machine_key), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()
}

/// Admin API call (no auth).
pub async fn admin(url: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    let b = body.map(|v| v.to_string());
    call(url, method, &format!("/__emulator{path}"), None, b.as_deref()).await
}

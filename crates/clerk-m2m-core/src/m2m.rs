//! The M2M token API client (`createClerkClient(...).m2m`): one validated
//! configuration plus the four calls of [`crate::bapi`], with parameters and
//! results in the JSON forms the JS layer exchanges with the binding.
//!
//! Why JSON across the boundary: parameters such as `claims` are arbitrary
//! JSON, and an error must arrive in JS with every field of the reference's
//! `ClerkAPIResponseError` (status, errors with `long_message`/`meta`, trace
//! id, `Retry-After`) so the JS layer can build the real error class. One
//! string each way keeps the binding free of logic and the shapes testable
//! here. The wire calls themselves (URLs, bodies, credential precedence, no
//! retry on create/revoke) live in `bapi`.

use crate::bapi::{self, BapiConfig, CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams};
use crate::errors::ClerkApiResponseError;
use crate::constants::DEFAULT_API_URL;
use crate::options::{present, timeout, validate_api_url, OptionsError};
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use std::fmt;

/// Client options as they arrive from JavaScript (already type-checked there).
#[derive(Default, Clone)]
pub struct RawM2mClientOptions {
    pub secret_key: Option<String>,
    pub machine_secret_key: Option<String>,
    pub api_url: Option<String>,
    pub timeout_ms: Option<f64>,
}

impl fmt::Debug for RawM2mClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawM2mClientOptions")
            .field("secret_key", &self.secret_key.as_ref().map(|s| crate::redact::secret_prefix(s)))
            .field("machine_secret_key", &self.machine_secret_key.as_ref().map(|s| crate::redact::secret_prefix(s)))
            .field("api_url", &self.api_url)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// `client.m2m`: a Backend API configuration for the `/m2m_tokens` endpoints.
#[derive(Debug, Clone)]
pub struct M2mClient {
    cfg: BapiConfig,
}

impl M2mClient {
    /// Validates the options: `apiUrl` as for verification (https except
    /// loopback, no credentials), `timeoutMs` finite and within 1..=120000.
    /// Empty keys count as absent (the reference tests them for truthiness).
    pub fn new(raw: RawM2mClientOptions) -> Result<Self, OptionsError> {
        let api_url = validate_api_url(&present(raw.api_url).unwrap_or_else(|| DEFAULT_API_URL.to_owned()))?;
        let mut cfg = BapiConfig::new(api_url);
        cfg.secret_key = Secret::present(raw.secret_key);
        cfg.machine_secret_key = Secret::present(raw.machine_secret_key);
        cfg.timeout = timeout(raw.timeout_ms)?;
        Ok(M2mClient { cfg })
    }

    pub fn config(&self) -> &BapiConfig {
        &self.cfg
    }

    /// `POST /m2m_tokens` (never retried).
    pub async fn create_token(&self, params: &CreateM2mTokenParams) -> Result<Value, ClerkApiResponseError> {
        bapi::create_m2m_token(&self.cfg, params).await
    }

    /// `POST /m2m_tokens/{id}/revoke` (never retried; the id is percent-encoded).
    pub async fn revoke_token(&self, params: &RevokeM2mTokenParams) -> Result<Value, ClerkApiResponseError> {
        bapi::revoke_m2m_token(&self.cfg, params).await
    }

    /// `GET /m2m_tokens?…`.
    pub async fn list(&self, params: &ListM2mTokensParams) -> Result<Value, ClerkApiResponseError> {
        bapi::list_m2m_tokens(&self.cfg, params).await
    }

    /// `POST /m2m_tokens/verify` for a token that is not an M2M JWT (the JS layer verifies those locally).
    pub async fn verify_opaque(&self, token: &str, machine_secret_key: Option<&Secret>) -> Result<Value, ClerkApiResponseError> {
        bapi::verify_m2m_opaque_with_key(&self.cfg, token, machine_secret_key).await
    }
}

// ---------------------------------------------------------------------------
// Parameters from JSON

/// A call's parameters from the JSON text `lib/m2m.js` sends (camelCase, as the caller wrote
/// them, type-checked there): `CreateM2mTokenParams`, `RevokeM2mTokenParams` or
/// `ListM2mTokensParams`. Text that does not fit is refused like a request that could not be
/// built, never a panic; the message names no value (one could be a key).
pub fn parse_params<T: DeserializeOwned>(params_json: &str) -> Result<T, ClerkApiResponseError> {
    let refused = |what: &str| bapi::unexpected_error(bapi::KIND_INVALID_REQUEST, format!("The M2M client's parameters {what}."));
    match serde_json::from_str::<Value>(params_json) {
        Ok(params @ Value::Object(_)) => T::deserialize(params).map_err(|_| refused("do not have the expected types")),
        Ok(_) => Err(refused("are not an object")),
        Err(_) => Err(refused("are not valid JSON")),
    }
}

// ---------------------------------------------------------------------------
// Results to JSON

/// The error as the JS layer rebuilds it: snake_case entries (what
/// `ClerkAPIError`'s constructor reads), camelCase envelope, and ours: `kind`,
/// the failure `reason` ([`bapi::failure_reason`]) and, when the API
/// gave no usable answer, the `transport` failure.
pub fn api_error_to_json(e: &ClerkApiResponseError) -> Value {
    let errors: Vec<Value> = e
        .errors
        .iter()
        .map(|x| {
            let mut m = Map::new();
            m.insert("code".into(), Value::String(x.code.clone()));
            m.insert("message".into(), Value::String(x.message.clone()));
            if let Some(lm) = &x.long_message {
                m.insert("long_message".into(), Value::String(lm.clone()));
            }
            if let Some(meta) = &x.meta {
                m.insert("meta".into(), meta.clone());
            }
            Value::Object(m)
        })
        .collect();
    let reason = bapi::failure_reason(e);
    let mut out = json!({
        "status": e.status,
        "statusText": e.status_text,
        "errors": errors,
        "clerkTraceId": e.clerk_trace_id,
        "retryAfter": e.retry_after,
        "kind": e.kind,
        "reason": reason.as_str(),
    });
    if let (Some(t), Some(o)) = (reason.transport(), out.as_object_mut()) {
        o.insert("transport".into(), serde_json::to_value(t).unwrap_or(Value::Null));
    }
    out
}

/// One call's settled result: `{"ok": <body>}` or `{"error": <api_error_to_json>}`.
pub fn outcome_json(result: Result<Value, ClerkApiResponseError>) -> String {
    match result {
        Ok(v) => json!({ "ok": v }).to_string(),
        Err(e) => json!({ "error": api_error_to_json(&e) }).to_string(),
    }
}

/// A failure that is not the Backend API's answer (a bug, a panic caught at the boundary).
pub fn internal_error_json(message: &str) -> String {
    outcome_json(Err(bapi::unexpected_error("internal", message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ClerkApiError;

    fn create_params_from_json(params: &Value) -> Result<CreateM2mTokenParams, ClerkApiResponseError> {
        parse_params(&params.to_string())
    }

    fn revoke_params_from_json(params: &Value) -> Result<RevokeM2mTokenParams, ClerkApiResponseError> {
        parse_params(&params.to_string())
    }

    fn list_params_from_json(params: &Value) -> Result<ListM2mTokensParams, ClerkApiResponseError> {
        parse_params(&params.to_string())
    }
    use clerk_bapi_emulator::{Emulator, Fault, FaultRule, Route};
    use std::time::Duration;

    fn client(api_url: Option<&str>, timeout_ms: Option<f64>) -> Result<M2mClient, OptionsError> {
        M2mClient::new(RawM2mClientOptions { api_url: api_url.map(str::to_owned), timeout_ms, ..Default::default() })
    }

    #[test]
    fn options_are_validated() {
        let c = client(None, None).unwrap();
        assert_eq!(c.config().api_url.as_str(), "https://api.clerk.com/");
        assert_eq!(c.config().timeout, Duration::from_millis(5000));
        assert!(c.config().secret_key.is_none() && c.config().machine_secret_key.is_none());
        assert_eq!(client(Some(""), Some(1.0)).unwrap().config().timeout, Duration::from_millis(1));
        assert_eq!(client(Some("http://127.0.0.1:1"), Some(120_000.0)).unwrap().config().timeout, Duration::from_secs(120));
        for bad in [Some(0.0), Some(0.5), Some(120_001.0), Some(f64::NAN), Some(f64::INFINITY), Some(-1.0)] {
            assert!(client(None, bad).is_err(), "{bad:?}");
        }
        for bad in ["http://api.clerk.com", "https://u:p@api.clerk.com", "nope", "https://a/?q=1"] {
            assert!(client(Some(bad), None).is_err(), "{bad}");
        }
        let c = M2mClient::new(RawM2mClientOptions { secret_key: Some(String::new()), machine_secret_key: Some("ak_CANARY_1234".into()), ..Default::default() }).unwrap();
        assert!(c.config().secret_key.is_none());
        assert_eq!(c.config().machine_secret_key.as_ref().unwrap().expose(), "ak_CANARY_1234");
        let dbg = format!("{c:?} {:?}", RawM2mClientOptions { secret_key: Some("sk_test_CANARY".into()), machine_secret_key: Some("ak_CANARY_x".into()), ..Default::default() });
        assert!(!dbg.contains("CANARY"), "{dbg}");
    }

    #[test]
    fn params_parse_with_types_checked() {
        let p = create_params_from_json(&json!({"secondsUntilExpiration": 60, "claims": {"a": {"b_c": 1}}, "tokenFormat": "jwt", "minRemainingTtlSeconds": 0, "machineSecretKey": "ak_1"})).unwrap();
        assert_eq!(serde_json::to_string(&bapi::create_m2m_token_body(&p)).unwrap(), r#"{"seconds_until_expiration":60,"claims":{"a":{"b_c":1}},"min_remaining_ttl_seconds":0,"token_format":"jwt"}"#);
        assert_eq!(p.machine_secret_key.unwrap().expose(), "ak_1");
        let p = create_params_from_json(&json!({"claims": null, "machineSecretKey": ""})).unwrap();
        assert!(p.claims.is_none() && p.machine_secret_key.is_none());
        assert_eq!(serde_json::to_string(&bapi::create_m2m_token_body(&p)).unwrap(), r#"{"seconds_until_expiration":null,"claims":null,"token_format":"opaque"}"#);
        // Non-object claims are sent as given (parity: the reference does not check them).
        assert_eq!(create_params_from_json(&json!({"claims": "x"})).unwrap().claims, Some(json!("x")));
        for bad in [json!({"secondsUntilExpiration": "60"}), json!({"tokenFormat": 1}), json!({"minRemainingTtlSeconds": true}), json!({"machineSecretKey": 5}), json!([]), json!("s"), json!(null)] {
            let e = create_params_from_json(&bad).unwrap_err();
            assert_eq!((e.status, e.kind), (None, Some(bapi::KIND_INVALID_REQUEST)), "{bad}");
        }
        let r = revoke_params_from_json(&json!({"m2mTokenId": "mt_1", "revocationReason": "why"})).unwrap();
        assert_eq!((r.m2m_token_id.as_str(), r.revocation_reason.as_deref()), ("mt_1", Some("why")));
        assert_eq!(revoke_params_from_json(&json!({})).unwrap().m2m_token_id, "");
        assert!(revoke_params_from_json(&json!({"m2mTokenId": 1})).is_err());
        let l = list_params_from_json(&json!({"subject": "mch_1", "revoked": true, "expired": false, "limit": 5, "offset": 0})).unwrap();
        assert_eq!((l.subject.as_deref(), l.revoked, l.expired, l.limit, l.offset), (Some("mch_1"), Some(true), Some(false), Some(5.0), Some(0.0)));
        assert!(list_params_from_json(&json!({"revoked": "true"})).is_err());
        assert!(list_params_from_json(&json!({"limit": "5"})).is_err());
        assert!(parse_params::<Value>("{").is_err());
        assert_eq!(parse_params::<Value>("{}").unwrap(), json!({}));
    }

    #[test]
    fn errors_serialize_every_field() {
        let e = ClerkApiResponseError {
            status: Some(429),
            status_text: "Too Many Requests".into(),
            errors: vec![
                ClerkApiError { code: "rate_limited".into(), message: "slow down".into(), long_message: Some("long".into()), meta: Some(json!({"param_name": "x"})) },
                ClerkApiError { code: "c".into(), message: "m".into(), long_message: None, meta: None },
            ],
            clerk_trace_id: "trace".into(),
            retry_after: Some(7),
            kind: None,
            attempts: 1,
        };
        assert_eq!(
            api_error_to_json(&e),
            json!({"status": 429, "statusText": "Too Many Requests", "errors": [{"code": "rate_limited", "message": "slow down", "long_message": "long", "meta": {"param_name": "x"}}, {"code": "c", "message": "m"}], "clerkTraceId": "trace", "retryAfter": 7, "kind": null,
                "reason": "unavailable", "transport": {"kind": "rate-limited", "message": "the Backend API answered 429 (Too Many Requests); retry after 7 s", "status": 429, "retryAfter": 7, "attempts": 1}})
        );
        let s = outcome_json(Err(bapi::unexpected_error("timeout", "request timed out")));
        assert_eq!(
            s,
            r#"{"error":{"status":null,"statusText":"","errors":[{"code":"unexpected_error","message":"request timed out"}],"clerkTraceId":"","retryAfter":null,"kind":"timeout","reason":"unavailable","transport":{"kind":"timeout","message":"request timed out","status":null,"retryAfter":null,"attempts":0}}}"#
        );
        assert!(outcome_json(Err(bapi::unexpected_error(bapi::KIND_INVALID_REQUEST, "bad"))).contains(r#""reason":"internal""#));
        assert_eq!(outcome_json(Ok(json!({"id": "mt_1"}))), r#"{"ok":{"id":"mt_1"}}"#);
        assert!(internal_error_json("boom").contains(r#""kind":"internal""#));
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn the_client_talks_to_the_emulator() {
        rt().block_on(async {
            let emu = Emulator::builder().start().await.unwrap();
            let webhook = emu.machine("webhook").unwrap();
            let trpc = emu.machine("trpc").unwrap();
            let c = M2mClient::new(RawM2mClientOptions { machine_secret_key: Some(webhook.secret_key.clone()), api_url: Some(emu.url().to_owned()), timeout_ms: Some(2000.0), ..Default::default() }).unwrap();
            let created = c.create_token(&create_params_from_json(&json!({"secondsUntilExpiration": 60, "claims": {"k": "v"}})).unwrap()).await.unwrap();
            assert_eq!((created["subject"].as_str(), created["claims"].clone()), (Some(webhook.id.as_str()), json!({"k": "v"})));
            let token = created["token"].as_str().unwrap().to_owned();
            // Verified by the receiver's key, given per call.
            let v = c.verify_opaque(&token, Some(&Secret::new(trpc.secret_key.clone()))).await.unwrap();
            assert_eq!(v["id"], created["id"]);
            let listed = c.list(&list_params_from_json(&json!({"subject": webhook.id})).unwrap()).await.unwrap();
            assert_eq!(listed["total_count"], 1);
            let revoked = c.revoke_token(&revoke_params_from_json(&json!({"m2mTokenId": created["id"], "revocationReason": "test"})).unwrap()).await.unwrap();
            assert_eq!((revoked["revoked"].as_bool(), revoked["revocation_reason"].as_str()), (Some(true), Some("test")));
            // An unknown token: the API's 404, every field kept.
            let e = c.verify_opaque("mt_unknown", None).await.unwrap_err();
            let j = api_error_to_json(&e);
            assert_eq!((j["status"].as_u64(), j["kind"].is_null()), (Some(404), true));
            assert!(j["errors"][0]["code"].is_string());
            // Creation is never retried: one 503 fault → one request, and the error carries the status.
            emu.reset_counters();
            emu.set_fault(Route::M2mCreate, FaultRule::times(Fault::Status { status: 503, retry_after: None, body: None, content_type: None }, 1)).unwrap();
            let e = c.create_token(&CreateM2mTokenParams::default()).await.unwrap_err();
            assert_eq!(e.status, Some(503));
            assert_eq!(emu.count(Route::M2mCreate), 1);
            // A hung server: ends at the deadline with kind "timeout".
            let quick = M2mClient::new(RawM2mClientOptions { machine_secret_key: Some(webhook.secret_key.clone()), api_url: Some(emu.url().to_owned()), timeout_ms: Some(300.0), ..Default::default() }).unwrap();
            emu.set_fault(Route::M2mVerify, FaultRule::times(Fault::Hang, 1)).unwrap();
            let start = std::time::Instant::now();
            let e = quick.verify_opaque(&token, None).await.unwrap_err();
            assert_eq!((e.status, e.kind), (None, Some("timeout")));
            assert!(start.elapsed() < Duration::from_millis(1500), "{:?}", start.elapsed());
            emu.shutdown().await;
        });
    }
}

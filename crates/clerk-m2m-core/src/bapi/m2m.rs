//! The M2M token API (`client.m2m`): create, revoke and list tokens.

use super::config::BapiConfig;
use super::error::{unexpected_error, KIND_INVALID_REQUEST, MISSING_RESOURCE_ID_MESSAGE};
use super::request::{execute, url_or_error, Call};
use super::url::build_url;
use crate::errors::ClerkApiResponseError;
use crate::http::Retry;
use crate::js;
use crate::redact::echo_untrusted;
use crate::secret::Secret;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use url::Url;

/// `client.m2m.createToken(params)`, read from the reference's camelCase names.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateM2mTokenParams {
    /// Per-call credential; wins over the config's keys when non-empty.
    #[serde(deserialize_with = "Secret::deserialize_present")]
    pub machine_secret_key: Option<Secret>,
    /// `None` is sent as `null` (the reference's default).
    pub seconds_until_expiration: Option<f64>,
    /// Sent as given (nested keys untouched); `None` is sent as `null`.
    pub claims: Option<Value>,
    /// `None` is omitted from the body; `0` is sent.
    pub min_remaining_ttl_seconds: Option<f64>,
    /// `None` is sent as `"opaque"`.
    pub token_format: Option<String>,
}

impl fmt::Debug for CreateM2mTokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateM2mTokenParams")
            .field("machine_secret_key", &self.machine_secret_key)
            .field("seconds_until_expiration", &self.seconds_until_expiration)
            .field("claims", &self.claims.as_ref().map(|_| "<claims>"))
            .field("min_remaining_ttl_seconds", &self.min_remaining_ttl_seconds)
            .field("token_format", &self.token_format)
            .finish()
    }
}

/// `client.m2m.revokeToken(params)`, read from the reference's camelCase names.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RevokeM2mTokenParams {
    /// An empty (or `null`) id is refused before any request ([`MISSING_RESOURCE_ID_MESSAGE`]).
    #[serde(deserialize_with = "string_or_null")]
    pub m2m_token_id: String,
    /// `None` is sent as `null`.
    pub revocation_reason: Option<String>,
    #[serde(deserialize_with = "Secret::deserialize_present")]
    pub machine_secret_key: Option<Secret>,
}

/// A string parameter whose `null` counts as `""`.
fn string_or_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

impl fmt::Debug for RevokeM2mTokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeM2mTokenParams")
            .field("m2m_token_id", &echo_untrusted(&self.m2m_token_id))
            .field("revocation_reason", &self.revocation_reason)
            .field("machine_secret_key", &self.machine_secret_key)
            .finish()
    }
}

/// `client.m2m.list(params)`, read from the reference's camelCase names: falsy values (`None`,
/// `""`, `false`, `0`, NaN) are left out of the query.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListM2mTokensParams {
    #[serde(deserialize_with = "Secret::deserialize_present")]
    pub machine_secret_key: Option<Secret>,
    pub subject: Option<String>,
    pub revoked: Option<bool>,
    pub expired: Option<bool>,
    pub limit: Option<f64>,
    pub offset: Option<f64>,
}

impl fmt::Debug for ListM2mTokensParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListM2mTokensParams")
            .field("machine_secret_key", &self.machine_secret_key)
            .field("subject", &self.subject)
            .field("revoked", &self.revoked)
            .field("expired", &self.expired)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

/// The exact body `createToken` sends: keys in the reference's order, `null` defaults.
pub fn create_m2m_token_body(params: &CreateM2mTokenParams) -> Value {
    let mut body = Map::new();
    body.insert("seconds_until_expiration".into(), params.seconds_until_expiration.map_or(Value::Null, js::number_to_json));
    body.insert("claims".into(), params.claims.clone().unwrap_or(Value::Null));
    if let Some(ttl) = params.min_remaining_ttl_seconds {
        body.insert("min_remaining_ttl_seconds".into(), js::number_to_json(ttl));
    }
    body.insert("token_format".into(), Value::String(params.token_format.clone().unwrap_or_else(|| "opaque".to_owned())));
    Value::Object(body)
}

/// `POST {apiUrl}/m2m_tokens`. Never retried: a second attempt could mint a second long-lived token (O-13).
pub async fn create_m2m_token(cfg: &BapiConfig, params: &CreateM2mTokenParams) -> Result<Value, ClerkApiResponseError> {
    let url = url_or_error(build_url(cfg, false, &["m2m_tokens"]))?;
    let bearer = cfg.m2m_credential(params.machine_secret_key.as_ref());
    execute(cfg, Call { method: Method::POST, url, bearer, body: Some(create_m2m_token_body(params)), retry: Retry::Never }).await
}

/// `POST {apiUrl}/m2m_tokens/{id}/revoke` `{"revocation_reason"}`; the id is percent-encoded. Never retried.
pub async fn revoke_m2m_token(cfg: &BapiConfig, params: &RevokeM2mTokenParams) -> Result<Value, ClerkApiResponseError> {
    if params.m2m_token_id.is_empty() {
        return Err(unexpected_error(KIND_INVALID_REQUEST, MISSING_RESOURCE_ID_MESSAGE));
    }
    let url = url_or_error(build_url(cfg, false, &["m2m_tokens", &params.m2m_token_id, "revoke"]))?;
    let mut body = Map::new();
    body.insert("revocation_reason".into(), params.revocation_reason.clone().map_or(Value::Null, Value::String));
    let bearer = cfg.m2m_credential(params.machine_secret_key.as_ref());
    execute(cfg, Call { method: Method::POST, url, bearer, body: Some(Value::Object(body)), retry: Retry::Never }).await
}

/// The list URL with its query, falsy values omitted as the reference does.
pub fn list_m2m_tokens_url(cfg: &BapiConfig, params: &ListM2mTokensParams) -> Result<Url, String> {
    let mut url = build_url(cfg, false, &["m2m_tokens"])?;
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(s) = params.subject.as_ref().filter(|s| !s.is_empty()) {
        pairs.push(("subject", s.clone()));
    }
    if params.revoked == Some(true) {
        pairs.push(("revoked", "true".into()));
    }
    if params.expired == Some(true) {
        pairs.push(("expired", "true".into()));
    }
    for (name, value) in [("limit", params.limit), ("offset", params.offset)] {
        if let Some(n) = value.filter(|n| *n != 0.0 && !n.is_nan()) {
            pairs.push((name, js::number_to_string(n)));
        }
    }
    if !pairs.is_empty() {
        let mut query = url.query_pairs_mut();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
    }
    Ok(url)
}

/// `GET {apiUrl}/m2m_tokens?…` (read-only, so retried like the verify calls).
pub async fn list_m2m_tokens(cfg: &BapiConfig, params: &ListM2mTokensParams) -> Result<Value, ClerkApiResponseError> {
    let url = url_or_error(list_m2m_tokens_url(cfg, params))?;
    let bearer = cfg.m2m_credential(params.machine_secret_key.as_ref());
    execute(cfg, Call { method: Method::GET, url, bearer, body: None, retry: Retry::Idempotent }).await
}

#[cfg(test)]
mod tests {
    use super::super::config::cfg;
    use super::*;
    use serde_json::json;


    #[test]
    fn create_body_has_the_reference_shape() {
        let b = create_m2m_token_body(&CreateM2mTokenParams::default());
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"seconds_until_expiration":null,"claims":null,"token_format":"opaque"}"#);
        let b = create_m2m_token_body(&CreateM2mTokenParams {
            seconds_until_expiration: Some(3600.0),
            claims: Some(json!({"fooBar": {"nested_key": 1}})),
            min_remaining_ttl_seconds: Some(0.0),
            token_format: Some("jwt".into()),
            machine_secret_key: Some(Secret::new("ak_CANARY_per_call")),
        });
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"seconds_until_expiration":3600,"claims":{"fooBar":{"nested_key":1}},"min_remaining_ttl_seconds":0,"token_format":"jwt"}"#);
    }

    #[test]
    fn list_query_omits_falsy_values() {
        let c = cfg("https://api.clerk.com");
        let p = ListM2mTokensParams { subject: Some("mch_1".into()), revoked: Some(false), expired: Some(true), limit: Some(0.0), offset: Some(10.0), machine_secret_key: None };
        assert_eq!(list_m2m_tokens_url(&c, &p).unwrap().as_str(), "https://api.clerk.com/m2m_tokens?subject=mch_1&expired=true&offset=10");
        let p = ListM2mTokensParams { subject: Some(String::new()), revoked: Some(true), limit: Some(f64::NAN), offset: Some(2.5), ..Default::default() };
        assert_eq!(list_m2m_tokens_url(&c, &p).unwrap().as_str(), "https://api.clerk.com/m2m_tokens?revoked=true&offset=2.5");
        assert_eq!(list_m2m_tokens_url(&c, &ListM2mTokensParams::default()).unwrap().as_str(), "https://api.clerk.com/m2m_tokens");
        let p = ListM2mTokensParams { subject: Some("a b&c".into()), ..Default::default() };
        assert_eq!(list_m2m_tokens_url(&c, &p).unwrap().as_str(), "https://api.clerk.com/m2m_tokens?subject=a+b%26c");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let p = CreateM2mTokenParams { machine_secret_key: Some(Secret::new("ak_CANARY_call")), claims: Some(json!({"CANARY": 1})), ..Default::default() };
        let r = RevokeM2mTokenParams { m2m_token_id: "mt_1".into(), revocation_reason: None, machine_secret_key: Some(Secret::new("ak_CANARY_x")) };
        let l = ListM2mTokensParams { machine_secret_key: Some(Secret::new("ak_CANARY_y")), ..Default::default() };
        let dbg = format!("{p:?} {r:?} {l:?}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
        assert!(dbg.contains("ak_CANA…"), "{dbg}");
    }

    #[tokio::test]
    async fn local_refusals_send_nothing() {
        // Port 9 on loopback is closed: if a request were sent, the error kind would be "connect".
        let c = cfg("http://127.0.0.1:9");
        let e = revoke_m2m_token(&c, &RevokeM2mTokenParams::default()).await.unwrap_err();
        assert_eq!((e.kind, e.errors[0].message.as_str()), (Some(KIND_INVALID_REQUEST), MISSING_RESOURCE_ID_MESSAGE));
        let e = revoke_m2m_token(&c, &RevokeM2mTokenParams { m2m_token_id: "../machines/mch_x".into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(e.kind, Some(KIND_INVALID_REQUEST));
    }
}

//! The verify endpoints of opaque machine tokens (`mt_`, `oat_`, `ak_`).

use super::config::BapiConfig;
use super::error::{unexpected_error, KIND_MISSING_SECRET_KEY, MISSING_SECRET_KEY_MESSAGE};
use super::request::{execute, url_or_error, Call};
use super::url::build_url;
use crate::errors::ClerkApiResponseError;
use crate::http::Retry;
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Map, Value};

/// `POST {apiUrl}/m2m_tokens/verify` `{"token"}` with the machine secret key,
/// else the secret key, else no `Authorization` header at all (the reference's order; parity:
/// the Backend API's 401 then becomes `secret-key-invalid`).
pub async fn verify_m2m_opaque(cfg: &BapiConfig, token: &str) -> Result<Value, ClerkApiResponseError> {
    verify_m2m_opaque_with_key(cfg, token, None).await
}

/// [`verify_m2m_opaque`] with `client.m2m.verify({token, machineSecretKey})`'s per-call key, which wins when non-empty.
pub async fn verify_m2m_opaque_with_key(cfg: &BapiConfig, token: &str, machine_secret_key: Option<&Secret>) -> Result<Value, ClerkApiResponseError> {
    let url = url_or_error(build_url(cfg, false, &["m2m_tokens", "verify"]))?;
    let mut body = Map::new();
    body.insert("token".into(), Value::String(token.to_owned()));
    let call = Call { method: Method::POST, url, bearer: cfg.m2m_credential(machine_secret_key), body: Some(Value::Object(body)), retry: Retry::Idempotent };
    execute(cfg, call).await
}

/// Calls a verify endpoint that needs the instance secret key; without one the
/// reference throws before any request (→ `Unexpected error`, no status).
async fn verify_with_secret_key(cfg: &BapiConfig, segments: &[&str], field: &str, value: &str) -> Result<Value, ClerkApiResponseError> {
    let Some(secret) = cfg.secret() else {
        return Err(unexpected_error(KIND_MISSING_SECRET_KEY, MISSING_SECRET_KEY_MESSAGE));
    };
    let url = url_or_error(build_url(cfg, false, segments))?;
    let mut body = Map::new();
    body.insert(field.into(), Value::String(value.to_owned()));
    execute(cfg, Call { method: Method::POST, url, bearer: Some(secret), body: Some(Value::Object(body)), retry: Retry::Idempotent }).await
}

/// `POST {apiUrl}/oauth_applications/access_tokens/verify` `{"access_token"}`, secret key only.
/// The audience check on the result is the caller's (it needs the options).
pub async fn verify_oauth_opaque(cfg: &BapiConfig, access_token: &str) -> Result<Value, ClerkApiResponseError> {
    verify_with_secret_key(cfg, &["oauth_applications", "access_tokens", "verify"], "access_token", access_token).await
}

/// `POST {apiUrl}/api_keys/verify` `{"secret"}`, secret key only.
pub async fn verify_api_key(cfg: &BapiConfig, secret: &str) -> Result<Value, ClerkApiResponseError> {
    verify_with_secret_key(cfg, &["api_keys", "verify"], "secret", secret).await
}

#[cfg(test)]
mod tests {
    use super::super::error::{failure_reason, map_machine_error};
    use super::*;
    use crate::constants::TokenType;
    use crate::errors::{FailureReason, MachineErrorCode};
    use url::Url;

    #[tokio::test]
    async fn local_refusals_send_nothing() {
        // Port 9 on loopback is closed: if a request were sent, the error kind would be "connect".
        let c = BapiConfig::new(Url::parse("http://127.0.0.1:9").unwrap());
        let e = verify_oauth_opaque(&c, "oat_x").await.unwrap_err();
        assert_eq!((e.status, e.kind, e.errors[0].message.as_str()), (None, Some(KIND_MISSING_SECRET_KEY), MISSING_SECRET_KEY_MESSAGE));
        assert_eq!(failure_reason(&e), FailureReason::NoKey);
        let e = verify_api_key(&c, "ak_x").await.unwrap_err();
        assert_eq!(e.kind, Some(KIND_MISSING_SECRET_KEY));
        let m = map_machine_error(TokenType::OAuthToken, &verify_oauth_opaque(&c, "oat_x").await.unwrap_err(), "OAuth token not found");
        assert_eq!((m.code, m.status, m.reason), (MachineErrorCode::UnexpectedError, None, FailureReason::NoKey));
    }
}

//! `GET {apiUrl}/{apiVersion}/jwks`: the instance's signing keys, as the reference fetches them.

use super::config::BapiConfig;
use super::error::coerce_text;
use super::url::jwks_url;
use crate::errors::{action, FailureReason, Reason, TokenVerificationError, Transport};
use crate::http::{self, Retry};
use reqwest::Method;
use serde_json::Value;

fn jwks_error(reason: Reason, message: impl Into<String>) -> TokenVerificationError {
    TokenVerificationError::new(reason, message).with_action(action::CONTACT_SUPPORT)
}

/// `fetchJWKSFromBAPI`: `GET {apiUrl}/{apiVersion}/jwks` with the secret key
/// (never the machine key). Errors carry the reference's messages: a
/// `clerk_key_invalid` entry → its message (`secret-key-invalid`); any other
/// non-2xx (a redirect included) → `Error loading Clerk JWKS from <url> with code=<status>`.
/// Transport failures and non-JSON bodies get a message of ours naming the cause.
pub async fn fetch_jwks(cfg: &BapiConfig) -> Result<Value, TokenVerificationError> {
    let Some(secret) = cfg.secret() else {
        return Err(TokenVerificationError::new(
            Reason::RemoteJwkFailedToLoad,
            "Missing Clerk Secret Key or API Key. Go to https://dashboard.clerk.com and get your key for your instance.",
        )
        .with_action(action::SET_CLERK_SECRET_KEY));
    };
    let url = jwks_url(cfg).map_err(|m| jwks_error(Reason::RemoteJwkFailedToLoad, m).with_failure(FailureReason::Internal))?;
    let shown = http::display_url(&url);
    let result = http::send(http::Request { method: Method::GET, url: &url, bearer: Some(secret), body: None, retry: Retry::Idempotent, timeout: cfg.timeout }).await;
    let resp = match result {
        Ok(resp) => resp,
        Err(e @ http::HttpError::Redirect { status, .. }) => {
            return Err(jwks_error(Reason::RemoteJwkFailedToLoad, format!("Error loading Clerk JWKS from {shown} with code={status}"))
                .with_failure(FailureReason::unavailable(e.transport())));
        }
        Err(e) => {
            return Err(jwks_error(Reason::RemoteJwkFailedToLoad, format!("Error loading Clerk JWKS: {e}")).with_failure(FailureReason::unavailable(e.transport())))
        }
    };
    let json = crate::json::parse_segment(&resp.body);
    if !resp.is_success() {
        let invalid_key = json
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(Value::as_array)
            .and_then(|errors| errors.iter().find(|e| e.get("code").and_then(Value::as_str) == Some("clerk_key_invalid")));
        if let Some(entry) = invalid_key {
            let message = coerce_text(entry.get("message")).unwrap_or_default();
            return Err(jwks_error(Reason::InvalidSecretKey, message));
        }
        let failure = match resp.status {
            401 | 403 => FailureReason::Credentials,
            status => FailureReason::unavailable(Transport::status(status, resp.retry_after(), resp.attempts)),
        };
        return Err(jwks_error(Reason::RemoteJwkFailedToLoad, format!("Error loading Clerk JWKS from {shown} with code={}", resp.status)).with_failure(failure));
    }
    json.ok_or_else(|| {
        let message = format!("Error loading Clerk JWKS from {shown}: the response is not valid JSON");
        jwks_error(Reason::RemoteJwkFailedToLoad, message.clone()).with_failure(FailureReason::unavailable(Transport::invalid_response(message, resp.attempts)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[tokio::test]
    async fn local_refusals_send_nothing() {
        // Port 9 on loopback is closed: if a request were sent, the error kind would be "connect".
        let c = BapiConfig::new(Url::parse("http://127.0.0.1:9").unwrap());
        let e = fetch_jwks(&c).await.unwrap_err();
        assert_eq!((e.reason, e.action.as_deref(), &e.failure), (Reason::RemoteJwkFailedToLoad, Some(action::SET_CLERK_SECRET_KEY), &FailureReason::NoKey));
    }
}

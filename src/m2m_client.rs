//! napi binding of the M2M token API client (`lib/m2m.js` builds the public
//! `createM2MClient` on it). Type conversion only: the client lives in
//! `clerk_m2m_core::M2mClient`.
//!
//! Every async method settles with one JSON string, `{"ok": body}` or
//! `{"error": ClerkAPIResponseError fields}`, and never rejects: the JS layer
//! builds the resource or the error class from it. The work runs in a spawned
//! task so that even a panic inside it becomes an `{"error"}` outcome rather
//! than a lost promise.

use crate::convert::{invalid_arg, NativeM2MClientOptions};
use clerk_m2m_core::bapi::{CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams};
use clerk_m2m_core::{internal_error_json, outcome_json, parse_params, ClerkApiResponseError, M2mClient, Secret};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

type ApiResult<T> = std::result::Result<T, ClerkApiResponseError>;

/// `client.m2m` of `@clerk/backend`, without the JWT path of `verify` (done in JS with the verifier).
#[napi]
pub struct NativeM2MClient {
    pub(crate) inner: Arc<M2mClient>,
}

/// Runs `work` (reading the params inside it, so that params that do not fit settle as an error
/// outcome) on the runtime, and turns its result, or a panic inside it, into an outcome string.
async fn settle<F>(work: F) -> String
where
    F: Future<Output = ApiResult<Value>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => outcome_json(result),
        Err(_) => internal_error_json("The M2M client failed unexpectedly (internal error)."),
    }
}

#[napi]
impl NativeM2MClient {
    /// Validates the options (`apiUrl` https except loopback, no credentials; `timeoutMs` 1..=120000).
    /// `options` absent or `null` = every default.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Option<NativeM2MClientOptions>) -> Result<Self> {
        let client = M2mClient::new(options.unwrap_or_default().into()).map_err(invalid_arg)?;
        Ok(NativeM2MClient { inner: Arc::new(client) })
    }

    /// `POST /m2m_tokens`; `params` is the JSON of `{ machineSecretKey?, secondsUntilExpiration?, claims?, minRemainingTtlSeconds?, tokenFormat? }`.
    #[napi]
    pub async fn create_token(&self, params: String) -> String {
        let client = Arc::clone(&self.inner);
        settle(async move { client.create_token(&parse_params::<CreateM2mTokenParams>(&params)?).await }).await
    }

    /// `POST /m2m_tokens/{id}/revoke`; `params` is the JSON of `{ m2mTokenId, revocationReason?, machineSecretKey? }`.
    #[napi]
    pub async fn revoke_token(&self, params: String) -> String {
        let client = Arc::clone(&self.inner);
        settle(async move { client.revoke_token(&parse_params::<RevokeM2mTokenParams>(&params)?).await }).await
    }

    /// `GET /m2m_tokens?…`; `params` is the JSON of `{ subject?, revoked?, expired?, limit?, offset?, machineSecretKey? }`.
    #[napi]
    pub async fn list(&self, params: String) -> String {
        let client = Arc::clone(&self.inner);
        settle(async move { client.list(&parse_params::<ListM2mTokensParams>(&params)?).await }).await
    }

    /// `POST /m2m_tokens/verify` `{"token"}` with the per-call machine key, else the client's keys.
    #[napi]
    pub async fn verify_opaque(&self, token: String, machine_secret_key: Option<String>) -> String {
        let client = Arc::clone(&self.inner);
        let key = Secret::present(machine_secret_key);
        settle(async move { client.verify_opaque(&token, key.as_ref()).await }).await
    }
}

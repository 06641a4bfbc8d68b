//! Backend API calls used by machine auth, over [`crate::http`].
//!
//! Mirrors `@clerk/backend@3.25.0`'s `buildRequest` + `M2MTokenApi` +
//! `fetchJWKSFromBAPI`: same URLs, headers, bodies and error values
//! (`ClerkAPIResponseError`), so [`map_machine_error`] gives the same codes and
//! messages as `handleClerkAPIError`. Deliberate differences, each for safety:
//!
//! * every call has a deadline, capped bodies, no redirects, and retries only
//!   where [`http`] allows them (the reference never times out, and retries
//!   JWKS five times on any error);
//! * JSON bodies are parsed whatever the `charset` parameter of
//!   `application/json` (the reference parses only the exact string and
//!   otherwise returns the text as data);
//! * a 2xx whose body is not a JSON object is an error, not a "success";
//! * path segments (ids) are percent-encoded (O-12), after the reference's
//!   `.`/`..` check.

use crate::constants::{TokenType, DEFAULT_API_VERSION};
use crate::errors::{
    action, ClerkApiError, ClerkApiResponseError, FailureReason, MachineErrorCode, MachineTokenVerificationError, Reason,
    TokenVerificationError, Transport,
};
use crate::http::{self, Retry};
use crate::js;
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;
use url::Url;

/// `ClerkApiResponseError::kind` for a request refused before sending (missing key, bad id, bad URL).
pub const KIND_INVALID_REQUEST: &str = "invalid-request";
/// `ClerkApiResponseError::kind` for a response that could not be used (not JSON, not an object, malformed errors).
pub const KIND_INVALID_RESPONSE: &str = "invalid-response";
/// `ClerkApiResponseError::kind` for a verify call that needs the instance secret key and has none
/// (refused before sending, like [`KIND_INVALID_REQUEST`], but a missing key rather than a bad request).
pub const KIND_MISSING_SECRET_KEY: &str = "missing-secret-key";

/// The reference's message when a secret key is required and missing (`assertValidSecretKey`).
pub const MISSING_SECRET_KEY_MESSAGE: &str =
    "Missing Clerk Secret Key. Go to https://dashboard.clerk.com and get your key for your instance.";
/// The reference's `requireId` message.
pub const MISSING_RESOURCE_ID_MESSAGE: &str = "A valid resource ID is required.";

/// Where and how to reach the Backend API.
#[derive(Clone)]
pub struct BapiConfig {
    pub api_url: Url,
    pub api_version: String,
    pub secret_key: Option<Secret>,
    pub machine_secret_key: Option<Secret>,
    /// Deadline for each call, retries included (clamped by [`http::clamp_timeout`]).
    pub timeout: Duration,
}

impl BapiConfig {
    /// `api_url` with the reference's defaults: version `v1`, no keys, 5 s deadline.
    pub fn new(api_url: Url) -> Self {
        BapiConfig {
            api_url,
            api_version: DEFAULT_API_VERSION.to_owned(),
            secret_key: None,
            machine_secret_key: None,
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    fn secret(&self) -> Option<&Secret> {
        self.secret_key.as_ref().filter(|s| !s.is_empty())
    }

    /// The M2M endpoints' credential: machine secret key, else secret key, else none (§2.3).
    fn m2m_credential<'a>(&'a self, per_call: Option<&'a Secret>) -> Option<&'a Secret> {
        per_call
            .filter(|s| !s.is_empty())
            .or(self.machine_secret_key.as_ref().filter(|s| !s.is_empty()))
            .or(self.secret())
    }
}

impl fmt::Debug for BapiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BapiConfig")
            .field("api_url", &http::display_url(&self.api_url))
            .field("api_version", &self.api_version)
            .field("secret_key", &self.secret_key)
            .field("machine_secret_key", &self.machine_secret_key)
            .field("timeout", &self.timeout)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// URLs

/// `joinPaths`' check: a segment that is, or decodes (up to 10 times) to, `.`
/// or `..`, also when split on `/` or `\`, is refused.
fn check_segment(segment: &str) -> Result<(), String> {
    const MAX_DECODES: usize = 10;
    let mut candidate = segment.to_owned();
    for i in 0..=MAX_DECODES {
        if candidate.split(['/', '\\']).any(|p| p == "." || p == "..") {
            return Err(format!("joinPaths: \".\" and \"..\" path segments are not allowed (received \"{}\")", crate::redact::echo_untrusted(segment)));
        }
        if i == MAX_DECODES {
            return Err(format!("joinPaths: too many layers of encoding in {}", crate::redact::echo_untrusted(segment)));
        }
        match decode_uri_component(&candidate) {
            Some(next) if next != candidate => candidate = next,
            _ => break,
        }
    }
    Ok(())
}

/// `decodeURIComponent`: `None` where it throws (bad `%` escape, invalid UTF-8).
fn decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i.checked_add(1)?).and_then(|c| (*c as char).to_digit(16))?;
            let lo = bytes.get(i.checked_add(2)?).and_then(|c| (*c as char).to_digit(16))?;
            // Two hex digits: at most 255.
            out.push((hi * 16 + lo) as u8);
            i = i.checked_add(3)?;
        } else {
            out.push(b);
            i = i.checked_add(1)?;
        }
    }
    String::from_utf8(out).ok()
}

/// `apiUrl` + segments, like `joinPaths(apiUrl, …segments)`: empty segments
/// dropped, slashes collapsed, an `apiUrl` path prefix kept; unlike it, each
/// segment is percent-encoded, so `?`, `#` or `/` in an id stay inside it.
/// The query and fragment of `base` are dropped.
pub fn join_url(base: &Url, segments: &[&str]) -> Result<Url, String> {
    for s in segments {
        check_segment(s)?;
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let prefix: Vec<String> = match url.path_segments() {
        Some(it) => it.filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        None => return Err("apiUrl cannot be used as a base URL".to_owned()),
    };
    // The prefix segments are already in encoded form; set_path keeps their escapes as they are.
    url.set_path(&format!("/{}", prefix.join("/")));
    {
        let mut path = url.path_segments_mut().map_err(|()| "apiUrl cannot be used as a base URL".to_owned())?;
        path.pop_if_empty();
        for s in segments.iter().filter(|s| !s.is_empty()) {
            path.push(s);
        }
    }
    Ok(url)
}

/// `{apiUrl}/{apiVersion}/{segments…}` (the default builder) or `{apiUrl}/{segments…}`
/// (the `m2m`, `apiKeys` and `idPOAuthAccessToken` builders, `skipApiVersionInUrl`).
pub fn build_url(cfg: &BapiConfig, with_version: bool, segments: &[&str]) -> Result<Url, String> {
    let mut all: Vec<&str> = Vec::with_capacity(segments.len().saturating_add(1));
    if with_version {
        all.push(&cfg.api_version);
    }
    all.extend_from_slice(segments);
    join_url(&cfg.api_url, &all)
}

/// `GET {apiUrl}/{apiVersion}/jwks`.
pub fn jwks_url(cfg: &BapiConfig) -> Result<Url, String> {
    build_url(cfg, true, &["jwks"])
}

// ---------------------------------------------------------------------------
// Errors

/// A failure that produced no usable HTTP status: the reference's
/// `{status: undefined, errors: [{code: 'unexpected_error', message}]}`, plus our `kind`.
pub fn unexpected_error(kind: &'static str, message: impl Into<String>) -> ClerkApiResponseError {
    ClerkApiResponseError {
        status: None,
        status_text: String::new(),
        errors: vec![ClerkApiError {
            code: "unexpected_error".to_owned(),
            message: message.into(),
            long_message: None,
            meta: None,
        }],
        clerk_trace_id: String::new(),
        retry_after: None,
        kind: Some(kind),
        attempts: 0,
    }
}

/// A message field as the reference ends up using it: falsy → absent, non-strings → `String(v)`.
fn coerce_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v) if js::is_truthy(Some(v)) => Some(js::to_js_string(v)),
        _ => None,
    }
}

/// `new ClerkAPIError(json)`; `None` where the constructor would throw (`null`).
fn parse_error_entry(item: &Value) -> Option<ClerkApiError> {
    match item {
        Value::Null => None,
        Value::Object(o) => Some(ClerkApiError {
            code: coerce_text(o.get("code")).unwrap_or_default(),
            message: coerce_text(o.get("message")).unwrap_or_default(),
            long_message: coerce_text(o.get("long_message")),
            meta: o.get("meta").filter(|m| m.is_object()).cloned(),
        }),
        // A primitive has no such properties: every field is undefined.
        _ => Some(ClerkApiError { code: String::new(), message: String::new(), long_message: None, meta: None }),
    }
}

/// The reference's `parseErrors(body)`; `Err` where it would throw (which the
/// reference turns into an `unexpected_error` without status).
fn parse_errors(body: &Value) -> Result<Vec<ClerkApiError>, &'static str> {
    const MALFORMED: &str = "The Backend API returned a malformed error body.";
    let Some(errors) = body.as_object().and_then(|o| o.get("errors")) else {
        return Ok(Vec::new());
    };
    match errors {
        Value::Array(items) => items.iter().map(|i| parse_error_entry(i).ok_or(MALFORMED)).collect(),
        // `null.length` throws; a non-empty string or an object with a truthy `length` has no `.map`.
        Value::Null => Err(MALFORMED),
        Value::String(s) if !s.is_empty() => Err(MALFORMED),
        Value::Object(o) if js::is_truthy(o.get("length")) => Err(MALFORMED),
        _ => Ok(Vec::new()),
    }
}

/// `clerk_trace_id` of the body if it is a string, else the `cf-ray` header, else `''`.
fn trace_id(body: Option<&Value>, resp: &http::Response) -> String {
    if let Some(Value::String(id)) = body.and_then(|b| b.as_object()).and_then(|o| o.get("clerk_trace_id")) {
        return id.clone();
    }
    resp.header_str("cf-ray").unwrap_or("").to_owned()
}

/// The not-found message `handleClerkAPIError` is given for each machine token type.
pub fn not_found_message(token_type: TokenType) -> &'static str {
    match token_type {
        TokenType::M2MToken => "Machine token not found",
        TokenType::OAuthToken => "OAuth token not found",
        TokenType::ApiKey => "API key not found",
        TokenType::SessionToken => "Token not found",
    }
}

/// The reason of a failed Backend API call: from its status, or without one from what failed on
/// the way (`kind`: the [`http::HttpError::kind`] of a transport failure, or ours).
pub fn failure_reason(e: &ClerkApiResponseError) -> FailureReason {
    use crate::errors::TransportKind;
    match e.status {
        Some(401 | 403) => FailureReason::Credentials,
        Some(404) => FailureReason::NotFound,
        Some(400..=428 | 430..=499) => FailureReason::Refused,
        Some(s) => FailureReason::unavailable(Transport::status(s, e.retry_after, e.attempts)),
        None => {
            let kind = match e.kind {
                Some("connect") => TransportKind::Connect,
                Some("timeout") => TransportKind::Timeout,
                Some("network") => TransportKind::Network,
                Some("body-too-large") => TransportKind::BodyTooLarge,
                Some("redirect") => TransportKind::Redirect,
                Some("protocol") => TransportKind::Protocol,
                Some("client") => TransportKind::Client,
                Some(KIND_INVALID_RESPONSE) => TransportKind::InvalidResponse,
                Some(KIND_MISSING_SECRET_KEY) => return FailureReason::NoKey,
                // A request refused before sending (bad parameters), or a bug.
                _ => return FailureReason::Internal,
            };
            let message = e.errors.first().map(|x| x.message.clone()).unwrap_or_default();
            FailureReason::unavailable(Transport { kind, status: None, retry_after: None, attempts: e.attempts, message })
        }
    }
}

/// `handleClerkAPIError` (§2.4): 401 → `secret-key-invalid` with the API's first
/// message (or `Invalid secret key`); 404 → `token-invalid` with
/// `not_found_message` (empty → the usual one for `token_type`); anything
/// else, including failures without a status → `unexpected-error`
/// `Unexpected error` with the status. Never an `action`. The reason is
/// [`failure_reason`] (for failures without a status, the transport failure).
pub fn map_machine_error(token_type: TokenType, err: &ClerkApiResponseError, not_found: &str) -> MachineTokenVerificationError {
    let (code, message) = match err.status {
        Some(401) => {
            let first = err.errors.first().map(|e| e.message.as_str()).filter(|m| !m.is_empty());
            (MachineErrorCode::InvalidSecretKey, first.unwrap_or("Invalid secret key").to_owned())
        }
        Some(404) => {
            let msg = if not_found.is_empty() { not_found_message(token_type) } else { not_found };
            (MachineErrorCode::TokenInvalid, msg.to_owned())
        }
        _ => (MachineErrorCode::UnexpectedError, "Unexpected error".to_owned()),
    };
    MachineTokenVerificationError::new(code, failure_reason(err), message).with_status(err.status)
}

// ---------------------------------------------------------------------------
// The request layer (`buildRequest`)

struct Call<'a> {
    method: Method,
    url: Url,
    bearer: Option<&'a Secret>,
    body: Option<Value>,
    retry: Retry,
}

/// Sends a call and turns the answer into the JSON object it must be, or the
/// `ClerkAPIResponseError` the reference would throw.
async fn execute(cfg: &BapiConfig, call: Call<'_>) -> Result<Value, ClerkApiResponseError> {
    let body = match &call.body {
        Some(v) => Some(serde_json::to_vec(v).map_err(|_| unexpected_error(KIND_INVALID_REQUEST, "The request body could not be encoded."))?),
        None => None,
    };
    let resp = http::send(http::Request {
        method: call.method,
        url: &call.url,
        bearer: call.bearer,
        body,
        retry: call.retry,
        timeout: cfg.timeout,
    })
    .await
    .map_err(|e| ClerkApiResponseError { attempts: e.attempts(), ..unexpected_error(e.kind(), e.to_string()) })?;
    interpret(&resp).map_err(|e| ClerkApiResponseError { attempts: resp.attempts, ..e })
}

/// The response half of `buildRequest`, with the divergences listed in the module docs.
fn interpret(resp: &http::Response) -> Result<Value, ClerkApiResponseError> {
    let json = if resp.is_json() {
        match crate::json::parse_segment(&resp.body) {
            Some(v) => Some(v),
            // `res.json()` threw: caught by the reference and reported without a status.
            None => return Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} with an invalid JSON body.", resp.status))),
        }
    } else {
        None
    };
    if !resp.is_success() {
        let errors = match &json {
            Some(v) => parse_errors(v).map_err(|m| unexpected_error(KIND_INVALID_RESPONSE, m))?,
            None => Vec::new(),
        };
        return Err(ClerkApiResponseError {
            status: Some(resp.status),
            status_text: resp.status_text().to_owned(),
            errors,
            clerk_trace_id: trace_id(json.as_ref(), resp),
            retry_after: resp.retry_after(),
            kind: None,
            attempts: resp.attempts,
        });
    }
    match json {
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} with JSON that is not an object.", resp.status))),
        None => {
            let content_type = resp.header_str("content-type").map(crate::redact::echo_untrusted).unwrap_or_else(|| "none".to_owned());
            Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} without a JSON body (content-type: {content_type}).", resp.status)))
        }
    }
}

fn url_or_error(url: Result<Url, String>) -> Result<Url, ClerkApiResponseError> {
    url.map_err(|m| unexpected_error(KIND_INVALID_REQUEST, m))
}

// ---------------------------------------------------------------------------
// Opaque token verification

/// `POST {apiUrl}/m2m_tokens/verify` `{"token"}` with the machine secret key,
/// else the secret key, else no `Authorization` header at all (§2.3, parity:
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

// ---------------------------------------------------------------------------
// JWKS

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

// ---------------------------------------------------------------------------
// M2M token API (`client.m2m`)

/// `client.m2m.createToken(params)`.
#[derive(Clone, Default)]
pub struct CreateM2mTokenParams {
    /// Per-call credential; wins over the config's keys when non-empty.
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

/// `client.m2m.revokeToken(params)`.
#[derive(Clone, Default)]
pub struct RevokeM2mTokenParams {
    pub m2m_token_id: String,
    /// `None` is sent as `null`.
    pub revocation_reason: Option<String>,
    pub machine_secret_key: Option<Secret>,
}

impl fmt::Debug for RevokeM2mTokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeM2mTokenParams")
            .field("m2m_token_id", &crate::redact::echo_untrusted(&self.m2m_token_id))
            .field("revocation_reason", &self.revocation_reason)
            .field("machine_secret_key", &self.machine_secret_key)
            .finish()
    }
}

/// `client.m2m.list(params)`: falsy values (`None`, `""`, `false`, `0`, NaN) are left out of the query.
#[derive(Clone, Default)]
pub struct ListM2mTokensParams {
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
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn cfg(url: &str) -> BapiConfig {
        BapiConfig::new(Url::parse(url).unwrap())
    }

    #[test]
    fn urls_match_join_paths() {
        let c = cfg("https://api.clerk.com");
        assert_eq!(build_url(&c, false, &["m2m_tokens", "verify"]).unwrap().as_str(), "https://api.clerk.com/m2m_tokens/verify");
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/v1/jwks");
        assert_eq!(build_url(&c, true, &["machines"]).unwrap().as_str(), "https://api.clerk.com/v1/machines");
        assert_eq!(build_url(&c, false, &["oauth_applications", "access_tokens", "verify"]).unwrap().as_str(), "https://api.clerk.com/oauth_applications/access_tokens/verify");
        let c = cfg("http://h/proxy");
        assert_eq!(jwks_url(&c).unwrap().as_str(), "http://h/proxy/v1/jwks");
        assert_eq!(build_url(&c, false, &["api_keys", "verify"]).unwrap().as_str(), "http://h/proxy/api_keys/verify");
        let c = cfg("http://127.0.0.1:9//a//b%20c/?q=1#f");
        assert_eq!(build_url(&c, false, &["m2m_tokens"]).unwrap().as_str(), "http://127.0.0.1:9/a/b%20c/m2m_tokens");
        let mut c = cfg("https://api.clerk.com/");
        c.api_version = "v2".into();
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/v2/jwks");
        c.api_version = String::new();
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/jwks");
    }

    #[test]
    fn ids_are_encoded_and_dot_segments_refused() {
        let c = cfg("https://api.clerk.com");
        let u = build_url(&c, false, &["m2m_tokens", "mt_a?b#c/d%2e", "revoke"]).unwrap();
        assert_eq!(u.as_str(), "https://api.clerk.com/m2m_tokens/mt_a%3Fb%23c%2Fd%252e/revoke");
        assert_eq!(u.path_segments().unwrap().count(), 3);
        for bad in ["..", ".", "../machines/mch_x", "a\\..", "%2e%2e", "%252e%252E", "x/./y"] {
            let e = build_url(&c, false, &["m2m_tokens", bad, "revoke"]).unwrap_err();
            assert!(e.starts_with("joinPaths: \".\" and \"..\" path segments are not allowed"), "{bad}: {e}");
        }
        let mut layered = "..".to_owned();
        for _ in 0..11 {
            layered = layered.replace('%', "%25").replace('.', "%2e");
        }
        let e = build_url(&c, false, &[&layered]).unwrap_err();
        assert!(e.starts_with("joinPaths: too many layers of encoding"), "{e}");
        // Malformed escapes stop decoding, like decodeURIComponent throwing.
        assert!(build_url(&c, false, &["%zz..x"]).is_ok());
        assert!(build_url(&c, false, &["%"]).is_ok());
        assert!(build_url(&c, false, &["%ff"]).is_ok());
        assert!(join_url(&Url::parse("mailto:a@b").unwrap(), &["x"]).is_err());
    }

    fn resp(status: u16, content_type: Option<&str>, body: &str, extra: &[(&'static str, &'static str)]) -> http::Response {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        for (k, v) in extra {
            headers.insert(*k, HeaderValue::from_static(v));
        }
        http::Response { status, headers, body: body.as_bytes().to_vec(), attempts: 1 }
    }

    #[test]
    fn error_bodies_parse_like_the_reference() {
        let body = r#"{"errors":[{"code":"c","message":"m","long_message":"lm","meta":{"param_name":"p"}},{"code":5,"message":0}],"clerk_trace_id":"t1"}"#;
        let e = interpret(&resp(401, Some("application/json"), body, &[("cf-ray", "ray"), ("retry-after", "7")])).unwrap_err();
        assert_eq!(e.status, Some(401));
        assert_eq!(e.status_text, "Unauthorized");
        assert_eq!(e.clerk_trace_id, "t1");
        assert_eq!(e.retry_after, Some(7));
        assert_eq!(e.kind, None);
        assert_eq!(e.errors.len(), 2);
        assert_eq!((e.errors[0].code.as_str(), e.errors[0].message.as_str()), ("c", "m"));
        assert_eq!(e.errors[0].long_message.as_deref(), Some("lm"));
        assert_eq!(e.errors[0].meta, Some(json!({"param_name":"p"})));
        assert_eq!((e.errors[1].code.as_str(), e.errors[1].message.as_str()), ("5", ""));
        // cf-ray when the body has no string trace id; charset parameter still parsed.
        let e = interpret(&resp(500, Some("application/json; charset=utf-8"), r#"{"clerk_trace_id":7}"#, &[("cf-ray", "ray")])).unwrap_err();
        assert_eq!((e.status, e.clerk_trace_id.as_str(), e.errors.len()), (Some(500), "ray", 0));
        // Non-JSON error body: status kept, no errors, no trace id.
        let e = interpret(&resp(503, Some("text/html"), "<html>", &[])).unwrap_err();
        assert_eq!((e.status, e.status_text.as_str(), e.errors.len(), e.clerk_trace_id.as_str()), (Some(503), "Service Unavailable", 0, ""));
        // Invalid JSON with a JSON content type: the reference's parse throws → no status.
        let e = interpret(&resp(401, Some("application/json"), "{not json", &[])).unwrap_err();
        assert_eq!((e.status, e.kind), (None, Some(KIND_INVALID_RESPONSE)));
        assert_eq!(e.errors[0].code, "unexpected_error");
        // Malformed `errors` values.
        for (body, ok) in [(r#"{"errors":null}"#, false), (r#"{"errors":"x"}"#, false), (r#"{"errors":[null]}"#, false), (r#"{"errors":{"length":1}}"#, false), (r#"{"errors":{}}"#, true), (r#"{"errors":""}"#, true), (r#"{"errors":5}"#, true), (r#"{"errors":[5]}"#, true), ("[1]", true), ("null", true)] {
            let e = interpret(&resp(400, Some("application/json"), body, &[])).unwrap_err();
            assert_eq!(e.status.is_some(), ok, "{body}");
        }
    }

    #[test]
    fn success_bodies_must_be_json_objects() {
        assert_eq!(interpret(&resp(200, Some("application/json; charset=utf-8"), r#"{"id":"mt_1"}"#, &[])).unwrap(), json!({"id":"mt_1"}));
        assert_eq!(interpret(&resp(201, Some("Application/JSON"), "\u{feff}{}", &[])).unwrap(), json!({}));
        for (ct, body) in [(Some("text/plain"), "success"), (None, "{}"), (Some("application/json"), "null"), (Some("application/json"), "[]"), (Some("application/json"), "\"s\""), (Some("application/json"), "{"), (Some("application/json"), "")] {
            let e = interpret(&resp(200, ct, body, &[])).unwrap_err();
            assert_eq!((e.status, e.kind), (None, Some(KIND_INVALID_RESPONSE)), "{ct:?} {body}");
            assert_eq!(e.errors[0].code, "unexpected_error");
        }
        let e = interpret(&resp(204, None, "", &[])).unwrap_err();
        assert_eq!(e.kind, Some(KIND_INVALID_RESPONSE));
    }

    fn api_err(status: Option<u16>, messages: &[&str]) -> ClerkApiResponseError {
        let mut e = unexpected_error("x", "");
        e.status = status;
        e.errors = messages.iter().map(|m| ClerkApiError { code: "c".into(), message: (*m).into(), long_message: None, meta: None }).collect();
        e
    }

    #[test]
    fn machine_error_mapping_is_exactly_section_2_4() {
        let m = map_machine_error(TokenType::M2MToken, &api_err(Some(401), &["The provided Machine Secret Key is invalid."]), "Machine token not found");
        assert_eq!((m.code, m.message.as_str(), m.status, m.action.as_deref()), (MachineErrorCode::InvalidSecretKey, "The provided Machine Secret Key is invalid.", Some(401), None));
        for msgs in [&[][..], &[""][..]] {
            let m = map_machine_error(TokenType::M2MToken, &api_err(Some(401), msgs), "x");
            assert_eq!((m.code, m.message.as_str()), (MachineErrorCode::InvalidSecretKey, "Invalid secret key"));
        }
        let m = map_machine_error(TokenType::ApiKey, &api_err(Some(404), &["nope"]), "API key not found");
        assert_eq!((m.code, m.message.as_str(), m.status), (MachineErrorCode::TokenInvalid, "API key not found", Some(404)));
        let m = map_machine_error(TokenType::OAuthToken, &api_err(Some(404), &[]), "");
        assert_eq!(m.message, "OAuth token not found");
        for status in [Some(400), Some(403), Some(429), Some(500), Some(503), None] {
            let m = map_machine_error(TokenType::M2MToken, &api_err(status, &["detail"]), "x");
            assert_eq!((m.code, m.message.as_str(), m.status, m.action.as_deref()), (MachineErrorCode::UnexpectedError, "Unexpected error", status, None));
        }
        let m = map_machine_error(TokenType::M2MToken, &api_err(None, &[]), "x");
        assert_eq!(m.full_message(), "Unexpected error (code=unexpected-error, status=n/a)");
        assert_eq!(not_found_message(TokenType::M2MToken), "Machine token not found");
    }

    #[test]
    fn failure_reasons_of_api_errors_are_codes_not_messages() {
        use crate::errors::TransportKind;
        let reason = |status: Option<u16>, kind: Option<&'static str>| {
            let mut e = api_err(status, &["the message is never read"]);
            e.kind = kind;
            e.retry_after = Some(7);
            e.attempts = 3;
            failure_reason(&e)
        };
        for (status, expected) in [(401, "credentials"), (403, "credentials"), (404, "not-found"), (400, "refused"), (422, "refused"), (500, "unavailable"), (503, "unavailable")] {
            assert_eq!(reason(Some(status), None).as_str(), expected, "{status}");
        }
        let rate_limited = reason(Some(429), None);
        let t = rate_limited.transport().unwrap();
        assert_eq!((t.kind, t.status, t.retry_after, t.attempts), (TransportKind::RateLimited, Some(429), Some(7), 3));
        assert_eq!(t.message, "the Backend API answered 429 (Too Many Requests); retry after 7 s");
        let t = reason(Some(503), None);
        assert_eq!(t.transport().map(|t| (t.kind, t.status)), Some((TransportKind::Status, Some(503))));
        for (kind, expected) in [("timeout", TransportKind::Timeout), ("connect", TransportKind::Connect), ("network", TransportKind::Network), ("invalid-response", TransportKind::InvalidResponse), ("body-too-large", TransportKind::BodyTooLarge)] {
            let r = reason(None, Some(kind));
            let t = r.transport().unwrap();
            assert_eq!((t.kind, t.status, t.attempts, t.message.as_str()), (expected, None, 3, "the message is never read"), "{kind}");
        }
        assert_eq!(reason(None, Some(KIND_MISSING_SECRET_KEY)), FailureReason::NoKey);
        assert_eq!(reason(None, Some(KIND_INVALID_REQUEST)), FailureReason::Internal);
        assert_eq!(reason(None, None), FailureReason::Internal);
    }

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
    fn credential_precedence() {
        let mut c = cfg("https://api.clerk.com");
        assert!(c.m2m_credential(None).is_none());
        c.secret_key = Some(Secret::new("sk_1"));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "sk_1");
        c.machine_secret_key = Some(Secret::new(""));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "sk_1");
        c.machine_secret_key = Some(Secret::new("ak_m"));
        assert_eq!(c.m2m_credential(None).unwrap().expose(), "ak_m");
        let per_call = Secret::new("ak_call");
        assert_eq!(c.m2m_credential(Some(&per_call)).unwrap().expose(), "ak_call");
        let empty = Secret::new("");
        assert_eq!(c.m2m_credential(Some(&empty)).unwrap().expose(), "ak_m");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let mut c = cfg("https://api.clerk.com");
        c.secret_key = Some(Secret::new("sk_test_CANARY_secret"));
        c.machine_secret_key = Some(Secret::new("ak_CANARY_machine"));
        let p = CreateM2mTokenParams { machine_secret_key: Some(Secret::new("ak_CANARY_call")), claims: Some(json!({"CANARY": 1})), ..Default::default() };
        let r = RevokeM2mTokenParams { m2m_token_id: "mt_1".into(), revocation_reason: None, machine_secret_key: Some(Secret::new("ak_CANARY_x")) };
        let l = ListM2mTokensParams { machine_secret_key: Some(Secret::new("ak_CANARY_y")), ..Default::default() };
        let dbg = format!("{c:?} {p:?} {r:?} {l:?}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
        assert!(dbg.contains("sk_test…"), "{dbg}");
    }

    #[tokio::test]
    async fn local_refusals_send_nothing() {
        // Port 9 on loopback is closed: if a request were sent, the error kind would be "connect".
        let c = cfg("http://127.0.0.1:9");
        let e = verify_oauth_opaque(&c, "oat_x").await.unwrap_err();
        assert_eq!((e.status, e.kind, e.errors[0].message.as_str()), (None, Some(KIND_MISSING_SECRET_KEY), MISSING_SECRET_KEY_MESSAGE));
        assert_eq!(failure_reason(&e), FailureReason::NoKey);
        let e = verify_api_key(&c, "ak_x").await.unwrap_err();
        assert_eq!(e.kind, Some(KIND_MISSING_SECRET_KEY));
        let e = revoke_m2m_token(&c, &RevokeM2mTokenParams::default()).await.unwrap_err();
        assert_eq!((e.kind, e.errors[0].message.as_str()), (Some(KIND_INVALID_REQUEST), MISSING_RESOURCE_ID_MESSAGE));
        let e = revoke_m2m_token(&c, &RevokeM2mTokenParams { m2m_token_id: "../machines/mch_x".into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(e.kind, Some(KIND_INVALID_REQUEST));
        let e = fetch_jwks(&c).await.unwrap_err();
        assert_eq!((e.reason, e.action.as_deref(), &e.failure), (Reason::RemoteJwkFailedToLoad, Some(action::SET_CLERK_SECRET_KEY), &FailureReason::NoKey));
        let m = map_machine_error(TokenType::OAuthToken, &verify_oauth_opaque(&c, "oat_x").await.unwrap_err(), "OAuth token not found");
        assert_eq!((m.code, m.status, m.reason), (MachineErrorCode::UnexpectedError, None, FailureReason::NoKey));
    }
}

//! The error values of failed calls (`ClerkAPIResponseError`), what they mean as failure
//! reasons, and `handleClerkAPIError`'s mapping to machine-token errors.

use crate::constants::TokenType;
use crate::errors::{ClerkApiError, ClerkApiResponseError, FailureReason, MachineErrorCode, MachineTokenVerificationError, Transport, TransportKind};
use crate::js;
use serde_json::Value;

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
pub(super) fn coerce_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v) if js::is_truthy(Some(v)) => Some(js::to_js_string(v)),
        _ => None,
    }
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

/// `handleClerkAPIError` of the reference: 401 → `secret-key-invalid` with the API's first
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api_err(status: Option<u16>, messages: &[&str]) -> ClerkApiResponseError {
        let mut e = unexpected_error("x", "");
        e.status = status;
        e.errors = messages.iter().map(|m| ClerkApiError { code: "c".into(), message: (*m).into(), long_message: None, meta: None }).collect();
        e
    }

    #[test]
    fn machine_error_mapping_is_exactly_the_references_handle_clerk_api_error() {
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
}

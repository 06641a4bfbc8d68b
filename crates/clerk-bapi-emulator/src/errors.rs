//! The emulator's two error types: [`EmulatorError`], what the Rust API (builder, handle) answers,
//! and [`ApiError`], Clerk's error body over HTTP (`{errors:[{code,message,long_message,meta?}],
//! clerk_trace_id}`) — plus the JSON response helper every route uses, so no response ever lacks
//! `Content-Type: application/json`. Neither ever carries a secret.

use crate::ids;
use crate::keys::KeyError;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// `Content-Type` of every emulator response. The reference parses a body as JSON only when the
/// header is exactly this string (no `; charset=…`).
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A JSON response with the exact content type Clerk sends.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    // Serializing a serde_json::Value cannot fail (all keys are strings); fall back to `{}` anyway.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// Everything that can go wrong starting or controlling an emulator. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The builder configuration is inconsistent (message says what).
    #[error("invalid emulator configuration: {0}")]
    InvalidConfig(String),
    /// Binding the listening socket failed.
    #[error("could not bind {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    /// RSA key generation or encoding failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No instance with that index.
    #[error("no instance with index {0}")]
    UnknownInstance(usize),
    /// The operation was refused (duplicate kid, unknown kid, bad seed, bad fault…).
    #[error("{0}")]
    Rejected(String),
    /// `--state FILE` could not be read, is not an emulator state file, or could not be written.
    #[error("state file {path}: {reason}")]
    StateFile { path: String, reason: String },
}

/// An error response in Clerk's format.
/// Kept small (static codes and messages) because every handler returns `Result<_, ApiError>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub long_message: String,
    /// Rendered as `meta.param_name`: Clerk's way of naming the offending parameter.
    pub param: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: &'static str, long_message: impl Into<String>) -> ApiError {
        ApiError { status, code, message, long_message: long_message.into(), param: None }
    }

    /// Adds `meta.param_name`.
    pub fn with_param(mut self, param: &'static str) -> ApiError {
        self.param = Some(param);
        self
    }

    /// 401 for a missing or unknown instance secret key. The code `clerk_key_invalid` is what the
    /// reference's JWKS loader looks for to report `secret-key-invalid`.
    pub fn secret_key_invalid(missing: bool) -> ApiError {
        let long = if missing {
            "The request is missing a Bearer Clerk Secret Key in the Authorization header."
        } else {
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."
        };
        ApiError::new(StatusCode::UNAUTHORIZED, "clerk_key_invalid", "Secret Key invalid", long)
    }

    /// 401 for a missing or unknown machine secret key (also when an instance key is used where
    /// only a machine key is accepted, as on `POST /m2m_tokens`).
    pub fn machine_key_invalid(missing: bool) -> ApiError {
        let long = if missing {
            "The request is missing a Bearer Machine Secret Key in the Authorization header."
        } else {
            "The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct."
        };
        ApiError::new(StatusCode::UNAUTHORIZED, "machine_secret_key_invalid", "The provided Machine Secret Key is invalid.", long)
    }

    /// 404 for an unknown resource or route.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "resource_not_found", "not found", format!("{what} not found"))
    }

    /// 403 when the credential is valid but may not touch this resource.
    pub fn forbidden(long_message: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "authorization_invalid", "Unauthorized request", long_message)
    }

    /// 400 for a required parameter that is absent (or null).
    pub fn param_missing(param: &'static str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "form_param_missing", "is missing", format!("{param} must be included."))
            .with_param(param)
    }

    /// 400 for a parameter of the wrong JSON type. The offending value is never echoed (it may be a secret).
    pub fn param_format_invalid(param: &'static str, expected: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "form_param_format_invalid", "is invalid", format!("{param} must be {expected}."))
            .with_param(param)
    }

    /// 400 for a parameter of the right type but an unacceptable value.
    pub fn param_value_invalid(param: &'static str, why: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "form_param_value_invalid", "is invalid", format!("{param} {why}"))
            .with_param(param)
    }

    /// 400 for a body that is not a JSON object.
    pub fn malformed_body() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request_body", "Malformed request body", "The request body must be a valid JSON object.")
    }

    /// 413 for a body over the emulator's size cap.
    pub fn body_too_large(limit: usize) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large", "Request body too large", format!("The request body must not exceed {limit} bytes."))
    }

    /// 405 for a known path with an unsupported method.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed", "This endpoint does not support the requested HTTP method.")
    }

    /// 400 for an admin API request the emulator cannot carry out (admin input holds no secrets).
    pub fn admin_invalid(long_message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "admin_request_invalid", "Invalid admin request", long_message)
    }

    /// 408 for a request whose body did not arrive within the emulator's deadline.
    pub fn body_timeout(seconds: u64) -> ApiError {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", "Request timeout", format!("The request body did not arrive within {seconds} s."))
    }

    /// 403 for an admin or dashboard request refused by the emulator's own guard (Host, CSRF).
    pub fn refused(code: &'static str, long_message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, "Refused by the emulator", long_message)
    }

    /// 500 for an internal failure (e.g. key generation).
    pub fn internal(long_message: &str) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_clerk_error", "Oops, an unexpected error occurred", long_message)
    }

    /// The JSON body, with a fresh `clerk_trace_id`.
    pub fn body(&self) -> Value {
        let mut entry = json!({ "code": self.code, "message": self.message, "long_message": self.long_message });
        if let (Some(param), Some(obj)) = (self.param, entry.as_object_mut()) {
            obj.insert("meta".to_owned(), json!({ "param_name": param }));
        }
        json!({ "errors": [entry], "clerk_trace_id": ids::trace_id() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// How the admin API answers a failed operation: unknown instances are 404s, a key that could not
/// be generated a 500, everything else the caller's mistake (400).
impl From<EmulatorError> for ApiError {
    fn from(e: EmulatorError) -> ApiError {
        match e {
            EmulatorError::UnknownInstance(_) => ApiError::not_found("Instance"),
            EmulatorError::Key(KeyError::InvalidPrivateKey) => ApiError::admin_invalid(e.to_string()),
            EmulatorError::Key(_) | EmulatorError::StateFile { .. } | EmulatorError::Bind { .. } => ApiError::internal(&e.to_string()),
            other => ApiError::admin_invalid(other.to_string()),
        }
    }
}

/// A Clerk-format error body for an arbitrary status (used by the `status` fault when no body is given).
pub fn generic_error_body(status: StatusCode) -> Value {
    let (code, message) = match status.as_u16() {
        400 => ("bad_request", "Bad request"),
        401 => ("authentication_invalid", "Unauthorized"),
        403 => ("authorization_invalid", "Forbidden"),
        404 => ("resource_not_found", "not found"),
        429 => ("too_many_requests", "Too many requests"),
        500 => ("internal_clerk_error", "Oops, an unexpected error occurred"),
        502 => ("bad_gateway", "Bad gateway"),
        503 => ("service_unavailable", "Service unavailable"),
        504 => ("gateway_timeout", "Gateway timeout"),
        _ => ("emulated_error", "Emulated error"),
    };
    ApiError::new(status, code, message, format!("Emulated HTTP {} response.", status.as_u16())).body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let body = ApiError::param_missing("token").body();
        let err = &body["errors"][0];
        assert_eq!(err["code"], "form_param_missing");
        assert_eq!(err["meta"]["param_name"], "token");
        assert_eq!(err["long_message"], "token must be included.");
        assert_eq!(body["clerk_trace_id"].as_str().unwrap().len(), 32);
        let keys: Vec<&str> = err.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["code", "message", "long_message", "meta"]);
    }

    #[test]
    fn no_meta_when_unset() {
        let body = ApiError::secret_key_invalid(false).body();
        assert!(body["errors"][0].get("meta").is_none());
        assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
        assert_ne!(ApiError::secret_key_invalid(true).long_message, ApiError::secret_key_invalid(false).long_message);
        assert_eq!(ApiError::machine_key_invalid(true).code, "machine_secret_key_invalid");
    }

    #[test]
    fn into_response_sets_status_and_exact_content_type() {
        let res = ApiError::not_found("Token").into_response();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn emulator_errors_display_without_secrets_and_map_to_statuses() {
        assert_eq!(EmulatorError::Rejected("x".into()).to_string(), "x");
        assert_eq!(EmulatorError::UnknownInstance(3).to_string(), "no instance with index 3");
        assert_eq!(ApiError::from(EmulatorError::UnknownInstance(3)).status, StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from(EmulatorError::Rejected("no".into())).code, "admin_request_invalid");
        assert_eq!(ApiError::from(EmulatorError::Key(KeyError::Generate)).status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ApiError::from(EmulatorError::Key(KeyError::InvalidPrivateKey)).status, StatusCode::BAD_REQUEST);
        let e = EmulatorError::StateFile { path: "s.json".into(), reason: "not JSON".into() };
        assert_eq!(e.to_string(), "state file s.json: not JSON");
    }

    #[test]
    fn generic_bodies_cover_known_and_unknown_statuses() {
        for (status, code) in [(429, "too_many_requests"), (503, "service_unavailable"), (418, "emulated_error"), (500, "internal_clerk_error")] {
            let body = generic_error_body(StatusCode::from_u16(status).unwrap());
            assert_eq!(body["errors"][0]["code"], code);
        }
    }
}

//! The error values of `@clerk/backend`, as plain data.
//!
//! The JS layer turns these into real `Error` subclasses with the same fields.
//! Messages here must never contain a secret key, a machine secret or a whole
//! token: see [`crate::redact`].

/// `TokenVerificationErrorAction` values.
pub mod action {
    pub const CONTACT_SUPPORT: &str = "Contact support@clerk.com";
    pub const ENSURE_CLERK_JWT: &str = "Make sure that this is a valid Clerk-generated JWT.";
    pub const SET_CLERK_JWT_KEY: &str = "Set the CLERK_JWT_KEY environment variable.";
    pub const SET_CLERK_SECRET_KEY: &str = "Set the CLERK_SECRET_KEY environment variable.";
    pub const ENSURE_CLOCK_SYNC: &str =
        "Make sure your system clock is in sync (e.g. turn off and on automatic time synchronization).";
}

/// `TokenVerificationErrorReason` values (3.25.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    TokenExpired,
    TokenInvalid,
    TokenInvalidAlgorithm,
    TokenInvalidAuthorizedParties,
    TokenInvalidIssuer,
    TokenInvalidSignature,
    TokenNotActiveYet,
    TokenIatInTheFuture,
    TokenVerificationFailed,
    InvalidSecretKey,
    LocalJwkMissing,
    RemoteJwkFailedToLoad,
    RemoteJwkInvalid,
    RemoteJwkMissing,
    JwkFailedToResolve,
    JwkKidMismatch,
}

impl Reason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::TokenExpired => "token-expired",
            Reason::TokenInvalid => "token-invalid",
            Reason::TokenInvalidAlgorithm => "token-invalid-algorithm",
            Reason::TokenInvalidAuthorizedParties => "token-invalid-authorized-parties",
            Reason::TokenInvalidIssuer => "token-invalid-issuer",
            Reason::TokenInvalidSignature => "token-invalid-signature",
            Reason::TokenNotActiveYet => "token-not-active-yet",
            Reason::TokenIatInTheFuture => "token-iat-in-the-future",
            Reason::TokenVerificationFailed => "token-verification-failed",
            Reason::InvalidSecretKey => "secret-key-invalid",
            Reason::LocalJwkMissing => "jwk-local-missing",
            Reason::RemoteJwkFailedToLoad => "jwk-remote-failed-to-load",
            Reason::RemoteJwkInvalid => "jwk-remote-invalid",
            Reason::RemoteJwkMissing => "jwk-remote-missing",
            Reason::JwkFailedToResolve => "jwk-failed-to-resolve",
            Reason::JwkKidMismatch => "jwk-kid-mismatch",
        }
    }
}

/// `TokenVerificationError`: what `verifyJwt` and the key loaders produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TokenVerificationError {
    pub reason: Reason,
    pub message: String,
    pub action: Option<String>,
}

impl TokenVerificationError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self { reason, message: message.into(), action: None }
    }

    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
}

/// `MachineTokenVerificationErrorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineErrorCode {
    TokenInvalid,
    InvalidSecretKey,
    UnexpectedError,
    TokenVerificationFailed,
}

impl MachineErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            MachineErrorCode::TokenInvalid => "token-invalid",
            MachineErrorCode::InvalidSecretKey => "secret-key-invalid",
            MachineErrorCode::UnexpectedError => "unexpected-error",
            MachineErrorCode::TokenVerificationFailed => "token-verification-failed",
        }
    }
}

/// `MachineTokenVerificationError`: the single entry of `errors` in a machine verification result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MachineTokenVerificationError {
    pub code: MachineErrorCode,
    pub message: String,
    pub status: Option<u16>,
    pub action: Option<String>,
}

impl MachineTokenVerificationError {
    pub fn new(code: MachineErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), status: None, action: None }
    }

    pub fn with_status(mut self, status: Option<u16>) -> Self {
        self.status = status;
        self
    }

    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// `getFullMessage()`: `<message> (code=<code>, status=<status or n/a>)`.
    pub fn full_message(&self) -> String {
        let status = match self.status {
            Some(s) if s != 0 => s.to_string(),
            _ => "n/a".to_owned(),
        };
        format!("{} (code={}, status={})", self.message, self.code.as_str(), status)
    }
}

/// One entry of a Backend API error body (`ClerkAPIError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkApiError {
    pub code: String,
    pub message: String,
    pub long_message: Option<String>,
    /// The raw `meta` object, if any (the JS layer maps its keys to camelCase).
    pub meta: Option<serde_json::Value>,
}

/// `ClerkAPIResponseError`: a failed Backend API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status_text}")]
pub struct ClerkApiResponseError {
    /// HTTP status; `None` for network failures, timeouts and unparsable responses.
    pub status: Option<u16>,
    /// The HTTP status text (`Unauthorized`…), or `''` for network failures: the JS `message`.
    pub status_text: String,
    pub errors: Vec<ClerkApiError>,
    pub clerk_trace_id: String,
    pub retry_after: Option<u64>,
    /// Our own classification of a failure that never produced a status (`timeout`, `network`, `body-too-large`…).
    pub kind: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_message_formats_like_the_reference() {
        let e = MachineTokenVerificationError::new(MachineErrorCode::TokenInvalid, "Machine token not found").with_status(Some(404));
        assert_eq!(e.full_message(), "Machine token not found (code=token-invalid, status=404)");
        let e = MachineTokenVerificationError::new(MachineErrorCode::TokenVerificationFailed, "Failed to resolve JWK during verification.");
        assert_eq!(e.full_message(), "Failed to resolve JWK during verification. (code=token-verification-failed, status=n/a)");
    }
}

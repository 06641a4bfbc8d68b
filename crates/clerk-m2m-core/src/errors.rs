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

impl Reason {
    /// The failure reason a `TokenVerificationError` of this kind stands for, unless its
    /// constructor says otherwise ([`TokenVerificationError::with_failure`]): the reference
    /// uses `token-verification-failed` both for claim rules and for key errors.
    const fn default_failure(self) -> FailureReason {
        match self {
            Reason::TokenExpired => FailureReason::Expired,
            Reason::TokenNotActiveYet | Reason::TokenIatInTheFuture => FailureReason::NotYetValid,
            Reason::TokenInvalidSignature => FailureReason::Signature,
            Reason::TokenInvalidAlgorithm => FailureReason::Algorithm,
            Reason::TokenInvalid | Reason::TokenInvalidAuthorizedParties | Reason::TokenInvalidIssuer | Reason::TokenVerificationFailed => {
                FailureReason::Claims
            }
            Reason::InvalidSecretKey => FailureReason::Credentials,
            Reason::LocalJwkMissing | Reason::RemoteJwkMissing | Reason::JwkFailedToResolve | Reason::RemoteJwkFailedToLoad => FailureReason::NoKey,
            Reason::RemoteJwkInvalid => FailureReason::KeyUnusable,
            Reason::JwkKidMismatch => FailureReason::KidMissing,
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
    /// Our machine-readable reason (the reference's `reason` above is coarser).
    pub failure: FailureReason,
}

impl TokenVerificationError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self { reason, message: message.into(), action: None, failure: reason.default_failure() }
    }

    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    pub fn with_failure(mut self, failure: FailureReason) -> Self {
        self.failure = failure;
        self
    }
}

/// Why a verification (or a Backend API call) failed, as a stable, machine-readable
/// code: what callers branch on, where the reference only has messages for people.
/// It travels with every rejection to JS (`reason` on the error; for
/// [`FailureReason::Unavailable`], the [`Transport`] failure becomes the error's `cause`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// Not a decodable token of the expected shape (base64url, JSON, nesting, prefix).
    Malformed,
    /// Larger than `maxTokenBytes`: refused before any work.
    TooLarge,
    /// Not the kind of token asked for (`verifyM2MToken` given another type, a JWT of neither kind).
    WrongType,
    /// An M2M JWT whose `cat` header is not the M2M category.
    Category,
    /// `alg` is not RS256/RS384/RS512.
    Algorithm,
    /// The signature does not match the key.
    Signature,
    /// The key cannot verify this token (unsupported size, JWK `alg`/`use` mismatch, invalid JWK).
    KeyUnusable,
    /// The instance's JWKS has no key with the token's `kid`.
    KidMissing,
    /// No key to verify with: neither `jwtKey` nor `secretKey` (or the call needs a secret key).
    NoKey,
    /// A header or claim rule failed (`typ`, `sub`, `aud`, `azp`, `iss`, `scopes`, time claims that are not numbers).
    Claims,
    Expired,
    /// `nbf` or `iat` is later than now (plus the skew).
    NotYetValid,
    Revoked,
    /// The Backend API does not know the token (404).
    NotFound,
    /// The Backend API refused the request for another reason (a 4xx other than 401, 403, 404, 429).
    Refused,
    /// The Backend API refused the credentials (401/403, `clerk_key_invalid`).
    Credentials,
    /// The Backend API or JWKS could not give an answer.
    Unavailable(Box<Transport>),
    /// A bug (a task that died); never expected.
    Internal,
}

impl FailureReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureReason::Malformed => "malformed",
            FailureReason::TooLarge => "too-large",
            FailureReason::WrongType => "wrong-type",
            FailureReason::Category => "category",
            FailureReason::Algorithm => "algorithm",
            FailureReason::Signature => "signature",
            FailureReason::KeyUnusable => "key-unusable",
            FailureReason::KidMissing => "kid-missing",
            FailureReason::NoKey => "no-key",
            FailureReason::Claims => "claims",
            FailureReason::Expired => "expired",
            FailureReason::NotYetValid => "not-yet-valid",
            FailureReason::Revoked => "revoked",
            FailureReason::NotFound => "not-found",
            FailureReason::Refused => "refused",
            FailureReason::Credentials => "credentials",
            FailureReason::Unavailable(_) => "unavailable",
            FailureReason::Internal => "internal",
        }
    }

    /// The transport failure behind [`FailureReason::Unavailable`].
    pub fn transport(&self) -> Option<&Transport> {
        match self {
            FailureReason::Unavailable(t) => Some(t),
            _ => None,
        }
    }

    pub fn unavailable(transport: Transport) -> Self {
        FailureReason::Unavailable(Box::new(transport))
    }
}

pub(crate) fn retry_after_text(retry_after: Option<u64>) -> String {
    retry_after.map(|s| format!("; retry after {s} s")).unwrap_or_default()
}

/// What failed between us and the Backend API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection (refused, unreachable, TLS handshake).
    Connect,
    /// The call's deadline passed (retries included).
    Timeout,
    /// An answer with an error status (5xx, or any status where none was expected).
    Status,
    /// 429, with `retry_after` when the API sent one.
    RateLimited,
    /// The connection failed after it was made, before a response.
    Network,
    /// A response we cannot use (not JSON, not an object, no signing keys).
    InvalidResponse,
    BodyTooLarge,
    /// A 3xx: redirects are not followed.
    Redirect,
    Protocol,
    /// The HTTP client could not be built or the request could not be expressed (e.g. a key that cannot be a header).
    Client,
}

impl TransportKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Status => "status",
            TransportKind::RateLimited => "rate-limited",
            TransportKind::Network => "network",
            TransportKind::InvalidResponse => "invalid-response",
            TransportKind::BodyTooLarge => "body-too-large",
            TransportKind::Redirect => "redirect",
            TransportKind::Protocol => "protocol",
            TransportKind::Client => "client",
        }
    }
}

impl serde::Serialize for TransportKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Why the Backend API (or JWKS) gave no usable answer. `message` is ours and names
/// the URL without query or credentials ([`crate::http::display_url`]): never a key or a token.
/// Serialised (in this field order) as the `transport` of a rejection the JS layer receives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Transport {
    pub kind: TransportKind,
    pub message: String,
    /// The HTTP status, for [`TransportKind::Status`], [`TransportKind::RateLimited`] and [`TransportKind::Redirect`].
    pub status: Option<u16>,
    /// Seconds, from `Retry-After`.
    #[serde(rename = "retryAfter")]
    pub retry_after: Option<u64>,
    /// How many times the request was sent (0 = never).
    pub attempts: u32,
}

impl Transport {
    /// An answer with an unusable status.
    pub fn status(status: u16, retry_after: Option<u64>, attempts: u32) -> Self {
        if status == 429 {
            return Transport {
                kind: TransportKind::RateLimited,
                status: Some(429),
                retry_after,
                attempts,
                message: format!("the Backend API answered 429 (Too Many Requests){}", retry_after_text(retry_after)),
            };
        }
        Transport { kind: TransportKind::Status, status: Some(status), retry_after, attempts, message: format!("the Backend API answered {status}") }
    }

    /// A response that could not be used.
    pub fn invalid_response(message: impl Into<String>, attempts: u32) -> Self {
        Transport { kind: TransportKind::InvalidResponse, status: None, retry_after: None, attempts, message: message.into() }
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
    /// Ours, not the reference's: why, as a code (`reason` in JS, not enumerable).
    pub reason: FailureReason,
}

impl MachineTokenVerificationError {
    pub fn new(code: MachineErrorCode, reason: FailureReason, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), status: None, action: None, reason }
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
    /// How many times the request was sent (0 = refused before sending).
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_message_formats_like_the_reference() {
        let e = MachineTokenVerificationError::new(MachineErrorCode::TokenInvalid, FailureReason::NotFound, "Machine token not found").with_status(Some(404));
        assert_eq!(e.full_message(), "Machine token not found (code=token-invalid, status=404)");
        let e = MachineTokenVerificationError::new(MachineErrorCode::TokenVerificationFailed, FailureReason::NoKey, "Failed to resolve JWK during verification.");
        assert_eq!(e.full_message(), "Failed to resolve JWK during verification. (code=token-verification-failed, status=n/a)");
    }
}

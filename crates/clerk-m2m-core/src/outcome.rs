//! What a verification settles to ([`Outcome`]) and its wire form: the one JSON text that
//! crosses into JavaScript, where `lib/verify.js` builds `{ data, tokenType, errors }`.
//!
//! One serialiser ([`Wire`], written straight from the fields with serde: no `Value` tree, no
//! clones) has two shapes: a verified M2M JWT (the hot path) as a positional array, which
//! `JSON.parse` reads in about half the time of an object (measured: 1.0 µs against 1.9 µs),
//! and everything else as an object: `{tokenType, kind, data, reuseUntil?}`,
//! `{tokenType, error}` or `{throw}`.

use crate::constants::TokenType;
use crate::errors::{FailureReason, MachineErrorCode, MachineTokenVerificationError, Transport};
use crate::js::value::{Fields, JsJson};
use crate::resources::{IdPOAuthAccessToken, M2MToken};
use serde::Serialize;
use serde_json::Value;

/// A successful verification's data.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifiedData {
    M2MJwt(M2MToken),
    OAuthJwt(IdPOAuthAccessToken),
    /// The Backend API's JSON answer, deserialised by the JS layer like the reference's `deserialize`.
    Api(Value),
}

/// The settled result of one verification.
// Not boxed: a verification builds one `Outcome` and moves it a few times;
// a box would be one more allocation on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Verified { token_type: TokenType, data: VerifiedData },
    Rejected { token_type: TokenType, error: MachineTokenVerificationError },
    /// The reference throws `Error('Unknown machine token type')`.
    Unroutable,
}

/// The reference's message for a token it cannot route.
pub const UNKNOWN_MACHINE_TOKEN_TYPE: &str = "Unknown machine token type";

/// Longest reuse of a verified JWT outcome: the JWKS TTL (a JWKS-verified outcome is
/// further bounded by the expiry of the fetch that supplied its key).
pub const REUSE_MAX_MS: f64 = 300_000.0;

impl Outcome {
    pub(crate) fn rejected(token_type: TokenType, code: MachineErrorCode, reason: FailureReason, message: impl Into<String>) -> Self {
        Outcome::Rejected { token_type, error: MachineTokenVerificationError::new(code, reason, message) }
    }

    /// What the binding sends to JS: the positional array for a verified M2M JWT
    /// (`["m2m", id, subject, scopes, claims, revoked, revocationReason, expired,
    /// expiration, createdAt, updatedAt, reuseUntil | null]`, numbers as the object form
    /// writes them) when no field but `token` is undefined; else
    /// [`Outcome::to_json_string_with`].
    pub fn to_wire_string(&self, reuse_until: Option<f64>) -> String {
        self.write(Shape::Compact, reuse_until)
    }

    #[cfg(any(test, feature = "test-hooks"))]
    /// The object form of every outcome (a verified M2M JWT too), without `reuseUntil`.
    pub fn to_json_string(&self) -> String {
        self.write(Shape::Object, None)
    }

    #[cfg(any(test, feature = "test-hooks"))]
    /// [`Outcome::to_json_string`] with `reuseUntil` (ms) appended to a verified outcome.
    pub fn to_json_string_with(&self, reuse_until: Option<f64>) -> String {
        self.write(Shape::Object, reuse_until)
    }

    fn write(&self, shape: Shape, reuse_until: Option<f64>) -> String {
        let wire = Wire::of(self, shape, reuse_until);
        let mut out = Vec::with_capacity(if matches!(wire, Wire::Compact(..)) { 384 } else { 512 });
        match serde_json::to_writer(&mut out, &wire) {
            // serde_json writes UTF-8 only; the fallback is unreachable but never panics.
            Ok(()) => String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            // Unreachable too (every field serialises); answered as the internal error it would be.
            Err(_) => INTERNAL_ERROR_WIRE.to_owned(),
        }
    }

    /// Until when (ms) the same token would get exactly this outcome again, for
    /// a verified JWT: its time claims only tighten with time (`exp` is the
    /// one upper bound; `nbf`/`iat` already passed), so the answer holds until
    /// `exp` (minus a second for truncation, plus the skew), and at most
    /// [`REUSE_MAX_MS`]. `None` for anything else (rejections and opaque answers
    /// are never reused this way).
    pub fn reusable_until(&self, now_ms: f64, clock_skew_ms: f64) -> Option<f64> {
        let Outcome::Verified { data, .. } = self else { return None };
        let expiration = match data {
            VerifiedData::M2MJwt(t) => t.expiration.as_f64(),
            VerifiedData::OAuthJwt(t) => t.expiration.as_f64(),
            VerifiedData::Api(_) => return None,
        };
        let cap = now_ms + REUSE_MAX_MS;
        let until = match expiration {
            Some(e) if e.is_finite() => (e - 1000.0 + clock_skew_ms).min(cap),
            _ => cap,
        };
        (until > now_ms).then_some(until)
    }
}

/// What [`Outcome::write`] would say if serde ever failed.
const INTERNAL_ERROR_WIRE: &str = r#"{"tokenType":"m2m_token","error":{"code":"unexpected-error","message":"Unexpected error","status":null,"action":null,"reason":"internal"}}"#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The positional array where it applies.
    Compact,
    Object,
}

/// The compact form of a verified M2M JWT: the ten fields after `"m2m"`, then `reuseUntil`.
type CompactM2M<'a> = (&'static str, [JsJson<'a>; 10], Option<f64>);

/// The wire form of an [`Outcome`]: a transient value on the stack, serialised once
/// (boxing the large variants would only add an allocation).
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum Wire<'a> {
    Compact(#[serde(serialize_with = "compact")] CompactM2M<'a>),
    Verified {
        #[serde(rename = "tokenType")]
        token_type: &'a str,
        kind: &'a str,
        data: WireData<'a>,
        #[serde(rename = "reuseUntil", skip_serializing_if = "Option::is_none")]
        reuse_until: Option<f64>,
    },
    Rejected {
        #[serde(rename = "tokenType")]
        token_type: &'a str,
        error: WireError<'a>,
    },
    Unroutable {
        throw: &'a str,
    },
}

/// `["m2m", f1, …, f10, reuseUntil]` as one flat array.
fn compact<S: serde::Serializer>(value: &CompactM2M<'_>, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let (kind, fields, reuse_until) = value;
    let mut seq = serializer.serialize_tuple(fields.len() + 2)?;
    seq.serialize_element(kind)?;
    for field in fields {
        seq.serialize_element(field)?;
    }
    seq.serialize_element(reuse_until)?;
    seq.end()
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireData<'a> {
    M2M(Fields<'a, 11>),
    OAuth(Fields<'a, 13>),
    Api(&'a Value),
}

/// A rejection: the reference's fields, then ours (`reason`, and for `unavailable` the transport failure).
#[derive(Serialize)]
struct WireError<'a> {
    code: &'a str,
    message: &'a str,
    status: Option<u16>,
    action: Option<&'a str>,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'a Transport>,
}

impl<'a> Wire<'a> {
    fn of(outcome: &'a Outcome, shape: Shape, reuse_until: Option<f64>) -> Self {
        match outcome {
            Outcome::Verified { data: VerifiedData::M2MJwt(t), .. } if shape == Shape::Compact => {
                Self::compact_m2m(t, reuse_until).unwrap_or_else(|| Self::of(outcome, Shape::Object, reuse_until))
            }
            Outcome::Verified { token_type, data } => Wire::Verified {
                token_type: token_type.as_str(),
                kind: match data {
                    VerifiedData::M2MJwt(_) => "m2m",
                    VerifiedData::OAuthJwt(_) => "oauth",
                    VerifiedData::Api(_) => "api",
                },
                data: match data {
                    VerifiedData::M2MJwt(t) => WireData::M2M(t.fields()),
                    VerifiedData::OAuthJwt(t) => WireData::OAuth(t.fields()),
                    VerifiedData::Api(v) => WireData::Api(v),
                },
                reuse_until,
            },
            Outcome::Rejected { token_type, error } => Wire::Rejected {
                token_type: token_type.as_str(),
                error: WireError {
                    code: error.code.as_str(),
                    message: &error.message,
                    status: error.status,
                    action: error.action.as_deref(),
                    reason: error.reason.as_str(),
                    transport: error.reason.transport(),
                },
            },
            Outcome::Unroutable => Wire::Unroutable { throw: UNKNOWN_MACHINE_TOKEN_TYPE },
        }
    }

    /// The positional form, when it can say everything: no field undefined but `token`.
    fn compact_m2m(t: &'a M2MToken, reuse_until: Option<f64>) -> Option<Self> {
        let [id, subject, scopes, claims, revoked, revocation_reason, expired, expiration, created_at, updated_at, token] = t.fields().0.map(|(_, v)| v);
        let fields = [id, subject, scopes, claims, revoked, revocation_reason, expired, expiration, created_at, updated_at];
        if fields.iter().any(|f| f.is_undefined()) || !token.is_undefined() {
            return None;
        }
        Some(Wire::Compact(("m2m", fields.map(JsJson), reuse_until)))
    }
}

/// The tree form of an outcome, built independently of [`Wire`] (`json!` and the resources'
/// own trees): the oracle the wire text is tested against.
#[cfg(test)]
impl Outcome {
    pub(crate) fn to_json(&self) -> Value {
        use serde_json::json;
        match self {
            Outcome::Verified { token_type, data } => {
                let (kind, data) = match data {
                    VerifiedData::M2MJwt(t) => ("m2m", t.to_json()),
                    VerifiedData::OAuthJwt(t) => ("oauth", t.to_json()),
                    VerifiedData::Api(v) => ("api", v.clone()),
                };
                json!({ "tokenType": token_type.as_str(), "kind": kind, "data": data })
            }
            Outcome::Rejected { token_type, error } => {
                let mut e = json!({
                    "code": error.code.as_str(),
                    "message": error.message,
                    "status": error.status,
                    "action": error.action,
                    "reason": error.reason.as_str(),
                });
                if let (Some(t), Some(obj)) = (error.reason.transport(), e.as_object_mut()) {
                    obj.insert("transport".into(), json!({"kind": t.kind.as_str(), "message": t.message, "status": t.status, "retryAfter": t.retry_after, "attempts": t.attempts}));
                }
                json!({ "tokenType": token_type.as_str(), "error": e })
            }
            Outcome::Unroutable => json!({ "throw": UNKNOWN_MACHINE_TOKEN_TYPE }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unroutable_and_rejections_serialise_for_js() {
        assert_eq!(Outcome::Unroutable.to_json_string(), r#"{"throw":"Unknown machine token type"}"#);
        let o = Outcome::Rejected { token_type: TokenType::M2MToken, error: MachineTokenVerificationError::new(MachineErrorCode::TokenInvalid, FailureReason::NotFound, "x").with_status(Some(404)) };
        let v: Value = serde_json::from_str(&o.to_json_string()).unwrap();
        assert_eq!(v, json!({"tokenType": "m2m_token", "error": {"code": "token-invalid", "message": "x", "status": 404, "action": null, "reason": "not-found"}}));
    }

    #[test]
    fn the_fallback_text_is_an_internal_error() {
        let v: Value = serde_json::from_str(INTERNAL_ERROR_WIRE).unwrap();
        let internal = Outcome::rejected(TokenType::M2MToken, MachineErrorCode::UnexpectedError, FailureReason::Internal, "Unexpected error");
        assert_eq!(v, internal.to_json());
    }
}

//! Reading a JWT payload or a Backend API body into resource fields, as the reference's
//! `fromJwtPayload`/`fromJSON` read them.

use crate::claims::DEFAULT_CLOCK_SKEW_MS;
use crate::clock::Clock;
use crate::errors::{Reason, TokenVerificationError};
use crate::js::value::JsValue;
use crate::js::{self, json_stringify_opt};
use crate::redact::secret_prefix;
use serde_json::Value;

/// `value[key]`: absent → `undefined`.
pub(super) fn prop(value: &Value, key: &str) -> JsValue {
    JsValue::from_opt(js::get(value, key))
}

/// `x ?? fallback`.
pub(super) fn or_default(value: Option<&Value>, fallback: JsValue) -> JsValue {
    match value {
        None | Some(Value::Null) => fallback,
        Some(v) => JsValue::from_json(v.clone()),
    }
}

/// `str.split(' ')`, as JavaScript splits: `''` → `['']`, doubled spaces give empty entries.
pub(super) fn split_spaces(s: &str) -> JsValue {
    JsValue::Json(Value::Array(s.split(' ').map(|p| Value::String(p.to_owned())).collect()))
}

/// `payload[name] * 1000` in milliseconds, as JS computes it.
fn seconds_to_ms(payload: &Value, name: &str) -> f64 {
    js::to_number(js::get(payload, name)) * 1000.0
}

/// The shared time fields of `fromJwtPayload`: `expired` (`exp * 1000 <=
/// Date.now() - skew`, no truncation; the default applies only when the
/// option is `undefined`, so NaN makes it false), `expiration`, and
/// `createdAt`/`updatedAt` from `iat` (NaN without `iat`).
pub(super) struct PayloadTimes {
    pub expired: bool,
    pub expiration: f64,
    pub created_at: f64,
}

pub(super) fn payload_times(payload: &Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> PayloadTimes {
    let skew = clock_skew_ms.unwrap_or(DEFAULT_CLOCK_SKEW_MS);
    let expiration = seconds_to_ms(payload, "exp");
    PayloadTimes { expired: expiration <= clock.now_ms() - skew, expiration, created_at: seconds_to_ms(payload, "iat") }
}

pub(super) fn not_a_space_separated_string(kind: &str, name: &str, value: Option<&Value>) -> TokenVerificationError {
    TokenVerificationError::new(
        Reason::TokenVerificationFailed,
        format!("Invalid {kind} JWT {name} claim ({name}) {}. Expected a space-separated string.", json_stringify_opt(value)),
    )
}

/// A secret field for `Debug`: at most its 7-character prefix.
pub(super) fn redacted(value: &JsValue) -> String {
    match value {
        JsValue::Undefined => "undefined".to_owned(),
        JsValue::Json(Value::String(s)) => secret_prefix(s),
        JsValue::Json(Value::Null) => "null".to_owned(),
        _ => "<redacted>".to_owned(),
    }
}

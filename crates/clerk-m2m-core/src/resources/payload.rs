//! Reading a JWT payload or a Backend API body into resource fields, as the reference's
//! `fromJwtPayload`/`fromJSON` read them.

use crate::claims::DEFAULT_CLOCK_SKEW_MS;
use crate::clock::Clock;
use crate::errors::{Reason, TokenVerificationError};
use crate::js::value::JsValue;
use crate::js::{self, json_stringify_opt};
use crate::json::FieldRef;
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

/// `x ?? fallback` of a borrowed field.
pub(super) fn or_default_field(value: Option<FieldRef<'_>>, fallback: JsValue) -> JsValue {
    match value {
        None | Some(FieldRef::Json(Value::Null)) => fallback,
        Some(v) => JsValue::from_json(v.to_value()),
    }
}

/// `str.split(' ')`, as JavaScript splits: `''` → `['']`, doubled spaces give empty entries.
pub(super) fn split_spaces(s: &str) -> JsValue {
    JsValue::Json(Value::Array(s.split(' ').map(|p| Value::String(p.to_owned())).collect()))
}

/// `value * 1000` in milliseconds, as JS computes it (`ToNumber` first).
fn seconds_to_ms(value: Option<FieldRef<'_>>) -> f64 {
    let seconds = match value {
        Some(FieldRef::Str(s)) => js::coerce::string_to_number(s),
        Some(FieldRef::Json(v)) => js::to_number(Some(v)),
        None => js::to_number(None),
    };
    seconds * 1000.0
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
    let field = |name| js::get(payload, name).map(FieldRef::from);
    payload_times_of(field("exp"), field("iat"), clock_skew_ms, clock)
}

/// [`payload_times`] from the `exp` and `iat` fields.
pub(super) fn payload_times_of(exp: Option<FieldRef<'_>>, iat: Option<FieldRef<'_>>, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> PayloadTimes {
    let skew = clock_skew_ms.unwrap_or(DEFAULT_CLOCK_SKEW_MS);
    let expiration = seconds_to_ms(exp);
    PayloadTimes { expired: expiration <= clock.now_ms() - skew, expiration, created_at: seconds_to_ms(iat) }
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

//! The resources a verification returns: `M2MToken`, `IdPOAuthAccessToken`
//! and `APIKey` of `@clerk/backend@3.25.0` (`api/resources/*.ts`).
//!
//! Fields hold JavaScript values ([`JsValue`]), because the reference passes
//! much through untyped: a string `aud` becomes the `scopes` *string* (J-43),
//! `fromJSON` maps whatever the Backend API sent (`expiration: null`, missing
//! fields → `undefined`), and `iat * 1000` is `NaN` without `iat`.
//!
//! `to_json` gives the JS layer one object per resource with camelCase keys in
//! the reference's field order. JSON cannot carry `undefined` nor non-finite
//! numbers, so: a field that is `undefined` is **omitted** (the JS class sets
//! every field, so it becomes `undefined` there), and a non-finite number is
//! written as the string `"NaN"`, `"Infinity"` or `"-Infinity"` — only ever in
//! the fields listed in each type's `NUMERIC_FIELDS`, which the JS layer
//! converts back with `Number(x)`.
//!
//! Deliberate divergences (README "Differences"):
//! * a signed M2M JWT whose `scopes` claim is neither a string nor
//!   `null`/absent (e.g. `5`, `["a"]`), or an OAuth JWT whose `scope` is, is a
//!   `token-verification-failed` error here; the reference throws a
//!   `TypeError` out of the promise (J-43, W1);
//! * a custom claim named `__proto__` is dropped from `claims`, as the
//!   reference's assignment drops it, but it never becomes the prototype of
//!   `claims` (J-42);
//! * a payload that is not an object is read as an object without members
//!   (the reference throws reading from `null`).

use crate::clock::Clock;
use crate::errors::{Reason, TokenVerificationError};
use crate::js::{self, json_stringify_opt, number_to_wire};
use serde_json::{Map, Value};
use std::fmt;

/// A JavaScript value held by a resource field.
///
/// Invariant: [`JsValue::Json`] never holds a JSON number; numbers are always
/// [`JsValue::Number`] (use [`JsValue::from_json`]), so NaN, ±Infinity and
/// `-0` are representable and comparisons are uniform.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    Undefined,
    Number(f64),
    Json(Value),
}

impl JsValue {
    /// Wraps a JSON value (numbers become [`JsValue::Number`]).
    pub fn from_json(value: Value) -> Self {
        match value {
            Value::Number(n) => JsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            other => JsValue::Json(other),
        }
    }

    /// A property read: absent → `undefined`.
    pub fn from_opt(value: Option<&Value>) -> Self {
        value.map_or(JsValue::Undefined, |v| JsValue::from_json(v.clone()))
    }

    pub fn string(s: impl Into<String>) -> Self {
        JsValue::Json(Value::String(s.into()))
    }

    pub fn bool(b: bool) -> Self {
        JsValue::Json(Value::Bool(b))
    }

    pub const fn null() -> Self {
        JsValue::Json(Value::Null)
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, JsValue::Undefined)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsValue::Json(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            JsValue::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The JSON value, if any: `None` for `undefined`; non-finite numbers
    /// become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`; integral
    /// numbers up to 2^53 are written without a fraction.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            JsValue::Undefined => None,
            JsValue::Json(v) => Some(v.clone()),
            JsValue::Number(n) => Some(number_to_wire(*n)),
        }
    }
}

/// Builds a JSON object from `(key, field)` pairs, skipping `undefined` fields.
fn object(fields: &[(&str, &JsValue)]) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        if let Some(v) = value.to_json() {
            map.insert((*key).to_owned(), v);
        }
    }
    Value::Object(map)
}

/// One field as JSON text, by the rules of [`JsValue::to_json`]; `undefined`
/// (which JSON cannot hold) is written as `null`, so callers check for it first.
pub struct JsJson<'a>(pub &'a JsValue);

impl serde::Serialize for JsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            JsValue::Undefined => serializer.serialize_unit(),
            JsValue::Json(v) => v.serialize(serializer),
            JsValue::Number(n) => number_to_wire(*n).serialize(serializer),
        }
    }
}

/// A resource's `(key, field)` pairs, serialised straight to JSON text with the
/// rules of [`object`] (undefined skipped, numbers as [`JsValue::to_json`]
/// writes them) but without building a [`Value`] tree or cloning a field:
/// this is the hot path of every verification's answer.
pub struct Fields<'a, const N: usize>(pub [(&'static str, &'a JsValue); N]);

impl<const N: usize> serde::Serialize for Fields<'_, N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.0 {
            if !value.is_undefined() {
                map.serialize_entry(key, &JsJson(value))?;
            }
        }
        map.end()
    }
}

fn prop(value: &Value, key: &str) -> JsValue {
    JsValue::from_opt(js::get(value, key))
}

/// `x ?? fallback`.
fn or_default(value: Option<&Value>, fallback: JsValue) -> JsValue {
    match value {
        None | Some(Value::Null) => fallback,
        Some(v) => JsValue::from_json(v.clone()),
    }
}

/// `str.split(' ')`, as JavaScript splits: `''` → `['']`, doubled spaces give empty entries.
fn split_spaces(s: &str) -> JsValue {
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
struct PayloadTimes {
    expired: bool,
    expiration: f64,
    created_at: f64,
}

fn payload_times(payload: &Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> PayloadTimes {
    let skew = clock_skew_ms.unwrap_or(crate::claims::DEFAULT_CLOCK_SKEW_MS);
    let expiration = seconds_to_ms(payload, "exp");
    PayloadTimes { expired: expiration <= clock.now_ms() - skew, expiration, created_at: seconds_to_ms(payload, "iat") }
}

fn not_a_space_separated_string(kind: &str, name: &str, value: Option<&Value>) -> TokenVerificationError {
    TokenVerificationError::new(
        Reason::TokenVerificationFailed,
        format!("Invalid {kind} JWT {name} claim ({name}) {}. Expected a space-separated string.", json_stringify_opt(value)),
    )
}

/// Claims the M2M resource does not repeat in `claims`.
const M2M_RESERVED_JWT_CLAIMS: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];

/// `extractCustomClaims`: every own key in `Object.keys` order except the
/// reserved ones, or `null` when none is left. `__proto__` is dropped: in the
/// reference `claims['__proto__'] = v` hits the prototype setter and creates
/// no key. Takes the payload's members and keeps their map when it can (no
/// copy of any claim).
fn extract_custom_claims(mut members: Map<String, Value>) -> Value {
    for reserved in M2M_RESERVED_JWT_CLAIMS.iter().chain(std::iter::once(&"__proto__")) {
        members.shift_remove(*reserved);
    }
    if members.is_empty() {
        return Value::Null;
    }
    if !members.keys().any(|k| js::is_array_index(k)) {
        // Insertion order is already Object.keys order.
        return Value::Object(members);
    }
    let order: Vec<String> = js::object_keys(&members).into_iter().cloned().collect();
    let mut ordered = Map::with_capacity(members.len());
    for key in order {
        if let Some(value) = members.shift_remove(&key) {
            ordered.insert(key, value);
        }
    }
    Value::Object(ordered)
}

/// `M2MToken`. Times are Unix **milliseconds**.
#[derive(Clone, PartialEq)]
pub struct M2MToken {
    /// `mt_…`, or the JWT `jti` (`''` when absent).
    pub id: JsValue,
    /// The machine id `mch_…`.
    pub subject: JsValue,
    /// Normally a string array; a bare string when it came from a string `aud`.
    pub scopes: JsValue,
    /// Custom claims object, or `null`.
    pub claims: JsValue,
    pub revoked: JsValue,
    pub revocation_reason: JsValue,
    pub expired: JsValue,
    /// Unix ms, or `null` for non-expiring tokens.
    pub expiration: JsValue,
    pub created_at: JsValue,
    pub updated_at: JsValue,
    /// The secret token, only on creation responses. Never printed by `Debug`.
    pub token: JsValue,
}

impl fmt::Debug for M2MToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("M2MToken")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .field("claims", &self.claims)
            .field("revoked", &self.revoked)
            .field("revocation_reason", &self.revocation_reason)
            .field("expired", &self.expired)
            .field("expiration", &self.expiration)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("token", &redacted(&self.token))
            .finish()
    }
}

/// A secret field for `Debug`: at most its 7-character prefix.
fn redacted(value: &JsValue) -> String {
    match value {
        JsValue::Undefined => "undefined".to_owned(),
        JsValue::Json(Value::String(s)) => crate::redact::secret_prefix(s),
        JsValue::Json(Value::Null) => "null".to_owned(),
        _ => "<redacted>".to_owned(),
    }
}

impl M2MToken {
    /// Fields that may hold a non-finite number, encoded as a string by [`M2MToken::to_json`].
    pub const NUMERIC_FIELDS: [&'static str; 3] = ["expiration", "createdAt", "updatedAt"];

    /// `M2MToken.fromJwtPayload(payload, clockSkewInMs)`; `clock_skew_ms` is
    /// the option as given (`None` = undefined → 5000).
    pub fn from_jwt_payload(payload: &Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        Self::from_jwt_payload_owned(payload.clone(), clock_skew_ms, clock)
    }

    /// [`M2MToken::from_jwt_payload`] taking the payload: its members move
    /// into the token instead of being copied (the verification hot path).
    pub fn from_jwt_payload_owned(payload: Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        let scopes = match js::get(&payload, "scopes") {
            Some(Value::String(s)) => split_spaces(s),
            None | Some(Value::Null) => or_default(js::get(&payload, "aud"), JsValue::Json(Value::Array(Vec::new()))),
            other => return Err(not_a_space_separated_string("M2M", "scopes", other)),
        };
        let times = payload_times(&payload, clock_skew_ms, clock);
        // A payload that is not an object reads as one without members.
        let mut members = match payload {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        let id = match members.shift_remove("jti") {
            None | Some(Value::Null) => JsValue::string(""),
            Some(jti) => JsValue::from_json(jti),
        };
        let subject = members.shift_remove("sub").map_or(JsValue::Undefined, JsValue::from_json);
        Ok(M2MToken {
            id,
            subject,
            scopes,
            claims: JsValue::Json(extract_custom_claims(members)),
            revoked: JsValue::bool(false),
            revocation_reason: JsValue::null(),
            expired: JsValue::bool(times.expired),
            expiration: JsValue::Number(times.expiration),
            created_at: JsValue::Number(times.created_at),
            updated_at: JsValue::Number(times.created_at),
            token: JsValue::Undefined,
        })
    }

    /// `M2MToken.fromJSON(data)`: straight mapping of a Backend API body, no
    /// validation, missing fields `undefined`.
    pub fn from_json(data: &Value) -> M2MToken {
        M2MToken {
            id: prop(data, "id"),
            subject: prop(data, "subject"),
            scopes: prop(data, "scopes"),
            claims: prop(data, "claims"),
            revoked: prop(data, "revoked"),
            revocation_reason: prop(data, "revocation_reason"),
            expired: prop(data, "expired"),
            expiration: prop(data, "expiration"),
            created_at: prop(data, "created_at"),
            updated_at: prop(data, "updated_at"),
            token: prop(data, "token"),
        }
    }

    /// camelCase object in the reference's field order (see module docs).
    pub fn to_json(&self) -> Value {
        object(&self.fields().0)
    }

    /// The fields of [`M2MToken::to_json`], for direct serialisation.
    pub fn fields(&self) -> Fields<'_, 11> {
        Fields([
            ("id", &self.id),
            ("subject", &self.subject),
            ("scopes", &self.scopes),
            ("claims", &self.claims),
            ("revoked", &self.revoked),
            ("revocationReason", &self.revocation_reason),
            ("expired", &self.expired),
            ("expiration", &self.expiration),
            ("createdAt", &self.created_at),
            ("updatedAt", &self.updated_at),
            ("token", &self.token),
        ])
    }
}

/// `toActor(value, nestedLevels)`: keeps an object with a string `sub`, its
/// string `iss`, and its `act` down to `nested_levels` more levels.
fn to_actor(value: Option<&Value>, nested_levels: u32) -> Option<Value> {
    let map = value?.as_object()?;
    let sub = map.get("sub")?.as_str()?;
    let nested = if nested_levels > 0 { to_actor(map.get("act"), nested_levels - 1) } else { None };
    let mut actor = Map::new();
    if let Some(Value::String(iss)) = map.get("iss") {
        actor.insert("iss".to_owned(), Value::String(iss.clone()));
    }
    actor.insert("sub".to_owned(), Value::String(sub.to_owned()));
    if let Some(nested) = nested {
        actor.insert("act".to_owned(), nested);
    }
    Some(Value::Object(actor))
}

fn actor(value: Option<&Value>) -> JsValue {
    to_actor(value, 1).map_or(JsValue::Undefined, JsValue::Json)
}

/// `IdPOAuthAccessToken` (3.25.0: with `aud` and `act`). Times are Unix ms
/// on the JWT path (the Backend API's own units on the `fromJSON` path).
#[derive(Debug, Clone, PartialEq)]
pub struct IdPOAuthAccessToken {
    pub id: JsValue,
    pub client_id: JsValue,
    pub r#type: JsValue,
    pub subject: JsValue,
    pub scopes: JsValue,
    pub revoked: JsValue,
    pub revocation_reason: JsValue,
    pub expired: JsValue,
    pub expiration: JsValue,
    pub created_at: JsValue,
    pub updated_at: JsValue,
    /// `undefined`, or a list (`[aud].flat()`).
    pub aud: JsValue,
    /// Normalised actor chain, or `undefined`.
    pub act: JsValue,
}

impl IdPOAuthAccessToken {
    /// Fields that may hold a non-finite number, encoded as a string by [`IdPOAuthAccessToken::to_json`].
    pub const NUMERIC_FIELDS: [&'static str; 3] = ["expiration", "createdAt", "updatedAt"];

    /// `IdPOAuthAccessToken.fromJwtPayload(payload, clockSkewInMs)`: `scopes`
    /// is `scp` as-is, else `scope` split on spaces, else `[]`.
    pub fn from_jwt_payload(payload: &Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<Self, TokenVerificationError> {
        let scopes = match js::get(payload, "scp") {
            None | Some(Value::Null) => match js::get(payload, "scope") {
                Some(Value::String(s)) => split_spaces(s),
                None | Some(Value::Null) => JsValue::Json(Value::Array(Vec::new())),
                other => return Err(not_a_space_separated_string("OAuth", "scope", other)),
            },
            Some(scp) => JsValue::from_json(scp.clone()),
        };
        let aud = match js::get(payload, "aud") {
            None => JsValue::Undefined,
            Some(Value::Array(items)) => JsValue::Json(Value::Array(items.clone())),
            Some(other) => JsValue::Json(Value::Array(vec![other.clone()])),
        };
        let times = payload_times(payload, clock_skew_ms, clock);
        Ok(IdPOAuthAccessToken {
            id: or_default(js::get(payload, "jti"), JsValue::string("")),
            client_id: or_default(js::get(payload, "client_id"), JsValue::string("")),
            r#type: JsValue::string("oauth_token"),
            subject: prop(payload, "sub"),
            scopes,
            revoked: JsValue::bool(false),
            revocation_reason: JsValue::null(),
            expired: JsValue::bool(times.expired),
            expiration: JsValue::Number(times.expiration),
            created_at: JsValue::Number(times.created_at),
            updated_at: JsValue::Number(times.created_at),
            aud,
            act: actor(js::get(payload, "act")),
        })
    }

    /// `IdPOAuthAccessToken.fromJSON(data)`: straight mapping, `act` normalised.
    pub fn from_json(data: &Value) -> Self {
        IdPOAuthAccessToken {
            id: prop(data, "id"),
            client_id: prop(data, "client_id"),
            r#type: prop(data, "type"),
            subject: prop(data, "subject"),
            scopes: prop(data, "scopes"),
            revoked: prop(data, "revoked"),
            revocation_reason: prop(data, "revocation_reason"),
            expired: prop(data, "expired"),
            expiration: prop(data, "expiration"),
            created_at: prop(data, "created_at"),
            updated_at: prop(data, "updated_at"),
            aud: prop(data, "aud"),
            act: actor(js::get(data, "act")),
        }
    }

    /// camelCase object in the reference's field order (see module docs).
    pub fn to_json(&self) -> Value {
        object(&self.fields().0)
    }

    /// The fields of [`IdPOAuthAccessToken::to_json`], for direct serialisation.
    pub fn fields(&self) -> Fields<'_, 13> {
        Fields([
            ("id", &self.id),
            ("clientId", &self.client_id),
            ("type", &self.r#type),
            ("subject", &self.subject),
            ("scopes", &self.scopes),
            ("revoked", &self.revoked),
            ("revocationReason", &self.revocation_reason),
            ("expired", &self.expired),
            ("expiration", &self.expiration),
            ("createdAt", &self.created_at),
            ("updatedAt", &self.updated_at),
            ("aud", &self.aud),
            ("act", &self.act),
        ])
    }
}

/// `APIKey` (only built from Backend API responses).
#[derive(Clone, PartialEq)]
pub struct APIKey {
    pub id: JsValue,
    pub r#type: JsValue,
    pub name: JsValue,
    pub subject: JsValue,
    pub scopes: JsValue,
    pub claims: JsValue,
    pub revoked: JsValue,
    pub revocation_reason: JsValue,
    pub expired: JsValue,
    pub expiration: JsValue,
    pub created_by: JsValue,
    pub description: JsValue,
    pub last_used_at: JsValue,
    pub created_at: JsValue,
    pub updated_at: JsValue,
    /// The key itself, on creation responses only. Never printed by `Debug`.
    pub secret: JsValue,
}

impl fmt::Debug for APIKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("APIKey")
            .field("id", &self.id)
            .field("type", &self.r#type)
            .field("name", &self.name)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .field("claims", &self.claims)
            .field("revoked", &self.revoked)
            .field("revocation_reason", &self.revocation_reason)
            .field("expired", &self.expired)
            .field("expiration", &self.expiration)
            .field("created_by", &self.created_by)
            .field("description", &self.description)
            .field("last_used_at", &self.last_used_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("secret", &redacted(&self.secret))
            .finish()
    }
}

impl APIKey {
    /// Fields that may hold a non-finite number (never from JSON input; listed for symmetry).
    pub const NUMERIC_FIELDS: [&'static str; 4] = ["expiration", "lastUsedAt", "createdAt", "updatedAt"];

    /// `APIKey.fromJSON(data)`: straight mapping.
    pub fn from_json(data: &Value) -> Self {
        APIKey {
            id: prop(data, "id"),
            r#type: prop(data, "type"),
            name: prop(data, "name"),
            subject: prop(data, "subject"),
            scopes: prop(data, "scopes"),
            claims: prop(data, "claims"),
            revoked: prop(data, "revoked"),
            revocation_reason: prop(data, "revocation_reason"),
            expired: prop(data, "expired"),
            expiration: prop(data, "expiration"),
            created_by: prop(data, "created_by"),
            description: prop(data, "description"),
            last_used_at: prop(data, "last_used_at"),
            created_at: prop(data, "created_at"),
            updated_at: prop(data, "updated_at"),
            secret: prop(data, "secret"),
        }
    }

    /// camelCase object in the reference's field order.
    pub fn to_json(&self) -> Value {
        object(&[
            ("id", &self.id),
            ("type", &self.r#type),
            ("name", &self.name),
            ("subject", &self.subject),
            ("scopes", &self.scopes),
            ("claims", &self.claims),
            ("revoked", &self.revoked),
            ("revocationReason", &self.revocation_reason),
            ("expired", &self.expired),
            ("expiration", &self.expiration),
            ("createdBy", &self.created_by),
            ("description", &self.description),
            ("lastUsedAt", &self.last_used_at),
            ("createdAt", &self.created_at),
            ("updatedAt", &self.updated_at),
            ("secret", &self.secret),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use serde_json::json;

    /// The reference suite's M2MToken time: 1666648250 s.
    const NOW: FixedClock = FixedClock(1_666_648_250_000.0);

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn m2m_from_jwt_payload_maps_fields_and_units() {
        let payload = json!({
            "iss": "https://clerk.example", "sub": "mch_1", "jti": "mt_1", "iat": 1666648240, "nbf": 1666648240,
            "exp": 1666651850.5, "aud": ["mch_2"], "scopes": "mch_2 mch_3", "custom": {"a": 1}
        });
        let t = M2MToken::from_jwt_payload(&payload, None, &NOW).unwrap();
        assert_eq!(t.id, JsValue::string("mt_1"));
        assert_eq!(t.subject, JsValue::string("mch_1"));
        assert_eq!(t.scopes, JsValue::Json(json!(["mch_2", "mch_3"])), "scopes wins over aud");
        assert_eq!(t.claims, JsValue::Json(json!({"aud": ["mch_2"], "scopes": "mch_2 mch_3", "custom": {"a": 1}})));
        assert_eq!(t.revoked, JsValue::bool(false));
        assert_eq!(t.revocation_reason, JsValue::null());
        assert_eq!(t.expired, JsValue::bool(false));
        assert_eq!(t.expiration, JsValue::Number(1_666_651_850_500.0), "fraction kept");
        assert_eq!(t.created_at, JsValue::Number(1_666_648_240_000.0));
        assert_eq!(t.updated_at, t.created_at);
        assert!(t.token.is_undefined());
        let js = t.to_json();
        assert_eq!(keys(&js), ["id", "subject", "scopes", "claims", "revoked", "revocationReason", "expired", "expiration", "createdAt", "updatedAt"]);
        assert_eq!(js["expiration"], json!(1_666_651_850_500u64));
        assert_eq!(serde_json::to_string(&js["createdAt"]).unwrap(), "1666648240000");
    }

    #[test]
    fn m2m_scopes_rules() {
        let scopes = |payload: Value| M2MToken::from_jwt_payload(&payload, None, &NOW).map(|t| t.scopes);
        assert_eq!(scopes(json!({"scopes": ""})), Ok(JsValue::Json(json!([""]))));
        assert_eq!(scopes(json!({"scopes": "a  b"})), Ok(JsValue::Json(json!(["a", "", "b"]))));
        assert_eq!(scopes(json!({"scopes": null, "aud": "mch_x"})), Ok(JsValue::string("mch_x")), "J-43: a string");
        assert_eq!(scopes(json!({"aud": ["a"]})), Ok(JsValue::Json(json!(["a"]))));
        assert_eq!(scopes(json!({"aud": 5})), Ok(JsValue::Number(5.0)));
        assert_eq!(scopes(json!({"aud": null})), Ok(JsValue::Json(json!([]))));
        assert_eq!(scopes(json!({})), Ok(JsValue::Json(json!([]))));
        for (bad, shown) in [(json!(5), "5"), (json!(["a"]), r#"["a"]"#), (json!({"split": 1}), r#"{"split":1}"#), (json!(true), "true")] {
            let e = scopes(json!({"scopes": bad})).unwrap_err();
            assert_eq!(e.reason, Reason::TokenVerificationFailed);
            assert_eq!(e.message, format!("Invalid M2M JWT scopes claim (scopes) {shown}. Expected a space-separated string."));
        }
    }

    #[test]
    fn m2m_custom_claims() {
        let claims = |payload: Value| M2MToken::from_jwt_payload(&payload, None, &NOW).unwrap().claims;
        assert_eq!(claims(json!({"iss": 1, "sub": "mch_1", "exp": 1, "nbf": 1, "iat": 1, "jti": "x"})), JsValue::null());
        // J-42: `__proto__` never becomes a key.
        let with_proto: Value = serde_json::from_str(r#"{"sub":"mch_1","exp":1,"__proto__":{"role":"admin"}}"#).unwrap();
        assert_eq!(claims(with_proto), JsValue::null());
        let mixed: Value = serde_json::from_str(r#"{"sub":"mch_1","__proto__":1,"b":1,"2":"two","a":2,"1":"one"}"#).unwrap();
        let c = claims(mixed);
        let JsValue::Json(obj) = &c else { panic!() };
        assert_eq!(keys(obj), ["1", "2", "b", "a"], "Object.keys order");
        // Payload `cat` is just a claim.
        assert_eq!(claims(json!({"cat": "cl_B7d4PD111AAA"})), JsValue::Json(json!({"cat": "cl_B7d4PD111AAA"})));
    }

    #[test]
    fn m2m_id_and_missing_times() {
        let t = M2MToken::from_jwt_payload(&json!({"sub": "mch_1", "exp": 1666648260, "jti": null}), None, &NOW).unwrap();
        assert_eq!(t.id, JsValue::string(""));
        assert!(t.created_at.as_f64().unwrap().is_nan(), "no iat → NaN");
        let js = t.to_json();
        assert_eq!(js["createdAt"], json!("NaN"));
        assert_eq!(js["updatedAt"], json!("NaN"));
        let t = M2MToken::from_jwt_payload(&json!({"sub": "mch_1", "exp": 1, "jti": 7}), None, &NOW).unwrap();
        assert_eq!(t.id, JsValue::Number(7.0), "non-string jti passed through");
        let t = M2MToken::from_jwt_payload(&json!({"sub": "mch_1", "exp": 1.7976931348623157e308}), None, &NOW).unwrap();
        assert_eq!(t.expiration, JsValue::Number(f64::INFINITY));
        assert_eq!(t.to_json()["expiration"], json!("Infinity"));
        assert_eq!(t.expired, JsValue::bool(false));
        let t = M2MToken::from_jwt_payload(&json!({"sub": "mch_1", "exp": -1.7976931348623157e308}), None, &NOW).unwrap();
        assert_eq!(t.to_json()["expiration"], json!("-Infinity"));
        // Payload not an object: members read as absent.
        let t = M2MToken::from_jwt_payload(&json!(null), None, &NOW).unwrap();
        assert!(t.subject.is_undefined());
        assert_eq!(t.claims, JsValue::null());
    }

    #[test]
    fn m2m_expired_uses_raw_arithmetic() {
        let now_s = 1_666_648_250.0;
        let expired = |exp: f64, skew: Option<f64>| {
            M2MToken::from_jwt_payload(&json!({"sub": "mch_1", "exp": exp}), skew, &NOW).unwrap().expired.as_bool().unwrap()
        };
        assert!(expired(now_s - 5.0, None), "exp*1000 == now - 5000");
        assert!(!expired(now_s - 4.999, None), "no truncation here");
        assert!(expired(now_s, Some(0.0)));
        assert!(!expired(now_s + 0.001, Some(0.0)));
        assert!(!expired(now_s - 100.0, Some(f64::NAN)), "NaN skew: comparison is false");
        assert!(expired(now_s + 100.0, Some(-1e9)));
    }

    #[test]
    fn m2m_from_json_is_a_straight_mapping() {
        let body = json!({
            "object": "machine_to_machine_token", "id": "mt_1", "subject": "mch_1", "scopes": ["mch_2"],
            "claims": {"foo": "bar"}, "token": "mt_secret_1xxxxxxxxxxxxx", "revoked": false, "revocation_reason": null,
            "expired": false, "expiration": null, "created_at": 1753743316590u64, "updated_at": 1753743316590u64, "extra": 1
        });
        let t = M2MToken::from_json(&body);
        assert_eq!(t.expiration, JsValue::null());
        assert_eq!(t.created_at, JsValue::Number(1_753_743_316_590.0));
        let js = t.to_json();
        assert_eq!(
            js,
            json!({
                "id": "mt_1", "subject": "mch_1", "scopes": ["mch_2"], "claims": {"foo": "bar"}, "revoked": false,
                "revocationReason": null, "expired": false, "expiration": null, "createdAt": 1753743316590u64,
                "updatedAt": 1753743316590u64, "token": "mt_secret_1xxxxxxxxxxxxx"
            })
        );
        assert_eq!(keys(&js), ["id", "subject", "scopes", "claims", "revoked", "revocationReason", "expired", "expiration", "createdAt", "updatedAt", "token"]);
        let debug = format!("{t:?}");
        assert!(!debug.contains("mt_secret_1xxxxxxxxxxxxx"), "{debug}");
        assert!(debug.contains("mt_secr…"));
        // Missing → undefined → omitted.
        let t = M2MToken::from_json(&json!({"id": "mt_2"}));
        assert!(t.subject.is_undefined());
        assert_eq!(t.to_json(), json!({"id": "mt_2"}));
        assert_eq!(M2MToken::from_json(&json!(42)).to_json(), json!({}));
    }

    #[test]
    fn oauth_from_jwt_payload() {
        let payload = json!({
            "sub": "user_1", "jti": "oat_1", "client_id": "client_1", "exp": 1666651850, "iat": 1666648240,
            "scope": "read write", "aud": "api", "act": {"sub": "a1", "iss": "i1", "x": 1, "act": {"sub": "a2", "act": {"sub": "a3"}}}
        });
        let t = IdPOAuthAccessToken::from_jwt_payload(&payload, None, &NOW).unwrap();
        assert_eq!(t.scopes, JsValue::Json(json!(["read", "write"])));
        assert_eq!(t.aud, JsValue::Json(json!(["api"])));
        assert_eq!(t.act, JsValue::Json(json!({"iss": "i1", "sub": "a1", "act": {"sub": "a2"}})), "two levels kept");
        assert_eq!(t.r#type, JsValue::string("oauth_token"));
        let js = t.to_json();
        assert_eq!(
            keys(&js),
            ["id", "clientId", "type", "subject", "scopes", "revoked", "revocationReason", "expired", "expiration", "createdAt", "updatedAt", "aud", "act"]
        );
        assert_eq!(js["expiration"], json!(1666651850000u64));
        // scp wins as-is; defaults.
        let t = IdPOAuthAccessToken::from_jwt_payload(&json!({"scp": ["a"], "scope": "b", "aud": ["x", ["y"]]}), None, &NOW).unwrap();
        assert_eq!(t.scopes, JsValue::Json(json!(["a"])));
        assert_eq!(t.aud, JsValue::Json(json!(["x", ["y"]])));
        assert_eq!(t.id, JsValue::string(""));
        assert_eq!(t.client_id, JsValue::string(""));
        assert!(t.act.is_undefined());
        let t = IdPOAuthAccessToken::from_jwt_payload(&json!({"scp": "s", "aud": null}), None, &NOW).unwrap();
        assert_eq!(t.scopes, JsValue::string("s"));
        assert_eq!(t.aud, JsValue::Json(json!([null])));
        let t = IdPOAuthAccessToken::from_jwt_payload(&json!({}), None, &NOW).unwrap();
        assert_eq!(t.scopes, JsValue::Json(json!([])));
        assert!(t.aud.is_undefined());
        assert!(!t.to_json().as_object().unwrap().contains_key("aud"));
        let e = IdPOAuthAccessToken::from_jwt_payload(&json!({"scope": 5}), None, &NOW).unwrap_err();
        assert_eq!(e.message, "Invalid OAuth JWT scope claim (scope) 5. Expected a space-separated string.");
        // Actor edge cases.
        for act in [json!("x"), json!(null), json!([]), json!({"sub": 1}), json!({"iss": "i"})] {
            assert_eq!(actor(Some(&act)), JsValue::Undefined, "{act}");
        }
        assert_eq!(actor(Some(&json!({"sub": "s", "iss": 5, "act": "x"}))), JsValue::Json(json!({"sub": "s"})));
    }

    #[test]
    fn oauth_from_json() {
        let body = json!({
            "object": "clerk_idp_oauth_access_token", "id": "oat_1", "client_id": "c", "type": "oauth_token", "subject": "user_1",
            "scopes": ["read"], "revoked": false, "revocation_reason": null, "expired": false, "expiration": 1, "created_at": 2,
            "updated_at": 3, "aud": "api", "act": {"sub": "a", "act": {"sub": "b", "act": {"sub": "c"}}}
        });
        let js = IdPOAuthAccessToken::from_json(&body).to_json();
        assert_eq!(
            js,
            json!({
                "id": "oat_1", "clientId": "c", "type": "oauth_token", "subject": "user_1", "scopes": ["read"], "revoked": false,
                "revocationReason": null, "expired": false, "expiration": 1, "createdAt": 2, "updatedAt": 3, "aud": "api",
                "act": {"sub": "a", "act": {"sub": "b"}}
            })
        );
    }

    #[test]
    fn api_key_from_json() {
        let body = json!({
            "object": "api_key", "id": "ak_1", "type": "api_key", "name": "n", "subject": "user_1", "scopes": [], "claims": null,
            "revoked": false, "revocation_reason": null, "expired": false, "expiration": null, "created_by": "user_2",
            "description": null, "last_used_at": 5, "created_at": 1, "updated_at": 2, "secret": "ak_live_supersecret"
        });
        let key = APIKey::from_json(&body);
        let js = key.to_json();
        assert_eq!(
            keys(&js),
            [
                "id", "type", "name", "subject", "scopes", "claims", "revoked", "revocationReason", "expired", "expiration", "createdBy",
                "description", "lastUsedAt", "createdAt", "updatedAt", "secret"
            ]
        );
        assert_eq!(js["lastUsedAt"], json!(5));
        assert_eq!(js["secret"], json!("ak_live_supersecret"));
        assert!(!format!("{key:?}").contains("supersecret"));
        assert_eq!(APIKey::from_json(&json!({})).to_json(), json!({}));
    }

    #[test]
    fn js_values_wrap_json() {
        assert_eq!(JsValue::from_json(json!(3)), JsValue::Number(3.0));
        assert_eq!(JsValue::Json(json!("x")).as_str(), Some("x"));
    }

    proptest::proptest! {
        #[test]
        fn from_jwt_payload_never_panics(text in r#"\{("(sub|scopes|aud|exp|iat|jti|scp|scope|act|__proto__|1)":(null|true|1e300|-0|"a b"|\[1\]|\{"sub":"x"\}),){0,8}"z":0\}"#) {
            if let Ok(payload) = serde_json::from_str::<Value>(&text) {
                if let Ok(t) = M2MToken::from_jwt_payload(&payload, Some(f64::NAN), &NOW) { let _ = t.to_json(); }
                if let Ok(t) = IdPOAuthAccessToken::from_jwt_payload(&payload, None, &NOW) { let _ = t.to_json(); }
                let _ = M2MToken::from_json(&payload).to_json();
                let _ = IdPOAuthAccessToken::from_json(&payload).to_json();
                let _ = APIKey::from_json(&payload).to_json();
            }
        }
    }
}

//! A JavaScript value held by a resource field, and its wire form.
//!
//! JSON cannot carry `undefined` nor non-finite numbers, so: a field that is `undefined` is
//! **omitted** from its object (the JS class sets every field, so it becomes `undefined`
//! there), and a non-finite number is written as the string `"NaN"`, `"Infinity"` or
//! `"-Infinity"` (only ever in `expiration`, `createdAt`, `updatedAt`, which `lib/verify.js`
//! converts back).

use super::number::number_to_wire;
use serde_json::Value;

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
}


/// One field as JSON text (numbers by [`number_to_wire`]); `undefined`
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

/// A resource's `(key, field)` pairs, serialised straight to JSON text (an
/// `undefined` field skipped, numbers by [`number_to_wire`]) without building a
/// [`Value`] tree or cloning a field: this is the hot path of every verification's answer.
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


impl<const N: usize> Fields<'_, N> {
    /// The fields as a JSON object (what [`Fields`] serialises to).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn js_values_wrap_json() {
        assert_eq!(JsValue::from_json(json!(3)), JsValue::Number(3.0));
        assert_eq!(JsValue::Json(json!("x")).as_str(), Some("x"));
    }
}

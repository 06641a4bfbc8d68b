//! `M2MToken`: from a verified M2M JWT's payload, or from a Backend API body.

use super::payload::{not_a_space_separated_string, or_default_field, payload_times, payload_times_of, redacted, split_spaces, PayloadTimes};
#[cfg(any(test, feature = "test-hooks"))]
use super::payload::prop;
use crate::clock::Clock;
use crate::errors::TokenVerificationError;
use crate::js;
use crate::js::value::{Fields, JsValue};
use crate::json::{Field, FieldRef, Members};
use serde_json::{Map, Value};
use std::fmt;

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
    custom_claims_in_key_order(members)
}

/// Not a custom claim: reserved, or `__proto__` (see [`extract_custom_claims`]).
fn is_not_custom(key: &str) -> bool {
    key == "__proto__" || M2M_RESERVED_JWT_CLAIMS.contains(&key)
}

/// The custom claims (reserved ones already left out) as `claims`: `null` when there are
/// none, else an object in `Object.keys` order (array indices first, ascending).
fn custom_claims_in_key_order(mut members: Map<String, Value>) -> Value {
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

/// `M2MToken.fromJwtPayload`'s scopes: `scopes.split(' ')` of a string, else `aud ?? []` when
/// `scopes` is absent or null; anything else is the reference's error.
fn scopes_of(scopes: Option<FieldRef<'_>>, aud: Option<FieldRef<'_>>) -> Result<JsValue, TokenVerificationError> {
    match scopes {
        Some(FieldRef::Str(s)) => Ok(split_spaces(s)),
        None | Some(FieldRef::Json(Value::Null)) => Ok(or_default_field(aud, JsValue::Json(Value::Array(Vec::new())))),
        Some(other) => Err(not_a_space_separated_string("M2M", "scopes", Some(&other.to_value()))),
    }
}

impl M2MToken {
    #[cfg(any(test, feature = "test-hooks"))]
    /// `M2MToken.fromJwtPayload(payload, clockSkewInMs)`; `clock_skew_ms` is
    /// the option as given (`None` = undefined → 5000).
    pub fn from_jwt_payload(payload: &Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        Self::from_jwt_payload_owned(payload.clone(), clock_skew_ms, clock)
    }

    /// [`M2MToken::from_jwt_payload`] taking the payload: its members move
    /// into the token instead of being copied (the verification hot path).
    pub fn from_jwt_payload_owned(payload: Value, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        let field = |name| js::get(&payload, name).map(FieldRef::from);
        let scopes = scopes_of(field("scopes"), field("aud"))?;
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
        Ok(Self::verified(id, subject, scopes, extract_custom_claims(members), &times))
    }

    /// [`M2MToken::from_jwt_payload_owned`] from the borrowed decoder's members (the verifier's
    /// hot path): the same token, field for field; each string is copied once, into the token.
    pub fn from_jwt_members(payload: Members<'_>, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        let scopes = scopes_of(payload.get("scopes"), payload.get("aud"))?;
        let times = payload_times_of(payload.get("exp"), payload.get("iat"), clock_skew_ms, clock);
        let custom = payload.iter().filter(|(k, _)| !is_not_custom(k)).count();
        let mut claims = Map::with_capacity(custom);
        let mut id = JsValue::string("");
        let mut subject = JsValue::Undefined;
        // Members are unique and in first-occurrence order: moved, not looked up.
        for (key, field) in payload {
            match key.as_ref() {
                "jti" => {
                    id = match field {
                        Field::Json(Value::Null) => JsValue::string(""),
                        jti => JsValue::from_json(jti.into_value()),
                    }
                }
                "sub" => subject = JsValue::from_json(field.into_value()),
                k if is_not_custom(k) => {}
                _ => {
                    claims.insert(key.into_owned(), field.into_value());
                }
            }
        }
        Ok(Self::verified(id, subject, scopes, custom_claims_in_key_order(claims), &times))
    }

    /// The token a verified JWT makes (both decoders): never revoked, `updatedAt` = `createdAt`.
    fn verified(id: JsValue, subject: JsValue, scopes: JsValue, claims: Value, times: &PayloadTimes) -> M2MToken {
        M2MToken {
            id,
            subject,
            scopes,
            claims: JsValue::Json(claims),
            revoked: JsValue::bool(false),
            revocation_reason: JsValue::null(),
            expired: JsValue::bool(times.expired),
            expiration: JsValue::Number(times.expiration),
            created_at: JsValue::Number(times.created_at),
            updated_at: JsValue::Number(times.created_at),
            token: JsValue::Undefined,
        }
    }

    #[cfg(any(test, feature = "test-hooks"))]
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

    #[cfg(any(test, feature = "test-hooks"))]
    /// camelCase object in the reference's field order (see module docs).
    pub fn to_json(&self) -> Value {
        self.fields().to_value()
    }

    /// The fields in the reference's order, with their camelCase names.
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


#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::errors::Reason;
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
}

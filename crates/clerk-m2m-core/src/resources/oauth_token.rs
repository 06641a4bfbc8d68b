//! `IdPOAuthAccessToken` (3.25.0: with `aud` and `act`): from a verified OAuth JWT's payload,
//! or from a Backend API body.

use super::payload::{not_a_space_separated_string, or_default, payload_times, prop, split_spaces};
use crate::clock::Clock;
use crate::errors::TokenVerificationError;
use crate::js;
use crate::js::value::{Fields, JsValue};
use serde_json::{Map, Value};

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

    #[cfg(any(test, feature = "test-hooks"))]
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

    #[cfg(any(test, feature = "test-hooks"))]
    /// camelCase object in the reference's field order (see module docs).
    pub fn to_json(&self) -> Value {
        self.fields().to_value()
    }

    /// The fields in the reference's order, with their camelCase names.
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
}

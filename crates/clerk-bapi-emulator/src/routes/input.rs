//! Request input helpers: Bearer credentials and the authentication rules, JSON bodies read field
//! by field (so a wrong type becomes Clerk's 400 without echoing the value, which may be a
//! secret), query parameters, and the admin API's typed bodies and path parameters.

use crate::app::App;
use crate::errors::ApiError;
use crate::state::{Caller, EmulatorState, Instance};
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Which credential an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Instance secret key only.
    Instance,
    /// Machine secret key only (`POST /m2m_tokens`).
    Machine,
    /// Either (`GET /m2m_tokens`, revoke, verify).
    Either,
}

/// The credential of `Authorization: Bearer <credential>` (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

/// Authenticates the request for an endpoint accepting `need`. Missing or wrong credentials are
/// 401s with the code the reference expects for that kind of key (`clerk_key_invalid` for
/// instance keys, `machine_secret_key_invalid` for machine keys).
pub fn authenticate(state: &EmulatorState, headers: &HeaderMap, need: Need, now: i64) -> Result<Caller, ApiError> {
    let Some(credential) = bearer(headers) else {
        return Err(match need {
            Need::Instance => ApiError::secret_key_invalid(true),
            Need::Machine | Need::Either => ApiError::machine_key_invalid(true),
        });
    };
    match (need, state.authenticate(credential, now)) {
        (Need::Instance, Some(c @ Caller::Instance(_))) => Ok(c),
        (Need::Instance, _) => Err(ApiError::secret_key_invalid(false)),
        (Need::Machine, Some(c @ Caller::Machine { .. })) => Ok(c),
        (Need::Machine, _) => Err(ApiError::machine_key_invalid(false)),
        (Need::Either, Some(c)) => Ok(c),
        (Need::Either, None) if credential.starts_with("sk_") => Err(ApiError::secret_key_invalid(false)),
        (Need::Either, None) => Err(ApiError::machine_key_invalid(false)),
    }
}

/// The caller's instance (always present: callers are resolved from the same state).
pub fn instance<'a>(state: &'a EmulatorState, caller: &Caller) -> Result<&'a Instance, ApiError> {
    state.instances.get(caller.instance()).ok_or_else(|| ApiError::internal("instance vanished"))
}

pub fn instance_mut<'a>(state: &'a mut EmulatorState, caller: &Caller) -> Result<&'a mut Instance, ApiError> {
    state.instances.get_mut(caller.instance()).ok_or_else(|| ApiError::internal("instance vanished"))
}

/// The body as a JSON object; an empty body counts as `{}` (the reference sends no body when it
/// has no parameters).
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::malformed_body()),
    }
}

/// A present, non-null value.
fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

pub fn opt_number(map: &Map<String, Value>, key: &'static str) -> Result<Option<f64>, ApiError> {
    match present(map, key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| ApiError::param_format_invalid(key, "a number")),
    }
}

pub fn opt_string(map: &Map<String, Value>, key: &'static str) -> Result<Option<String>, ApiError> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::param_format_invalid(key, "a string")),
    }
}

pub fn req_string(map: &Map<String, Value>, key: &'static str) -> Result<String, ApiError> {
    opt_string(map, key)?.ok_or_else(|| ApiError::param_missing(key))
}

pub fn opt_object(map: &Map<String, Value>, key: &'static str) -> Result<Option<Map<String, Value>>, ApiError> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(_) => Err(ApiError::param_format_invalid(key, "an object")),
    }
}

pub fn opt_string_array(map: &Map<String, Value>, key: &'static str) -> Result<Option<Vec<String>>, ApiError> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| ApiError::param_format_invalid(key, "an array of strings")),
        Some(_) => Err(ApiError::param_format_invalid(key, "an array of strings")),
    }
}

/// Parses an admin body (empty = `{}`); messages describe admin input, which holds no secrets.
pub fn admin_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::admin_invalid(format!("invalid body: {e}")))
}

/// A path parameter; one that does not parse is an unknown resource.
pub fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(v)| v).map_err(|_| ApiError::not_found("Resource"))
}

/// An admin path's instance: its index (`0`) or id (`ins_…`).
pub fn instance_index(app: &App, key: &str) -> Result<usize, ApiError> {
    app.state().find_instance(key).ok_or_else(|| ApiError::not_found("Instance"))
}

/// Query parameters; for repeated keys the last value wins.
#[derive(Debug, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn new(pairs: Vec<(String, String)>) -> QueryParams {
        QueryParams(pairs)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `true` / `false` (as the reference sends them).
    pub fn bool(&self, key: &'static str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::param_format_invalid(key, "true or false")),
        }
    }

    /// An integer within `min..=max`.
    pub fn int(&self, key: &'static str, min: usize, max: usize) -> Result<Option<usize>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::param_value_invalid(key, &format!("must be an integer between {min} and {max}."))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_support;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&headers("Bearer sk_1")), Some("sk_1"));
        assert_eq!(bearer(&headers("bearer sk_1")), Some("sk_1"));
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&headers("Basic sk_1")), None);
        assert_eq!(bearer(&headers("sk_1")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn authentication_matrix() {
        let inst = test_support::instance();
        let mk = inst.machines[0].secret_key.clone();
        let state = EmulatorState { instances: vec![inst], limits: Default::default() };
        let sk = headers("Bearer sk_test_secret");
        let machine = headers(&format!("Bearer {mk}"));
        let none = HeaderMap::new();
        let code = |r: Result<Caller, ApiError>| r.map(|_| "ok".to_owned()).unwrap_or_else(|e| format!("{}:{}", e.status.as_u16(), e.code));
        let authenticate = |state: &EmulatorState, headers: &HeaderMap, need| authenticate(state, headers, need, 0);
        assert_eq!(code(authenticate(&state, &sk, Need::Instance)), "ok");
        assert_eq!(code(authenticate(&state, &machine, Need::Instance)), "401:clerk_key_invalid");
        assert_eq!(code(authenticate(&state, &none, Need::Instance)), "401:clerk_key_invalid");
        assert_eq!(code(authenticate(&state, &machine, Need::Machine)), "ok");
        assert_eq!(code(authenticate(&state, &sk, Need::Machine)), "401:machine_secret_key_invalid");
        assert_eq!(code(authenticate(&state, &none, Need::Machine)), "401:machine_secret_key_invalid");
        assert_eq!(code(authenticate(&state, &sk, Need::Either)), "ok");
        assert_eq!(code(authenticate(&state, &machine, Need::Either)), "ok");
        assert_eq!(code(authenticate(&state, &headers("Bearer sk_wrong"), Need::Either)), "401:clerk_key_invalid");
        assert_eq!(code(authenticate(&state, &headers("Bearer ak_wrong"), Need::Either)), "401:machine_secret_key_invalid");
        assert_eq!(code(authenticate(&state, &none, Need::Either)), "401:machine_secret_key_invalid");
    }

    #[test]
    fn body_fields() {
        assert_eq!(json_object(b"").unwrap(), Map::new());
        assert_eq!(json_object(b"  \n").unwrap(), Map::new());
        for bad in [&b"[]"[..], b"null", b"{", b"\"x\"", b"\xff"] {
            assert_eq!(json_object(bad).unwrap_err().code, "malformed_request_body");
        }
        let m = json_object(br#"{"n":1.5,"s":"x","o":{"a":1},"a":["x"],"z":null,"bad":[1]}"#).unwrap();
        assert_eq!(opt_number(&m, "n").unwrap(), Some(1.5));
        assert_eq!(opt_number(&m, "z").unwrap(), None);
        assert_eq!(opt_number(&m, "missing").unwrap(), None);
        assert!(opt_number(&m, "s").is_err());
        assert_eq!(opt_string(&m, "s").unwrap().as_deref(), Some("x"));
        assert!(opt_string(&m, "n").is_err());
        assert_eq!(req_string(&m, "z").unwrap_err().code, "form_param_missing");
        assert_eq!(req_string(&m, "n").unwrap_err().code, "form_param_format_invalid");
        assert_eq!(opt_object(&m, "o").unwrap(), Some(json!({"a": 1}).as_object().unwrap().clone()));
        assert!(opt_object(&m, "a").is_err());
        assert_eq!(opt_string_array(&m, "a").unwrap(), Some(vec!["x".to_owned()]));
        assert!(opt_string_array(&m, "bad").is_err());
        assert!(opt_string_array(&m, "s").is_err());
        // Error messages never echo values.
        let secret = json_object(br#"{"seconds_until_expiration":"sk_test_topsecret"}"#).unwrap();
        let e = opt_number(&secret, "seconds_until_expiration").unwrap_err();
        assert!(!format!("{:?}", e.body()).contains("topsecret"));
    }

    #[test]
    fn query_params() {
        let q = QueryParams::new(vec![("a".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), "true".into()), ("c".into(), "yes".into())]);
        assert_eq!(q.get("a"), Some("2"));
        assert_eq!(q.bool("b").unwrap(), Some(true));
        assert_eq!(q.bool("missing").unwrap(), None);
        assert!(q.bool("c").is_err());
        assert_eq!(q.int("a", 1, 2).unwrap(), Some(2));
        assert!(q.int("a", 3, 5).is_err());
        assert!(q.int("b", 0, 5).is_err());
        assert_eq!(q.int("missing", 0, 5).unwrap(), None);
    }
}

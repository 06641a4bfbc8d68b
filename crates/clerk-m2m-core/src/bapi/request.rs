//! The request layer (`buildRequest`): send a call through [`crate::http`], then read the
//! answer as the reference does — the JSON object of a success, or the `ClerkAPIResponseError`
//! it would throw.

use super::config::BapiConfig;
use super::error::{coerce_text, unexpected_error, KIND_INVALID_REQUEST, KIND_INVALID_RESPONSE};
use crate::errors::{ClerkApiError, ClerkApiResponseError};
use crate::http::{self, Retry};
use crate::js;
use crate::secret::Secret;
use reqwest::Method;
use serde_json::Value;
use url::Url;

pub(super) struct Call<'a> {
    pub method: Method,
    pub url: Url,
    pub bearer: Option<&'a Secret>,
    pub body: Option<Value>,
    pub retry: Retry,
}

/// Sends a call and turns the answer into the JSON object it must be, or the
/// `ClerkAPIResponseError` the reference would throw.
pub(super) async fn execute(cfg: &BapiConfig, call: Call<'_>) -> Result<Value, ClerkApiResponseError> {
    let body = match &call.body {
        Some(v) => Some(serde_json::to_vec(v).map_err(|_| unexpected_error(KIND_INVALID_REQUEST, "The request body could not be encoded."))?),
        None => None,
    };
    let resp = http::send(http::Request {
        method: call.method,
        url: &call.url,
        bearer: call.bearer,
        body,
        retry: call.retry,
        timeout: cfg.timeout,
    })
    .await
    .map_err(|e| ClerkApiResponseError { attempts: e.attempts(), ..unexpected_error(e.kind(), e.to_string()) })?;
    interpret(&resp).map_err(|e| ClerkApiResponseError { attempts: resp.attempts, ..e })
}

/// The response half of `buildRequest`, with the divergences listed in the module docs.
fn interpret(resp: &http::Response) -> Result<Value, ClerkApiResponseError> {
    let json = if resp.is_json() {
        match crate::json::parse_segment(&resp.body) {
            Some(v) => Some(v),
            // `res.json()` threw: caught by the reference and reported without a status.
            None => return Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} with an invalid JSON body.", resp.status))),
        }
    } else {
        None
    };
    if !resp.is_success() {
        let errors = match &json {
            Some(v) => parse_errors(v).map_err(|m| unexpected_error(KIND_INVALID_RESPONSE, m))?,
            None => Vec::new(),
        };
        return Err(ClerkApiResponseError {
            status: Some(resp.status),
            status_text: resp.status_text().to_owned(),
            errors,
            clerk_trace_id: trace_id(json.as_ref(), resp),
            retry_after: resp.retry_after(),
            kind: None,
            attempts: resp.attempts,
        });
    }
    match json {
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} with JSON that is not an object.", resp.status))),
        None => {
            let content_type = resp.header_str("content-type").map(crate::redact::echo_untrusted).unwrap_or_else(|| "none".to_owned());
            Err(unexpected_error(KIND_INVALID_RESPONSE, format!("The Backend API answered {} without a JSON body (content-type: {content_type}).", resp.status)))
        }
    }
}

pub(super) fn url_or_error(url: Result<Url, String>) -> Result<Url, ClerkApiResponseError> {
    url.map_err(|m| unexpected_error(KIND_INVALID_REQUEST, m))
}

/// `new ClerkAPIError(json)`; `None` where the constructor would throw (`null`).
fn parse_error_entry(item: &Value) -> Option<ClerkApiError> {
    match item {
        Value::Null => None,
        Value::Object(o) => Some(ClerkApiError {
            code: coerce_text(o.get("code")).unwrap_or_default(),
            message: coerce_text(o.get("message")).unwrap_or_default(),
            long_message: coerce_text(o.get("long_message")),
            meta: o.get("meta").filter(|m| m.is_object()).cloned(),
        }),
        // A primitive has no such properties: every field is undefined.
        _ => Some(ClerkApiError { code: String::new(), message: String::new(), long_message: None, meta: None }),
    }
}

/// The reference's `parseErrors(body)`; `Err` where it would throw (which the
/// reference turns into an `unexpected_error` without status).
fn parse_errors(body: &Value) -> Result<Vec<ClerkApiError>, &'static str> {
    const MALFORMED: &str = "The Backend API returned a malformed error body.";
    let Some(errors) = body.as_object().and_then(|o| o.get("errors")) else {
        return Ok(Vec::new());
    };
    match errors {
        Value::Array(items) => items.iter().map(|i| parse_error_entry(i).ok_or(MALFORMED)).collect(),
        // `null.length` throws; a non-empty string or an object with a truthy `length` has no `.map`.
        Value::Null => Err(MALFORMED),
        Value::String(s) if !s.is_empty() => Err(MALFORMED),
        Value::Object(o) if js::is_truthy(o.get("length")) => Err(MALFORMED),
        _ => Ok(Vec::new()),
    }
}

/// `clerk_trace_id` of the body if it is a string, else the `cf-ray` header, else `''`.
fn trace_id(body: Option<&Value>, resp: &http::Response) -> String {
    if let Some(Value::String(id)) = body.and_then(|b| b.as_object()).and_then(|o| o.get("clerk_trace_id")) {
        return id.clone();
    }
    resp.header_str("cf-ray").unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn resp(status: u16, content_type: Option<&str>, body: &str, extra: &[(&'static str, &'static str)]) -> http::Response {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        for (k, v) in extra {
            headers.insert(*k, HeaderValue::from_static(v));
        }
        http::Response { status, headers, body: body.as_bytes().to_vec(), attempts: 1 }
    }

    #[test]
    fn error_bodies_parse_like_the_reference() {
        let body = r#"{"errors":[{"code":"c","message":"m","long_message":"lm","meta":{"param_name":"p"}},{"code":5,"message":0}],"clerk_trace_id":"t1"}"#;
        let e = interpret(&resp(401, Some("application/json"), body, &[("cf-ray", "ray"), ("retry-after", "7")])).unwrap_err();
        assert_eq!(e.status, Some(401));
        assert_eq!(e.status_text, "Unauthorized");
        assert_eq!(e.clerk_trace_id, "t1");
        assert_eq!(e.retry_after, Some(7));
        assert_eq!(e.kind, None);
        assert_eq!(e.errors.len(), 2);
        assert_eq!((e.errors[0].code.as_str(), e.errors[0].message.as_str()), ("c", "m"));
        assert_eq!(e.errors[0].long_message.as_deref(), Some("lm"));
        assert_eq!(e.errors[0].meta, Some(json!({"param_name":"p"})));
        assert_eq!((e.errors[1].code.as_str(), e.errors[1].message.as_str()), ("5", ""));
        // cf-ray when the body has no string trace id; charset parameter still parsed.
        let e = interpret(&resp(500, Some("application/json; charset=utf-8"), r#"{"clerk_trace_id":7}"#, &[("cf-ray", "ray")])).unwrap_err();
        assert_eq!((e.status, e.clerk_trace_id.as_str(), e.errors.len()), (Some(500), "ray", 0));
        // Non-JSON error body: status kept, no errors, no trace id.
        let e = interpret(&resp(503, Some("text/html"), "<html>", &[])).unwrap_err();
        assert_eq!((e.status, e.status_text.as_str(), e.errors.len(), e.clerk_trace_id.as_str()), (Some(503), "Service Unavailable", 0, ""));
        // Invalid JSON with a JSON content type: the reference's parse throws → no status.
        let e = interpret(&resp(401, Some("application/json"), "{not json", &[])).unwrap_err();
        assert_eq!((e.status, e.kind), (None, Some(KIND_INVALID_RESPONSE)));
        assert_eq!(e.errors[0].code, "unexpected_error");
        // Malformed `errors` values.
        for (body, ok) in [(r#"{"errors":null}"#, false), (r#"{"errors":"x"}"#, false), (r#"{"errors":[null]}"#, false), (r#"{"errors":{"length":1}}"#, false), (r#"{"errors":{}}"#, true), (r#"{"errors":""}"#, true), (r#"{"errors":5}"#, true), (r#"{"errors":[5]}"#, true), ("[1]", true), ("null", true)] {
            let e = interpret(&resp(400, Some("application/json"), body, &[])).unwrap_err();
            assert_eq!(e.status.is_some(), ok, "{body}");
        }
    }

    #[test]
    fn success_bodies_must_be_json_objects() {
        assert_eq!(interpret(&resp(200, Some("application/json; charset=utf-8"), r#"{"id":"mt_1"}"#, &[])).unwrap(), json!({"id":"mt_1"}));
        assert_eq!(interpret(&resp(201, Some("Application/JSON"), "\u{feff}{}", &[])).unwrap(), json!({}));
        for (ct, body) in [(Some("text/plain"), "success"), (None, "{}"), (Some("application/json"), "null"), (Some("application/json"), "[]"), (Some("application/json"), "\"s\""), (Some("application/json"), "{"), (Some("application/json"), "")] {
            let e = interpret(&resp(200, ct, body, &[])).unwrap_err();
            assert_eq!((e.status, e.kind), (None, Some(KIND_INVALID_RESPONSE)), "{ct:?} {body}");
            assert_eq!(e.errors[0].code, "unexpected_error");
        }
        let e = interpret(&resp(204, None, "", &[])).unwrap_err();
        assert_eq!(e.kind, Some(KIND_INVALID_RESPONSE));
    }
}

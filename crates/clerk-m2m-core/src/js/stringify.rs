//! `JSON.stringify` of values parsed from JSON.

use super::number::{json_number, number_to_string};
use super::object::object_keys;
use serde_json::Value;

/// `JSON.stringify(value)` for a value parsed from JSON.
pub fn json_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

/// `JSON.stringify(value)` where the value may be missing: `undefined` then,
/// which is what `${JSON.stringify(undefined)}` prints.
pub fn json_stringify_opt(value: Option<&Value>) -> String {
    match value {
        Some(v) => json_stringify(v),
        None => "undefined".to_owned(),
    }
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let f = json_number(n);
            // JSON.stringify writes non-finite numbers as null.
            if f.is_finite() {
                out.push_str(&number_to_string(f));
            } else {
                out.push_str("null");
            }
        }
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, key) in object_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_json(v, out);
                }
            }
            out.push('}');
        }
    }
}

/// `QuoteJSONString`: short escapes for `\b \t \n \f \r " \\`, `\u00xx`
/// (lowercase hex) for the other control characters, everything else raw.
/// Rust strings hold no lone surrogates, so none need escaping.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::object::is_array_index;
    use super::*;
    use serde_json::json;

    #[test]
    fn json_stringify_matches_javascript() {
        assert_eq!(json_stringify(&json!(null)), "null");
        assert_eq!(json_stringify(&json!(true)), "true");
        assert_eq!(json_stringify(&json!(123)), "123");
        assert_eq!(json_stringify(&json!(1.5)), "1.5");
        assert_eq!(json_stringify(&json!(1e21)), "1e+21");
        assert_eq!(json_stringify(&json!(-0.0)), "0");
        assert_eq!(json_stringify(&json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(json_stringify(&json!(u64::MAX)), "18446744073709552000");
        assert_eq!(json_stringify(&json!("at+jwt")), r#""at+jwt""#);
        assert_eq!(json_stringify(&json!(["RS256"])), r#"["RS256"]"#);
        assert_eq!(json_stringify(&json!({"a": [1, {"b": null}], "c": "d"})), r#"{"a":[1,{"b":null}],"c":"d"}"#);
        assert_eq!(json_stringify(&json!([])), "[]");
        assert_eq!(json_stringify(&json!({})), "{}");
        assert_eq!(json_stringify_opt(None), "undefined");
        assert_eq!(json_stringify_opt(Some(&json!("x"))), r#""x""#);
    }

    #[test]
    fn json_string_escapes_match_javascript() {
        // JSON.stringify('"\\\b\f\n\r\t\u0000\u001f\u007f é\u2028😀')
        let s = "\"\\\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f} é\u{2028}😀";
        assert_eq!(json_stringify(&json!(s)), "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f} é\u{2028}😀\"");
        assert_eq!(json_stringify(&json!("\u{1b}[31m")), "\"\\u001b[31m\"");
    }

    #[test]
    fn object_keys_put_array_indices_first() {
        let v: Value = serde_json::from_str(r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"4294967295":6,"4294967294":7,"-1":8,"0":9}"#).unwrap();
        let map = v.as_object().unwrap();
        let keys: Vec<&str> = object_keys(map).into_iter().map(String::as_str).collect();
        assert_eq!(keys, ["0", "2", "10", "4294967294", "b", "a", "01", "4294967295", "-1"]);
        assert_eq!(json_stringify(&v), r#"{"0":9,"2":4,"10":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6,"-1":8}"#);
        assert!(is_array_index("0"));
        assert!(!is_array_index(""));
        assert!(!is_array_index("+1"));
        assert!(!is_array_index("1.0"));
        assert!(!is_array_index("99999999999"));
    }
}

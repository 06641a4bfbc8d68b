//! JavaScript semantics that leak into the reference's messages and resources.
//!
//! `@clerk/backend` builds its error messages with `JSON.stringify`, template
//! strings and `Date.prototype.toUTCString`, and its resources with JS
//! arithmetic (`exp * 1000`, `Date` + `setUTCSeconds`). Exact parity of those
//! messages needs the same formatting, so it lives here, once:
//!
//! * [`number_to_string`]: `Number.prototype.toString` (via `ryu-js`): `1e+21`, `1e-7`, `-0` → `0`.
//! * [`json_stringify`] / [`json_stringify_opt`]: `JSON.stringify`, with a missing value
//!   rendering as the bare word `undefined` (what a template string shows).
//! * [`to_js_string`] / [`to_js_string_opt`]: `String(x)` / `${x}`.
//! * [`object_keys`]: `Object.keys` order (array indices first, ascending).
//! * [`to_number`], [`is_truthy`]: `ToNumber`, `ToBoolean`.
//! * [`time_clip`], [`set_utc_seconds_ms`], [`to_utc_string`]: the `Date` operations of the claim checks.
//!
//! A JSON value that is absent (a missing property, JS `undefined`) is an
//! `Option::None` throughout.

use serde_json::{Map, Value};

/// `Number.prototype.toString()` (radix 10), as JavaScript prints numbers.
pub fn number_to_string(n: f64) -> String {
    let mut buffer = ryu_js::Buffer::new();
    buffer.format(n).to_owned()
}

/// JS value of a JSON number: every JSON number is an IEEE double in JavaScript
/// (`9007199254740993` is `9007199254740992`).
fn json_number(n: &serde_json::Number) -> f64 {
    // `as_f64` is `Some` for every number serde_json can hold without `arbitrary_precision`.
    n.as_f64().unwrap_or(f64::NAN)
}

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

/// True for the keys JavaScript treats as array indices (canonical integers
/// `0 ..= 2^32 - 2`), which `Object.keys` lists first, in ascending order.
pub fn is_array_index(key: &str) -> bool {
    if key.is_empty() || key.len() > 10 || !key.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if key.len() > 1 && key.starts_with('0') {
        return false;
    }
    matches!(key.parse::<u64>(), Ok(n) if n <= 4_294_967_294)
}

/// Keys of an object in `Object.keys` order: array indices ascending, then
/// the other keys in insertion order (what `serde_json`'s `preserve_order` keeps).
pub fn object_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut indices: Vec<(u64, &String)> =
        map.keys().filter(|k| is_array_index(k)).filter_map(|k| k.parse::<u64>().ok().map(|n| (n, k))).collect();
    indices.sort_by_key(|(n, _)| *n);
    let mut keys: Vec<&String> = indices.into_iter().map(|(_, k)| k).collect();
    keys.extend(map.keys().filter(|k| !is_array_index(k)));
    keys
}

/// `String(value)`, i.e. what `${value}` prints: numbers as JS prints them,
/// arrays joined with `,` (with `null` elements as empty strings), objects as
/// `[object Object]`.
pub fn to_js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(json_number(n)),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Array.prototype.join renders null and undefined elements as ''.
                if !item.is_null() {
                    out.push_str(&to_js_string(item));
                }
            }
            out
        }
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// `String(value)` where the value may be missing (`undefined`).
pub fn to_js_string_opt(value: Option<&Value>) -> String {
    match value {
        Some(v) => to_js_string(v),
        None => "undefined".to_owned(),
    }
}

/// `value.key` for a value parsed from JSON: only objects have properties
/// (strings, numbers, arrays have none of the names Clerk reads). `null` is
/// treated like an object without properties; in JavaScript reading from it
/// throws, see the callers for how that divergence is handled.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let map = value.as_object()?;
    // JWT headers and payloads have a handful of members: comparing names is
    // cheaper than hashing `key` (the map's keys are unique, so the first match is the one).
    if map.len() <= SMALL_OBJECT {
        return map.iter().find_map(|(k, v)| (k == key).then_some(v));
    }
    map.get(key)
}

/// Up to this many members, [`get`] scans instead of hashing.
const SMALL_OBJECT: usize = 16;

/// `ToBoolean`: `undefined`, `null`, `false`, `0`, `NaN` and `''` are falsy.
pub fn is_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => {
            let f = json_number(n);
            f != 0.0 && !f.is_nan()
        }
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_)) | Some(Value::Object(_)) => true,
    }
}

/// `ToNumber` (as in `payload.exp * 1000`): `undefined` → NaN, `null` → 0,
/// booleans → 0/1, strings by `StringToNumber`, arrays through their string
/// form (`[]` → 0, `[5]` → 5), objects → NaN.
pub fn to_number(value: Option<&Value>) -> f64 {
    match value {
        None => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => json_number(n),
        Some(Value::String(s)) => string_to_number(s),
        Some(v @ Value::Array(_)) => string_to_number(&to_js_string(v)),
        Some(Value::Object(_)) => f64::NAN,
    }
}

/// `StrWhiteSpaceChar`: WhiteSpace and LineTerminator of ECMAScript.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
            | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// `StringToNumber`.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let radix = match t.get(..2) {
        Some("0x") | Some("0X") => Some(16),
        Some("0o") | Some("0O") => Some(8),
        Some("0b") | Some("0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = t.get(2..).unwrap_or("");
        if digits.is_empty() {
            return f64::NAN;
        }
        let mut acc = 0.0f64;
        for c in digits.chars() {
            match c.to_digit(radix) {
                Some(d) => acc = acc * f64::from(radix) + f64::from(d),
                None => return f64::NAN,
            }
        }
        return acc;
    }
    if is_decimal_literal(t) {
        t.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// `StrDecimalLiteral` without `Infinity`: `[+-] (digits [. digits] | . digits) [(e|E) [+-] digits]`.
/// Checked before handing the text to Rust's parser, which also accepts `inf`/`nan`.
fn is_decimal_literal(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+') | Some(b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// Largest absolute time value a JS `Date` holds (±100 000 000 days).
pub const MAX_TIME_MS: f64 = 8.64e15;

/// `TimeClip`: NaN for non-finite or |t| > 8.64e15, else truncated toward zero (`-0` → `0`).
pub fn time_clip(ms: f64) -> f64 {
    if !ms.is_finite() || ms.abs() > MAX_TIME_MS {
        return f64::NAN;
    }
    // Adding +0.0 turns -0.0 into +0.0, as ToIntegerOrInfinity does.
    ms.trunc() + 0.0
}

/// `const d = new Date(0); d.setUTCSeconds(value); d.getTime()`: the seconds
/// are truncated toward zero, multiplied by 1000 and time-clipped, so values
/// beyond ±8.64e12 s (and non-finite ones) give NaN.
pub fn set_utc_seconds_ms(value: f64) -> f64 {
    if !value.is_finite() {
        return f64::NAN;
    }
    time_clip(value.trunc() * 1000.0)
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MS_PER_DAY: f64 = 86_400_000.0;

/// Proleptic-Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`). Total for |days| ≤ 10^8 + 1, the whole `Date` range.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `new Date(ms).toUTCString()`: `Www, DD Mon YYYY HH:MM:SS GMT`, years
/// zero-padded to 4 digits with a `-` sign when negative (`-1199`, `-0001`),
/// longer years in full (`10000`), `Invalid Date` for NaN or out of range.
pub fn to_utc_string(ms: f64) -> String {
    let t = time_clip(ms);
    if t.is_nan() {
        return "Invalid Date".to_owned();
    }
    let days_f = (t / MS_PER_DAY).floor();
    let ms_of_day = t - days_f * MS_PER_DAY;
    // |days_f| ≤ 1e8 and 0 ≤ ms_of_day < 86 400 000 after TimeClip: both casts are exact.
    let days = days_f as i64;
    let ms_of_day = ms_of_day as i64;
    let weekday = WEEKDAYS.get((days + 4).rem_euclid(7) as usize).copied().unwrap_or("???");
    let (year, month, day) = civil_from_days(days);
    let month_name = MONTHS.get((month - 1) as usize).copied().unwrap_or("???");
    let (h, m, s) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60);
    let year_text = if year < 0 { format!("-{:04}", -year) } else { format!("{year:04}") };
    format!("{weekday}, {day:02} {month_name} {year_text} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        let cases: [(f64, &str); 20] = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123e20, "1.23e+22"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-6, "0.000001"),
            (9007199254740993.0, "9007199254740992"),
            (2f64.powi(53), "9007199254740992"),
            (1666648250000.0, "1666648250000"),
            (1e300 * 10.0, "1e+301"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (n, expected) in cases {
            assert_eq!(number_to_string(n), expected, "{n:e}");
        }
        assert_eq!(number_to_string(5e-324), "5e-324");
    }

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

    #[test]
    fn template_strings_match_javascript() {
        assert_eq!(to_js_string(&json!(null)), "null");
        assert_eq!(to_js_string(&json!(false)), "false");
        assert_eq!(to_js_string(&json!(1)), "1");
        assert_eq!(to_js_string(&json!(1e21)), "1e+21");
        assert_eq!(to_js_string(&json!("JWT")), "JWT");
        assert_eq!(to_js_string(&json!(["a", "b"])), "a,b");
        assert_eq!(to_js_string(&json!(["a", ["b", ["c"]], null, 1, {}])), "a,b,c,,1,[object Object]");
        assert_eq!(to_js_string(&json!([])), "");
        assert_eq!(to_js_string(&json!([null])), "");
        assert_eq!(to_js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(to_js_string_opt(None), "undefined");
    }

    #[test]
    fn truthiness() {
        for falsy in [json!(null), json!(false), json!(0), json!(-0.0), json!("")] {
            assert!(!is_truthy(Some(&falsy)), "{falsy}");
        }
        assert!(!is_truthy(None));
        for truthy in [json!(true), json!(1), json!(-1), json!("0"), json!([]), json!({})] {
            assert!(is_truthy(Some(&truthy)), "{truthy}");
        }
    }

    #[test]
    fn to_number_matches_javascript() {
        let n = |v: Value| to_number(Some(&v));
        assert!(to_number(None).is_nan());
        assert_eq!(n(json!(null)), 0.0);
        assert_eq!(n(json!(true)), 1.0);
        assert_eq!(n(json!(false)), 0.0);
        assert_eq!(n(json!(12.5)), 12.5);
        assert_eq!(n(json!("")), 0.0);
        assert_eq!(n(json!("  \n\t ")), 0.0);
        assert_eq!(n(json!(" 123 ")), 123.0);
        assert_eq!(n(json!("1e3")), 1000.0);
        assert_eq!(n(json!("-.5")), -0.5);
        assert_eq!(n(json!("5.")), 5.0);
        assert_eq!(n(json!("+7")), 7.0);
        assert_eq!(n(json!("0x1F")), 31.0);
        assert_eq!(n(json!("0b101")), 5.0);
        assert_eq!(n(json!("0o17")), 15.0);
        assert_eq!(n(json!("Infinity")), f64::INFINITY);
        assert_eq!(n(json!("-Infinity")), f64::NEG_INFINITY);
        for nan in ["inf", "nan", "NaN", "1e", ".", "+", "1 2", "0x", "-0x1", "12px", "1_000", "infinity"] {
            assert!(n(json!(nan)).is_nan(), "{nan}");
        }
        assert_eq!(n(json!([])), 0.0);
        assert_eq!(n(json!([5])), 5.0);
        assert!(n(json!([1, 2])).is_nan());
        assert!(n(json!({})).is_nan());
    }

    #[test]
    fn set_utc_seconds_truncates_and_clips() {
        assert_eq!(set_utc_seconds_ms(0.0), 0.0);
        assert!(set_utc_seconds_ms(-0.0).is_sign_positive());
        assert_eq!(set_utc_seconds_ms(1.9), 1000.0);
        assert_eq!(set_utc_seconds_ms(-1.9), -1000.0);
        assert_eq!(set_utc_seconds_ms(0.5), 0.0);
        assert!(set_utc_seconds_ms(-0.5).is_sign_positive());
        assert_eq!(set_utc_seconds_ms(8.64e12), 8.64e15);
        assert!(set_utc_seconds_ms(8.64e12 + 1.0).is_nan());
        assert_eq!(set_utc_seconds_ms(-8.64e12), -8.64e15);
        assert!(set_utc_seconds_ms(-8.64e12 - 1.0).is_nan());
        assert_eq!(set_utc_seconds_ms(8639999999999.9), 8639999999999000.0);
        for nan in [1e20, -1e13, 1e13, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::MAX, 9007199254740993.0] {
            assert!(set_utc_seconds_ms(nan).is_nan(), "{nan}");
        }
    }

    #[test]
    fn time_clip_matches_javascript() {
        assert_eq!(time_clip(1.5), 1.0);
        assert_eq!(time_clip(-1.5), -1.0);
        assert!(time_clip(-0.0).is_sign_positive());
        assert_eq!(time_clip(8.64e15), 8.64e15);
        assert!(time_clip(8.64e15 + 1.0).is_nan());
        assert!(time_clip(f64::NAN).is_nan());
    }

    /// Expected values printed by Node v20 (`new Date(0).setUTCSeconds(s)` / `new Date(ms).toUTCString()`).
    #[test]
    fn utc_strings_match_node() {
        let by_seconds: [(f64, &str); 10] = [
            (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (1.9, "Thu, 01 Jan 1970 00:00:01 GMT"),
            (-1.9, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (8.64e12, "Sat, 13 Sep 275760 00:00:00 GMT"),
            (-8.64e12, "Tue, 20 Apr -271821 00:00:00 GMT"),
            (-62198755200.0, "Fri, 01 Jan -0001 00:00:00 GMT"),
            (-99999999999.0, "Thu, 15 Feb -1199 14:13:21 GMT"),
            (253402300800.0, "Sat, 01 Jan 10000 00:00:00 GMT"),
            (1666648250.0, "Mon, 24 Oct 2022 21:50:50 GMT"),
            (8639999999999.9, "Fri, 12 Sep 275760 23:59:59 GMT"),
        ];
        for (s, expected) in by_seconds {
            assert_eq!(to_utc_string(set_utc_seconds_ms(s)), expected, "{s}");
        }
        let by_ms: [(f64, &str); 8] = [
            (-62135596800001.0, "Sun, 31 Dec 0000 23:59:59 GMT"),
            (-62167219200000.0, "Sat, 01 Jan 0000 00:00:00 GMT"),
            (-62167219200001.0, "Fri, 31 Dec -0001 23:59:59 GMT"),
            (-377705116800000.0, "Mon, 01 Jan -9999 00:00:00 GMT"),
            (1.5, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (-1.5, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (951782400000.0, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1795763638000.0, "Fri, 27 Nov 2026 07:13:58 GMT"),
        ];
        for (ms, expected) in by_ms {
            assert_eq!(to_utc_string(ms), expected, "{ms}");
        }
        for invalid in [f64::NAN, f64::INFINITY, 8.64e15 + 1.0, -8.64e15 - 1.0] {
            assert_eq!(to_utc_string(invalid), "Invalid Date");
        }
    }

    fn days_in_month(year: i64, month: i64) -> i64 {
        let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn civil_dates_advance_one_day_at_a_time() {
        assert_eq!(civil_from_days(-100_000_000), (-271821, 4, 20));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(100_000_000), (275760, 9, 13));
        // Windows around the range ends, year 0, the epoch, 2000 and 10000, each crossing leap days.
        for start in [-100_000_000i64, -719_528 - 800, -800, 10_957 - 800, 2_932_896 - 800, 99_998_400] {
            let mut last = civil_from_days(start);
            for days in start + 1..start + 1600 {
                let next = civil_from_days(days);
                let expected = if last.2 < days_in_month(last.0, last.1) {
                    (last.0, last.1, last.2 + 1)
                } else if last.1 < 12 {
                    (last.0, last.1 + 1, 1)
                } else {
                    (last.0 + 1, 1, 1)
                };
                assert_eq!(next, expected, "day {days}");
                last = next;
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn utc_string_never_panics(ms in proptest::num::f64::ANY) {
            let _ = to_utc_string(ms);
            let _ = set_utc_seconds_ms(ms);
        }

        #[test]
        fn string_to_number_never_panics(s in ".{0,40}") {
            let _ = string_to_number(&s);
        }
    }
}

//! `ToBoolean`, `ToNumber` and `String(x)` of values parsed from JSON.

use super::number::{json_number, number_to_string};
use serde_json::Value;

/// `ToBoolean`: `undefined`, `null`, `false`, `0`, `-0`, `NaN` and `''` are falsy.
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

/// Arrays nested deeper than this are joined as `''`. The decoder refuses JSON nested deeper
/// than 128 levels (see [`crate::json`]), so every decoded value is joined exactly; the cut
/// only bounds the recursion for values built by hand.
const MAX_DEPTH: usize = 128;

/// `String(value)`, i.e. what `${value}` prints or a property lookup `obj[value]` uses: numbers
/// as JS prints them, arrays joined with `,` (`null` elements as empty strings), objects as
/// `[object Object]` (`["a",1]` → `a,1`, `null` → `null`).
pub fn to_js_string(value: &Value) -> String {
    to_js_string_at(value, 0)
}

fn to_js_string_at(value: &Value, depth: usize) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(json_number(n)),
        Value::String(s) => s.clone(),
        Value::Array(items) if depth < MAX_DEPTH => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Array.prototype.join renders null and undefined elements as ''.
                if !item.is_null() {
                    out.push_str(&to_js_string_at(item, depth.saturating_add(1)));
                }
            }
            out
        }
        Value::Array(_) => String::new(),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// `String(value)` where the value may be missing (`undefined`).
#[cfg(test)]
pub fn to_js_string_opt(value: Option<&Value>) -> String {
    match value {
        Some(v) => to_js_string(v),
        None => "undefined".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn js_coercions() {
        assert_eq!(to_js_string(&json!(123)), "123");
        assert_eq!(to_js_string(&json!(1.5)), "1.5");
        assert_eq!(to_js_string(&json!(1e21)), "1e+21");
        assert_eq!(to_js_string(&json!(["ins_A"])), "ins_A");
        assert_eq!(to_js_string(&json!([1, [2, 3], null, {}])), "1,2,3,,[object Object]");
        assert_eq!(to_js_string(&json!({})), "[object Object]");
        assert_eq!(to_js_string(&json!(true)), "true");
        assert_eq!(to_js_string(&json!(null)), "null");
        let mut deep = json!("x");
        for _ in 0..200 {
            deep = json!([deep]);
        }
        assert_eq!(to_js_string(&deep), "");
        for f in [json!(0), json!(0.0), json!(""), json!(null), json!(false)] {
            assert!(!is_truthy(Some(&f)), "{f}");
        }
        for t in [json!(1), json!(-0.5), json!("0"), json!([]), json!({}), json!(true)] {
            assert!(is_truthy(Some(&t)), "{t}");
        }
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

    proptest::proptest! {
        #[test]
        fn string_to_number_never_panics(s in ".{0,40}") {
            let _ = string_to_number(&s);
        }
    }
}

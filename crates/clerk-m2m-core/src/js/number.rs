//! Numbers as JavaScript prints and serialises them.

use serde_json::Value;

/// `Number.MAX_SAFE_INTEGER` (2^53 − 1): integral numbers up to it convert to `i64` exactly.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `Number.prototype.toString()` (radix 10), as JavaScript prints numbers: `1e+21`, `1e-7`, `-0` → `0`.
pub fn number_to_string(n: f64) -> String {
    let mut buffer = ryu_js::Buffer::new();
    buffer.format(n).to_owned()
}

/// JS value of a JSON number: every JSON number is an IEEE double in JavaScript
/// (`9007199254740993` is `9007199254740992`).
pub(crate) fn json_number(n: &serde_json::Number) -> f64 {
    // `as_f64` is `Some` for every number serde_json can hold without `arbitrary_precision`.
    n.as_f64().unwrap_or(f64::NAN)
}

/// A finite number as a JSON number: integral values within ±[`MAX_SAFE_INTEGER`] without a fraction.
fn finite_to_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        // Exact: an integral f64 within ±2^53 fits an i64. (-0 becomes 0.)
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// A number as `JSON.stringify` writes it: integers without `.0`, `-0` as `0`, non-finite as `null`.
pub fn number_to_json(n: f64) -> Value {
    if n.is_finite() {
        finite_to_json(n)
    } else {
        Value::Null
    }
}

/// A number as the JS layer reads it back exactly (resource fields): as [`number_to_json`], except
/// that `-0` stays `-0` (written `-0.0`) and a non-finite number is the string `"NaN"`,
/// `"Infinity"` or `"-Infinity"`, which the JS layer turns back into the number.
pub fn number_to_wire(n: f64) -> Value {
    if !n.is_finite() {
        return Value::String(number_to_string(n));
    }
    if n == 0.0 && n.is_sign_negative() {
        return serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number);
    }
    finite_to_json(n)
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
    fn json_stringify_numbers() {
        assert_eq!(number_to_json(60.0).to_string(), "60");
        assert_eq!(number_to_json(-0.0).to_string(), "0");
        assert_eq!(number_to_json(1.5).to_string(), "1.5");
        assert_eq!(number_to_json(f64::NAN), Value::Null);
        assert_eq!(number_to_json(f64::INFINITY), Value::Null);
        assert_eq!(number_to_json(1e300).to_string(), serde_json::Number::from_f64(1e300).unwrap().to_string());
    }

    #[test]
    fn number_encoding() {
        assert_eq!(number_to_wire(0.0), json!(0));
        assert_eq!(serde_json::to_string(&number_to_wire(-0.0)).unwrap(), "-0.0");
        assert_eq!(number_to_wire(1.5), json!(1.5));
        assert_eq!(number_to_wire(9_007_199_254_740_991.0), json!(9_007_199_254_740_991i64));
        assert_eq!(number_to_wire(1e300), json!(1e300));
        assert_eq!(number_to_wire(f64::NAN), json!("NaN"));
        assert_eq!(number_to_wire(f64::NEG_INFINITY), json!("-Infinity"));
    }
}

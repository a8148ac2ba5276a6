//! Numbers across the boundary, with JSON's meaning. JavaScript has one number type, so the
//! addon reads a JS number as `JSON.stringify` would write it and a Python number as
//! `JSON.parse` would read it:
//!
//! - coming in, an integral number that fits 64 bits is an integer (`3`, not `3.0`), so a
//!   script sees `int` where `JSON.stringify` would have written `3` (it writes every integral
//!   number below 10^21 without a fraction; a JS number beyond 64 bits stays a float);
//! - going out, an integer beyond ±(2^53 − 1) (a result may hold any up to 4,300 digits, which
//!   the engine keeps exactly) becomes the nearest double, as `JSON.parse` would read it, not a
//!   `BigInt` (which `JSON.stringify` and most renderers cannot handle); one beyond the double
//!   range (over 308 digits), which `JSON.parse` would turn into `Infinity`, arrives as a string
//!   of its exact digits. The Rust API and the CLI keep every digit.

use serde_json::{Number, Value};

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
/// 2^63: integral doubles below it in magnitude fit an `i64` exactly.
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

/// A value received from JS, with integral numbers as integers.
pub(crate) fn from_js(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < TWO_TO_63 => {
                Number::from(f as i64)
            }
            _ => n,
        }),
        Value::Array(a) => Value::Array(a.into_iter().map(from_js).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, from_js(v))).collect()),
        other => other,
    }
}

/// A value on its way to JS, with integers beyond 2^53 as doubles (or, beyond the double
/// range, as their digits).
pub(crate) fn to_js(v: Value) -> Value {
    match v {
        Value::Number(n) => {
            let safe = n
                .as_i64()
                .map(|i| i.unsigned_abs() <= MAX_SAFE as u64)
                .or_else(|| n.as_u64().map(|u| u <= MAX_SAFE as u64));
            match safe {
                Some(true) => Value::Number(n),
                // A float is passed as it is; what remains is an integer beyond 64 bits.
                None if n.is_f64() => Value::Number(n),
                _ => match n.as_f64().and_then(Number::from_f64) {
                    Some(d) => Value::Number(d),
                    None => Value::String(n.to_string()),
                },
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(to_js).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, to_js(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_js_numbers_become_integers() {
        let v = from_js(
            json!({"a": 12345678901.0, "b": [1.5, -0.0, 3.0], "c": 1e300, "d": 9007199254740993.0, "e": -4611686018427387904.0, "f": 1e19}),
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            // 9007199254740993 is not a double: JS holds (and JSON.stringify writes) ...992.
            r#"{"a":12345678901,"b":[1.5,0,3],"c":1e+300,"d":9007199254740992,"e":-4611686018427387904,"f":1e+19}"#
        );
    }

    #[test]
    fn integers_beyond_two_to_the_53_become_doubles() {
        let v = to_js(
            json!({"a": 9007199254740991_i64, "b": 9007199254740992_i64, "c": -9007199254740993_i64, "d": u64::MAX, "e": 1.5}),
        );
        assert_eq!(v["a"].as_i64(), Some(9007199254740991));
        assert_eq!(
            v["b"].as_f64().filter(|_| v["b"].is_f64()),
            Some(9007199254740992.0)
        );
        assert_eq!(
            v["c"].as_f64().filter(|_| v["c"].is_f64()),
            Some(-9007199254740992.0)
        );
        assert_eq!(
            v["d"].as_f64().filter(|_| v["d"].is_f64()),
            Some(18446744073709551615.0)
        );
        assert_eq!(v["e"], json!(1.5));
    }

    #[test]
    fn integers_beyond_64_bits_become_doubles_or_beyond_the_double_range_digits() {
        // 2**200 + 1 and 10**400, as CPython's json writes them.
        let big = "1606938044258990275541962092341162602522202993782792835301377";
        let huge = format!("1{}", "0".repeat(400));
        let v: Value = serde_json::from_str(&format!(r#"{{"g": {big}, "h": -{huge}}}"#)).unwrap();
        assert_eq!(v["g"].to_string(), big, "the engine keeps every digit");
        let v = to_js(v);
        assert_eq!(
            v["g"].as_f64().filter(|_| v["g"].is_f64()),
            Some(1.6069380442589903e60)
        );
        assert_eq!(v["h"], Value::String(format!("-{huge}")));
    }
}

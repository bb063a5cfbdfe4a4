//! Strict JSON reading for receipts: serde_json's parser plus the checks RFC 8785 needs that
//! serde_json does not make. Duplicate object keys are rejected (serde_json would keep the
//! last one silently) and integer literals beyond ±(2^53−1) are rejected (they cannot be
//! represented exactly as IEEE-754 doubles, so canonicalizing them would round silently),
//! except those that are exactly the canonical text of a double (`100000000000000000000`,
//! what RFC 8785 writes for 1e20), so that canonical JSON always reads back.
//! Lone surrogates, NaN and Infinity are already rejected by serde_json's parser.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// The largest integer an IEEE-754 double holds exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Parses JSON text strictly (see the module documentation).
pub fn parse_strict(text: &str) -> Result<Value> {
    check_integer_literals(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(value)
}

fn json_error(e: serde_json::Error) -> Error {
    Error::invalid_json(format!("invalid JSON: {e}"))
}

fn unsafe_integer(literal: &str) -> Error {
    Error::invalid_json(format!(
        "integer {literal} is beyond ±(2^53−1) and cannot be represented exactly; \
         write it as a string"
    ))
}

/// serde_json hands integer literals beyond the u64/i64 range to the visitor as doubles, so
/// the range check must look at the text. This scan finds number tokens outside strings and
/// checks those without a fraction or exponent; it does not validate the rest of the syntax
/// (the parser does).
fn check_integer_literals(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                let mut integer = true;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    integer &= matches!(bytes[i], b'-' | b'0'..=b'9');
                    i += 1;
                }
                let literal = &text[start..i];
                let digits = literal.trim_start_matches('-');
                // 2^53 − 1 has 16 digits; fewer digits are always in range.
                if integer && digits.len() >= 16 {
                    let in_range = digits.parse::<u64>().is_ok_and(|n| n <= MAX_SAFE_INTEGER);
                    if !in_range && !is_canonical_double(literal) {
                        return Err(unsafe_integer(literal));
                    }
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Whether an integer literal is exactly the RFC 8785 text of a double (ECMAScript writes
/// whole doubles from 2^53 up to 10^21 as plain digits: `100000000000000000000`). Such a
/// literal reads back as that double and is written again as the same text, so canonical JSON
/// always parses; any other literal beyond ±(2^53−1) would be rounded and is refused.
fn is_canonical_double(literal: &str) -> bool {
    literal
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .is_some_and(|f| ryu_js::Buffer::new().format_finite(f) == literal)
}

/// A double for an integer beyond ±(2^53−1) that [`check_integer_literals`] let through (the
/// canonical text of a double), else the range error.
fn big_integer<E: de::Error>(v: impl fmt::Display, as_f64: f64) -> std::result::Result<Value, E> {
    if is_canonical_double(&v.to_string()) {
        if let Some(n) = Number::from_f64(as_f64) {
            return Ok(Value::Number(n));
        }
    }
    Err(E::custom(format!("integer {v} is beyond ±(2^53−1)")))
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            return big_integer(v, v as f64);
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            return big_integer(v, v as f64);
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("NaN and Infinity are not JSON numbers"))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicate_keys() {
        let err = parse_strict(r#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err();
        assert!(err.message.contains("duplicate key \"c\""), "{err}");
    }

    #[test]
    fn integer_range() {
        assert!(parse_strict("9007199254740991").is_ok());
        assert!(parse_strict("-9007199254740991").is_ok());
        for bad in [
            "9007199254740993",
            "-9007199254740993",
            "18446744073709551616",
            "123456789012345678901234567890",
        ] {
            let err = parse_strict(bad).unwrap_err();
            assert!(err.message.contains("2^53"), "{bad}: {err}");
        }
        // Literals that are exactly the canonical text of a double read back as that double.
        for exact in [
            "9007199254740992",
            "-9007199254740992",
            "100000000000000000000",
        ] {
            assert!(parse_strict(exact).unwrap().is_f64(), "{exact}");
        }
        // Exponent and fraction forms are doubles, not integers.
        assert!(parse_strict("1e21").is_ok());
        assert!(parse_strict("12345678901234567890.5").is_ok());
        // Digits inside strings are not numbers.
        assert!(parse_strict(r#"{"a":"123456789012345678901234567890\"1"}"#).is_ok());
    }

    #[test]
    fn rejects_lone_surrogates_and_garbage() {
        assert!(parse_strict(r#""\ud800""#).is_err());
        assert!(parse_strict(r#""\udc00x""#).is_err());
        assert!(parse_strict("NaN").is_err());
        assert!(parse_strict("Infinity").is_err());
        assert!(parse_strict("{} x").is_err());
        assert!(parse_strict(r#""\ud83d\ude00""#).is_ok());
    }
}

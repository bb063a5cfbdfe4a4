//! Money in JSON. Amounts are [`Decimal`]s in memory. In JSON they are numbers (as the
//! reference writes them), read through their shortest round-trip text so that `0.0000225`
//! becomes exactly 0.0000225, or strings holding a decimal. Written, they are numbers whose
//! shortest form is exactly the decimal's digits.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// Reads an amount from a JSON number or a decimal string.
pub fn decimal_from_json(value: &Value, what: &str) -> Result<Decimal> {
    let parsed = match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Decimal::from(i))
            } else if let Some(u) = n.as_u64() {
                Some(Decimal::from(u))
            } else {
                // Display prints the shortest text that reads back as the same double.
                n.as_f64()
                    .and_then(|f| Decimal::from_str(&f.to_string()).ok())
            }
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        Error::invalid_argument(format!("{what} must be a decimal number, got {value}"))
    })
}

/// Writes an amount as a JSON number. Fails when the amount has more significant digits
/// than a double keeps exactly (15), since the number would then not be exact.
pub fn decimal_to_json(amount: Decimal, what: &str) -> Result<Value> {
    let f = decimal_to_f64(amount, what)?;
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Error::internal(format!("{what} is not a finite number")))
}

/// The double nearest to `amount`, which reads back as exactly `amount`: any decimal of at
/// most 15 significant digits does (IEEE-754 doubles carry 15.95 decimal digits).
pub fn decimal_to_f64(amount: Decimal, what: &str) -> Result<f64> {
    const MAX_EXACT_MANTISSA: i128 = 999_999_999_999_999; // 15 digits
    let normalized = amount.normalize();
    if normalized.mantissa().abs() > MAX_EXACT_MANTISSA {
        return Err(Error::invalid_argument(format!(
            "{what} {normalized} has more significant digits than a JSON number keeps exactly"
        )));
    }
    // Parsing the decimal text is correctly rounded; Decimal's own conversion is not.
    normalized
        .to_string()
        .parse()
        .map_err(|_| Error::internal(format!("{what} {normalized} is not a number")))
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_written_digits() {
        let d = decimal_from_json(&json!(0.0000225), "cost").unwrap();
        assert_eq!(d.to_string(), "0.0000225");
        let d = decimal_from_json(&json!("0.000000000001"), "cost").unwrap();
        assert_eq!(d.to_string(), "0.000000000001");
        assert_eq!(
            decimal_from_json(&json!(3), "cost").unwrap(),
            Decimal::from(3)
        );
        assert!(decimal_from_json(&json!("abc"), "cost").is_err());
        assert!(decimal_from_json(&json!(null), "cost").is_err());
    }

    #[test]
    fn writes_exact_numbers_only() {
        let d = Decimal::from_str("0.0000225").unwrap();
        assert_eq!(decimal_to_json(d, "cost").unwrap(), json!(0.0000225));
        assert_eq!(decimal_to_json(Decimal::ZERO, "cost").unwrap(), json!(0.0));
        let too_long = Decimal::from_str("0.12345678901234567890123").unwrap();
        assert!(decimal_to_json(too_long, "cost").is_err());
    }
}

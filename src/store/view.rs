//! [`ReceiptView`]: the standard fields of a stored receipt, read in one pass from its JSON
//! text (without building a `serde_json::Value` tree), for filters, statistics, export and
//! reports.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::cost::json::decimal_from_json;
use crate::error::{Error, Result};
use crate::store::filter::Fields;

/// The standard fields of one receipt. Costs are exact decimals (read from the JSON number's
/// shortest round-trip text, or from a decimal string). Further members (`extra`) are not
/// kept: read the receipt text with [`crate::receipt::Receipt::from_value`] for those.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptView {
    pub receipt_id: String,
    /// As written in the receipt (RFC 3339).
    pub timestamp: String,
    /// `timestamp` parsed, in UTC; `None` when it is not RFC 3339.
    pub time: Option<DateTime<Utc>>,
    pub alias: String,
    pub profile: String,
    pub lock_digest: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub input_cost: Decimal,
    pub output_cost: Decimal,
    pub total_cost: Decimal,
    pub signature: Option<String>,
}

#[derive(Deserialize)]
struct Raw<'a> {
    receipt_id: String,
    timestamp: String,
    alias: String,
    profile: String,
    lock_digest: String,
    provider: String,
    model: String,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    #[serde(borrow)]
    input_cost: &'a RawValue,
    #[serde(borrow)]
    output_cost: &'a RawValue,
    #[serde(borrow)]
    total_cost: &'a RawValue,
    #[serde(default)]
    signature: Option<String>,
}

/// A cost member: a JSON number or decimal string, as [`decimal_from_json`] reads it. A plain
/// decimal number of at most 15 significant digits without trailing fraction zeros (what
/// canonical JSON writes for amounts) is read straight from its text: the double it denotes
/// prints back as the same text, so the decimal is the same; anything else is read through
/// [`decimal_from_json`].
fn cost(raw: &RawValue, what: &str) -> Result<Decimal> {
    let text = raw.get();
    if plain_decimal(text.as_bytes()) {
        if let Ok(d) = text.parse::<Decimal>() {
            return Ok(d);
        }
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid_argument(format!("receipt: {what}: {e}")))?;
    decimal_from_json(&value, what)
}

/// `0|[1-9][0-9]*` then optionally `.` and digits not ending in `0`, with at most 15
/// significant digits.
fn plain_decimal(b: &[u8]) -> bool {
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let int_ok =
        int == b"0" || (!int.is_empty() && int[0] != b'0' && int.iter().all(u8::is_ascii_digit));
    let frac_ok = frac.is_none_or(|f| {
        !f.is_empty() && f.iter().all(u8::is_ascii_digit) && f[f.len() - 1] != b'0'
    });
    if !(int_ok && frac_ok) {
        return false;
    }
    let digits: Vec<u8> = int
        .iter()
        .chain(frac.unwrap_or_default())
        .copied()
        .skip_while(|&c| c == b'0')
        .collect();
    digits.len() <= 15
}

impl ReceiptView {
    /// Reads the standard fields from receipt JSON text. Errors (kind `InvalidArgument`) when
    /// the text is not a JSON object with every standard field of the right type.
    pub fn parse(json: &str) -> Result<ReceiptView> {
        let raw: Raw = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("receipt: {e}")))?;
        let time = DateTime::parse_from_rfc3339(&raw.timestamp)
            .ok()
            .map(|t| t.with_timezone(&Utc));
        Ok(ReceiptView {
            input_cost: cost(raw.input_cost, "input_cost")?,
            output_cost: cost(raw.output_cost, "output_cost")?,
            total_cost: cost(raw.total_cost, "total_cost")?,
            receipt_id: raw.receipt_id,
            timestamp: raw.timestamp,
            time,
            alias: raw.alias,
            profile: raw.profile,
            lock_digest: raw.lock_digest,
            provider: raw.provider,
            model: raw.model,
            prompt_tokens: raw.prompt_tokens,
            completion_tokens: raw.completion_tokens,
            total_tokens: raw.total_tokens,
            signature: raw.signature,
        })
    }

    /// The fields a [`crate::store::Filter`] looks at.
    pub fn fields(&self) -> Fields {
        Fields {
            timestamp: self.time,
            alias: self.alias.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            profile: self.profile.clone(),
        }
    }
}

#[cfg(test)]
mod cost_tests {
    use super::*;

    #[test]
    fn costs_from_text_match_costs_through_a_double() {
        for text in [
            "0",
            "5",
            "12",
            "0.0000225",
            "0.00012",
            "1.25",
            "123456789012345",
            "0.1",
            "1e-7",
            "1.5E-7",
            "5.0",
            "0.10",
            "1234567890123456",
            "0.1234567890123456",
            "-1",
            "\"0.5\"",
            "18446744073709551616",
            "3.000000000000001",
        ] {
            let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            let slow = decimal_from_json(&value, "c").ok();
            let fast = cost(&raw, "c").ok();
            assert_eq!(fast, slow, "{text}");
            if let (Some(a), Some(b)) = (fast, slow) {
                assert_eq!(a.scale(), b.scale(), "{text}");
            }
        }
    }
}

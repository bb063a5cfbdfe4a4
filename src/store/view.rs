//! [`ReceiptView`]: the standard fields of a stored receipt, read in one pass from its JSON
//! text (without building a `serde_json::Value` tree), for filters, statistics, export and
//! reports.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

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
struct Raw {
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
    input_cost: Value,
    output_cost: Value,
    total_cost: Value,
    #[serde(default)]
    signature: Option<String>,
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
            input_cost: decimal_from_json(&raw.input_cost, "input_cost")?,
            output_cost: decimal_from_json(&raw.output_cost, "output_cost")?,
            total_cost: decimal_from_json(&raw.total_cost, "total_cost")?,
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

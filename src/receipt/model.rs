//! The receipt: what one LLM call used and cost, with the fields of the reference system.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cost::json::{decimal_from_json, decimal_to_json};
use crate::error::{Error, Result};

/// The receipt fields every receipt has, in the reference's order.
pub const FIELDS: [&str; 14] = [
    "receipt_id",
    "timestamp",
    "alias",
    "profile",
    "lock_digest",
    "provider",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "input_cost",
    "output_cost",
    "total_cost",
    "signature",
];

/// One receipt. `extra` holds further members (cache and reasoning token counts, a cost
/// breakdown, a key id, ...); they are covered by the signature like every other field.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub receipt_id: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub alias: String,
    pub profile: String,
    /// `sha256:<hex>` of the lockfile in force.
    pub lock_digest: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub input_cost: Decimal,
    pub output_cost: Decimal,
    pub total_cost: Decimal,
    pub extra: BTreeMap<String, Value>,
    /// `ed25519:<base64url>` when signed.
    pub signature: Option<String>,
}

/// What a caller supplies to [`generate`]: everything but the id, timestamp and signature.
/// As JSON: `{"alias","profile","lock_digest","provider","model","usage":{"prompt_tokens",
/// "completion_tokens","total_tokens"?},"costs":{"input_cost","output_cost","total_cost"?},
/// "extra"?:{...}}`. Costs are numbers or decimal strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub alias: String,
    pub profile: String,
    pub lock_digest: String,
    pub provider: String,
    pub model: String,
    pub usage: UsageInput,
    pub costs: CostsInput,
    #[serde(default)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageInput {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostsInput {
    pub input_cost: Value,
    pub output_cost: Value,
    #[serde(default)]
    pub total_cost: Option<Value>,
}

impl ReceiptInput {
    /// Reads the input from a JSON value, with a clear error for a missing or wrong field.
    pub fn from_value(value: Value) -> Result<Self> {
        serde_json::from_value(value)
            .map_err(|e| Error::invalid_argument(format!("receipt input: {e}")))
    }
}

/// The reference's ReceiptGenerator: fills a new UUID v4 and the current UTC time, checks that
/// totals add up (a missing total is the sum), and returns the unsigned receipt.
pub fn generate(input: ReceiptInput) -> Result<Receipt> {
    let ReceiptInput {
        alias,
        profile,
        lock_digest,
        provider,
        model,
        usage,
        costs,
        extra,
    } = input;
    for key in extra.keys() {
        if FIELDS.contains(&key.as_str()) {
            return Err(Error::invalid_argument(format!(
                "extra field {key:?} would replace a receipt field"
            )));
        }
    }
    let sum = usage.prompt_tokens.checked_add(usage.completion_tokens);
    let total_tokens = match (usage.total_tokens, sum) {
        (Some(t), Some(s)) if t == s => t,
        (None, Some(s)) => s,
        _ => {
            return Err(Error::invalid_argument(format!(
                "total_tokens {:?} is not prompt_tokens {} + completion_tokens {}",
                usage.total_tokens, usage.prompt_tokens, usage.completion_tokens
            )));
        }
    };
    let input_cost = decimal_from_json(&costs.input_cost, "input_cost")?;
    let output_cost = decimal_from_json(&costs.output_cost, "output_cost")?;
    if input_cost.is_sign_negative() || output_cost.is_sign_negative() {
        return Err(Error::invalid_argument("costs must not be negative"));
    }
    let sum = input_cost + output_cost;
    let total_cost = match costs.total_cost {
        None => sum,
        Some(v) => {
            let t = decimal_from_json(&v, "total_cost")?;
            if t != sum {
                return Err(Error::invalid_argument(format!(
                    "total_cost {t} is not input_cost {input_cost} + output_cost {output_cost}"
                )));
            }
            t
        }
    };
    Ok(Receipt {
        receipt_id: uuid::Uuid::new_v4().to_string(),
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        alias,
        profile,
        lock_digest,
        provider,
        model,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens,
        input_cost,
        output_cost,
        total_cost,
        extra,
        signature: None,
    })
}

impl Receipt {
    /// The receipt as a JSON object (with `signature` when signed).
    pub fn to_value(&self) -> Result<Value> {
        let mut m = Map::new();
        let mut s = |k: &str, v: &str| m.insert(k.to_owned(), Value::String(v.to_owned()));
        s("receipt_id", &self.receipt_id);
        s("timestamp", &self.timestamp);
        s("alias", &self.alias);
        s("profile", &self.profile);
        s("lock_digest", &self.lock_digest);
        s("provider", &self.provider);
        s("model", &self.model);
        m.insert("prompt_tokens".into(), self.prompt_tokens.into());
        m.insert("completion_tokens".into(), self.completion_tokens.into());
        m.insert("total_tokens".into(), self.total_tokens.into());
        m.insert(
            "input_cost".into(),
            decimal_to_json(self.input_cost, "input_cost")?,
        );
        m.insert(
            "output_cost".into(),
            decimal_to_json(self.output_cost, "output_cost")?,
        );
        m.insert(
            "total_cost".into(),
            decimal_to_json(self.total_cost, "total_cost")?,
        );
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        if let Some(sig) = &self.signature {
            m.insert("signature".into(), Value::String(sig.clone()));
        }
        Ok(Value::Object(m))
    }

    /// Reads a receipt from a JSON object. Unknown members go to `extra`.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::invalid_argument("a receipt is a JSON object"))?;
        let text = |k: &str| -> Result<String> {
            match obj.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(Error::invalid_argument(format!(
                    "receipt field {k} must be a string"
                ))),
            }
        };
        let count = |k: &str| -> Result<u64> {
            obj.get(k).and_then(Value::as_u64).ok_or_else(|| {
                Error::invalid_argument(format!("receipt field {k} must be a whole number"))
            })
        };
        let money = |k: &str| -> Result<Decimal> {
            decimal_from_json(obj.get(k).unwrap_or(&Value::Null), k)
        };
        let signature = match obj.get("signature") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(Error::invalid_argument(
                    "receipt signature must be a string",
                ));
            }
        };
        Ok(Receipt {
            receipt_id: text("receipt_id")?,
            timestamp: text("timestamp")?,
            alias: text("alias")?,
            profile: text("profile")?,
            lock_digest: text("lock_digest")?,
            provider: text("provider")?,
            model: text("model")?,
            prompt_tokens: count("prompt_tokens")?,
            completion_tokens: count("completion_tokens")?,
            total_tokens: count("total_tokens")?,
            input_cost: money("input_cost")?,
            output_cost: money("output_cost")?,
            total_cost: money("total_cost")?,
            extra: obj
                .iter()
                .filter(|(k, _)| !FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            signature,
        })
    }
}

//! Parsing one `{provider}/models.json` file.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::model::{Limits, ModelInfo, Pricing};
use crate::cost::json::decimal_from_json;
use crate::error::{Error, Result};
use crate::lockfile::ModelRef;

/// Parses the text of `{provider}/models.json`. `origin` names the file in error messages.
/// Every key of `models` must be `provider:model` with this file's provider. Unknown fields
/// are ignored; `null` counts as absent. Prices (JSON numbers, or strings holding a decimal) are
/// read exactly, never through f64 arithmetic, and must not be negative.
pub fn parse_provider_file(provider: &str, origin: &str, text: &str) -> Result<Vec<ModelInfo>> {
    let file_err = |msg: String| Error::config(format!("registry file {origin}: {msg}"));
    let root: Value =
        serde_json::from_str(text).map_err(|e| file_err(format!("invalid JSON: {e}")))?;
    let root = root
        .as_object()
        .ok_or_else(|| file_err("expected a JSON object".into()))?;
    if let Some(declared) = root.get("provider").and_then(Value::as_str) {
        if declared != provider {
            return Err(file_err(format!(
                "declares provider {declared:?}, expected {provider:?}"
            )));
        }
    }
    let models = root
        .get("models")
        .and_then(Value::as_object)
        .ok_or_else(|| file_err("missing `models` object".into()))?;
    models
        .iter()
        .map(|(key, entry)| {
            parse_model(provider, key, entry).map_err(|msg| {
                file_err(format!("model {key:?}: {msg}"))
                    .with("model", key.as_str())
                    .with("file", origin)
            })
        })
        .collect()
}

fn parse_model(provider: &str, key: &str, entry: &Value) -> std::result::Result<ModelInfo, String> {
    let id =
        ModelRef::parse(key).map_err(|_| "key is not of the form provider:model".to_owned())?;
    if id.provider != provider {
        return Err(format!("key's provider is not {provider:?}"));
    }
    let obj = entry.as_object().ok_or("entry is not a JSON object")?;
    let price = |name: &str| price_field(obj, &format!("dollars_per_million_tokens_{name}"));
    let pricing = Pricing {
        input: price("input")?,
        output: price("output")?,
        cached_input: price("cached_input")?,
        cache_read: price("cache_read")?,
        cache_write_5m: price("cache_write_5m")?,
        cache_write_1h: price("cache_write_1h")?,
        output_thinking: price("output_thinking")?,
        input_long_context: price("input_long_context")?,
        output_long_context: price("output_long_context")?,
        long_context_threshold_tokens: int_field(obj, "long_context_threshold_tokens")?,
    };
    let limits = Limits {
        max_input_tokens: int_field(obj, "max_input_tokens")?,
        max_output_tokens: int_field(obj, "max_output_tokens")?,
    };
    let display_name = match present(obj, "display_name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`display_name` is not a string".into()),
    };
    let aliases = match present(obj, "model_aliases") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("`model_aliases` holds a non-string")?,
        Some(_) => return Err("`model_aliases` is not a list".into()),
    };
    Ok(ModelInfo {
        id,
        display_name,
        aliases,
        pricing,
        limits,
    })
}

fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn price_field(
    obj: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<Decimal>, String> {
    let Some(value) = present(obj, name) else {
        return Ok(None);
    };
    let price = decimal_from_json(value, name).map_err(|e| e.message)?;
    if price.is_sign_negative() && !price.is_zero() {
        return Err(format!("`{name}` is negative: {value}"));
    }
    Ok(Some(price))
}

fn int_field(obj: &Map<String, Value>, name: &str) -> std::result::Result<Option<u64>, String> {
    match present(obj, name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{name}` is not a non-negative integer: {v}")),
    }
}

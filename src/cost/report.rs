//! The `usage` object of a response JSON.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::json::decimal_to_json;
use super::price::Cost;
use super::usage::Usage;

/// An amount as a JSON number (exact, via [`decimal_to_json`]); an amount with more
/// significant digits than a JSON number keeps exactly is written as a decimal string instead,
/// which [`decimal_from_json`](super::json::decimal_from_json) reads back.
pub fn money_json(amount: Decimal) -> Value {
    decimal_to_json(amount, "amount")
        .unwrap_or_else(|_| Value::String(amount.normalize().to_string()))
}

/// The response's `usage` object: `prompt_tokens`, `completion_tokens`, `total_tokens` (`null`
/// when unknown, as with no usage or Ollama's omitted prompt count), `cached_tokens`,
/// `cache_write_5m_tokens`, `cache_write_1h_tokens`, `reasoning_tokens` (each only when
/// non-zero), `cost` (the total), `input_cost`, `output_cost`, `cost_breakdown` (a list of
/// `{component, tokens, dollars_per_million_tokens, cost}`), `cost_status`, and
/// `long_context: true` when the long-context rates applied. Unpriced calls carry zero
/// amounts; `cost_status` says why.
pub fn usage_json(usage: Option<&Usage>, cost: &Cost) -> Map<String, Value> {
    let mut obj = Map::new();
    let prompt = usage.and_then(|u| u.prompt_tokens);
    obj.insert("prompt_tokens".into(), prompt.into());
    obj.insert(
        "completion_tokens".into(),
        usage.map(|u| u.completion_tokens).into(),
    );
    obj.insert(
        "total_tokens".into(),
        usage.and_then(Usage::total_tokens).into(),
    );
    if let Some(u) = usage {
        let extra = [
            ("cached_tokens", u.cached_read_tokens),
            ("cache_write_5m_tokens", u.cache_write_5m_tokens),
            ("cache_write_1h_tokens", u.cache_write_1h_tokens),
            ("reasoning_tokens", u.reasoning_tokens),
        ];
        for (key, n) in extra {
            if n > 0 {
                obj.insert(key.into(), n.into());
            }
        }
    }
    obj.insert("cost".into(), money_json(cost.total_cost));
    obj.insert("input_cost".into(), money_json(cost.input_cost));
    obj.insert("output_cost".into(), money_json(cost.output_cost));
    let lines = cost
        .breakdown
        .iter()
        .map(|line| {
            let mut l = Map::new();
            l.insert("component".into(), line.component.as_str().into());
            l.insert("tokens".into(), line.tokens.into());
            l.insert("dollars_per_million_tokens".into(), money_json(line.rate));
            l.insert("cost".into(), money_json(line.cost));
            Value::Object(l)
        })
        .collect();
    obj.insert("cost_breakdown".into(), Value::Array(lines));
    obj.insert("cost_status".into(), cost.status.as_str().into());
    if cost.long_context {
        obj.insert("long_context".into(), true.into());
    }
    obj
}

//! One registry entry: a model's prices and limits.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::cost::json::decimal_to_json;
use crate::lockfile::ModelRef;

/// A model's prices in US dollars per million tokens, exactly as the registry states them.
/// `None` means the registry gives no such price (absent or `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pricing {
    /// `dollars_per_million_tokens_input`: uncached input tokens.
    pub input: Option<Decimal>,
    /// `dollars_per_million_tokens_output`: output tokens (reasoning included unless
    /// [`Pricing::output_thinking`] is given).
    pub output: Option<Decimal>,
    /// `dollars_per_million_tokens_cached_input`: input tokens read from a cache (OpenAI's name).
    pub cached_input: Option<Decimal>,
    /// `dollars_per_million_tokens_cache_read`: input tokens read from a cache (Anthropic's name).
    pub cache_read: Option<Decimal>,
    /// `dollars_per_million_tokens_cache_write_5m`: input tokens written to a 5-minute cache.
    pub cache_write_5m: Option<Decimal>,
    /// `dollars_per_million_tokens_cache_write_1h`: input tokens written to a 1-hour cache.
    pub cache_write_1h: Option<Decimal>,
    /// `dollars_per_million_tokens_output_thinking`: reasoning tokens, when priced apart.
    pub output_thinking: Option<Decimal>,
    /// `dollars_per_million_tokens_input_long_context`: input rate above the threshold.
    pub input_long_context: Option<Decimal>,
    /// `dollars_per_million_tokens_output_long_context`: output rate above the threshold.
    pub output_long_context: Option<Decimal>,
    /// `long_context_threshold_tokens`: prompts with more input tokens than this are priced
    /// at the long-context rates.
    pub long_context_threshold_tokens: Option<u64>,
}

impl Pricing {
    /// The rate for cache reads: `cache_read`, else `cached_input`, else `input`.
    pub fn cache_read_rate(&self) -> Option<Decimal> {
        self.cache_read.or(self.cached_input).or(self.input)
    }

    /// True when the model has at least an input or an output price.
    pub fn is_priced(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }
}

/// A model's context limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `max_input_tokens`.
    pub max_input_tokens: Option<u64>,
    /// `max_output_tokens`.
    pub max_output_tokens: Option<u64>,
}

/// A registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The model's key in the registry (`provider:model`).
    pub id: ModelRef,
    /// `display_name`, when given.
    pub display_name: Option<String>,
    /// `model_aliases`: other names of the same model at the same provider (without prefix).
    pub aliases: Vec<String>,
    /// Prices.
    pub pricing: Pricing,
    /// Limits.
    pub limits: Limits,
}

impl ModelInfo {
    /// The entry as a JSON object in the registry's vocabulary (prices as exact JSON numbers,
    /// absent prices left out), for `llmring info --json` and similar.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("model".into(), self.id.to_string().into());
        obj.insert("provider".into(), self.id.provider.clone().into());
        obj.insert("model_name".into(), self.id.model.clone().into());
        if let Some(name) = &self.display_name {
            obj.insert("display_name".into(), name.clone().into());
        }
        obj.insert("model_aliases".into(), self.aliases.clone().into());
        let p = &self.pricing;
        let prices = [
            ("input", p.input),
            ("output", p.output),
            ("cached_input", p.cached_input),
            ("cache_read", p.cache_read),
            ("cache_write_5m", p.cache_write_5m),
            ("cache_write_1h", p.cache_write_1h),
            ("output_thinking", p.output_thinking),
            ("input_long_context", p.input_long_context),
            ("output_long_context", p.output_long_context),
        ];
        for (name, price) in prices {
            if let Some(price) = price {
                let key = format!("dollars_per_million_tokens_{name}");
                let value = decimal_to_json(price, &key)
                    .unwrap_or_else(|_| Value::String(price.normalize().to_string()));
                obj.insert(key, value);
            }
        }
        let ints = [
            (
                "long_context_threshold_tokens",
                p.long_context_threshold_tokens,
            ),
            ("max_input_tokens", self.limits.max_input_tokens),
            ("max_output_tokens", self.limits.max_output_tokens),
        ];
        for (name, n) in ints {
            if let Some(n) = n {
                obj.insert(name.into(), n.into());
            }
        }
        Value::Object(obj)
    }
}

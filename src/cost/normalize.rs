//! Normalizers from each provider's raw usage JSON to [`Usage`].
//!
//! Each takes the provider's usage object, or a whole response holding it (under `usage`, or
//! `usageMetadata` for Gemini; Ollama reports its counts at the top level of the response).
//! `Ok(None)` means the provider sent no usage; a malformed count (not a non-negative
//! integer, or parts larger than their whole) is an [`ErrorKind::InvalidArgument`] error.
//!
//! [`ErrorKind::InvalidArgument`]: crate::ErrorKind::InvalidArgument

use serde_json::{Map, Value};

use super::usage::Usage;
use crate::error::{Error, Result};

/// Normalizes `raw` by the rules of `provider` (`openai`, `anthropic`, `google`, `ollama`);
/// any other provider is read as OpenAI-compatible ([`openai_usage`]), which also reads the
/// normalized form written by [`usage_json`](super::usage_json).
pub fn normalize_usage(provider: &str, raw: &Value) -> Result<Option<Usage>> {
    match provider {
        "anthropic" => anthropic_usage(raw),
        "google" | "gemini" => google_usage(raw),
        "ollama" => ollama_usage(raw),
        _ => openai_usage(raw),
    }
}

/// OpenAI. Chat completions: `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`,
/// `completion_tokens` INCLUDES `completion_tokens_details.reasoning_tokens`. The Responses API
/// form (`input_tokens` with `input_tokens_details.cached_tokens`, `output_tokens` with
/// `output_tokens_details.reasoning_tokens`, same inclusions) is read when `prompt_tokens` is
/// absent. The normalized keys (`cached_tokens` or `cached_read_tokens`,
/// `cache_write_5m_tokens`, `cache_write_1h_tokens`, `reasoning_tokens`) are read too.
pub fn openai_usage(raw: &Value) -> Result<Option<Usage>> {
    let Some(u) = container(raw, "usage")? else {
        return Ok(None);
    };
    let (prompt, completion, prompt_details, completion_details) =
        if u.contains_key("prompt_tokens") || u.contains_key("completion_tokens") {
            (
                "prompt_tokens",
                "completion_tokens",
                "prompt_tokens_details",
                "completion_tokens_details",
            )
        } else {
            (
                "input_tokens",
                "output_tokens",
                "input_tokens_details",
                "output_tokens_details",
            )
        };
    let prompt_tokens = count(u, &[prompt])?;
    let completion_tokens = count(u, &[completion])?;
    if prompt_tokens.is_none() && completion_tokens.is_none() {
        return Ok(None);
    }
    let first = |paths: &[&[&str]]| -> Result<u64> {
        for path in paths {
            if let Some(n) = count(u, path)? {
                return Ok(n);
            }
        }
        Ok(0)
    };
    checked(Usage {
        prompt_tokens,
        completion_tokens: completion_tokens.unwrap_or(0),
        cached_read_tokens: first(&[
            &[prompt_details, "cached_tokens"],
            &["cached_tokens"],
            &["cached_read_tokens"],
        ])?,
        cache_write_5m_tokens: first(&[&["cache_write_5m_tokens"]])?,
        cache_write_1h_tokens: first(&[&["cache_write_1h_tokens"]])?,
        reasoning_tokens: first(&[
            &[completion_details, "reasoning_tokens"],
            &["reasoning_tokens"],
        ])?,
    })
}

/// Anthropic messages: `input_tokens` EXCLUDES `cache_read_input_tokens` and
/// `cache_creation_input_tokens`, so the prompt is their sum. Cache writes are split by
/// `cache_creation.ephemeral_1h_input_tokens` (the rest are 5-minute writes); without the
/// split every write is a 5-minute write. Thinking tokens are part of `output_tokens` and not
/// reported apart.
pub fn anthropic_usage(raw: &Value) -> Result<Option<Usage>> {
    let Some(u) = container(raw, "usage")? else {
        return Ok(None);
    };
    let input = count(u, &["input_tokens"])?;
    let output = count(u, &["output_tokens"])?;
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    let reads = count(u, &["cache_read_input_tokens"])?.unwrap_or(0);
    let split_5m = count(u, &["cache_creation", "ephemeral_5m_input_tokens"])?.unwrap_or(0);
    let split_1h = count(u, &["cache_creation", "ephemeral_1h_input_tokens"])?.unwrap_or(0);
    let writes = match count(u, &["cache_creation_input_tokens"])? {
        Some(total) => total,
        None => add(split_5m, split_1h)?,
    };
    let writes_1h = split_1h.min(writes);
    let prompt = add(add(input.unwrap_or(0), reads)?, writes)?;
    checked(Usage {
        prompt_tokens: Some(prompt),
        completion_tokens: output.unwrap_or(0),
        cached_read_tokens: reads,
        cache_write_5m_tokens: writes - writes_1h,
        cache_write_1h_tokens: writes_1h,
        reasoning_tokens: 0,
    })
}

/// Google Gemini `usageMetadata`: `promptTokenCount` INCLUDES `cachedContentTokenCount`;
/// `toolUsePromptTokenCount` (tool-use prompts) is reported apart and added to the prompt;
/// `candidatesTokenCount` EXCLUDES `thoughtsTokenCount`, which is billed as output, so the
/// completion is their sum. Gemini omits zero counts, so an absent count is 0.
pub fn google_usage(raw: &Value) -> Result<Option<Usage>> {
    let Some(u) = container(raw, "usageMetadata")? else {
        return Ok(None);
    };
    let keys = [
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "totalTokenCount",
    ];
    if keys.iter().all(|k| u.get(*k).is_none_or(Value::is_null)) {
        return Ok(None);
    }
    let get = |k: &str| count(u, &[k]).map(|n| n.unwrap_or(0));
    let thoughts = get("thoughtsTokenCount")?;
    checked(Usage {
        prompt_tokens: Some(add(
            get("promptTokenCount")?,
            get("toolUsePromptTokenCount")?,
        )?),
        completion_tokens: add(get("candidatesTokenCount")?, thoughts)?,
        cached_read_tokens: get("cachedContentTokenCount")?,
        cache_write_5m_tokens: 0,
        cache_write_1h_tokens: 0,
        reasoning_tokens: thoughts,
    })
}

/// Ollama (`/api/chat`, `/api/generate` final response): `prompt_eval_count` input tokens,
/// `eval_count` output tokens. Ollama omits `prompt_eval_count` when the prompt was served
/// from its cache: the prompt count is then unknown (`None`), never a silent zero.
pub fn ollama_usage(raw: &Value) -> Result<Option<Usage>> {
    let Some(u) = container(raw, "usage")? else {
        return Ok(None);
    };
    let prompt = count(u, &["prompt_eval_count"])?;
    let eval = count(u, &["eval_count"])?;
    if prompt.is_none() && eval.is_none() {
        return Ok(None);
    }
    checked(Usage {
        prompt_tokens: prompt,
        completion_tokens: eval.unwrap_or(0),
        ..Usage::default()
    })
}

/// The usage object: `raw[key]` when `raw` holds one, else `raw` itself; `None` for `null`.
fn container<'a>(raw: &'a Value, key: &str) -> Result<Option<&'a Map<String, Value>>> {
    let inner = match raw.get(key) {
        Some(Value::Null) => return Ok(None),
        Some(v @ Value::Object(_)) => v,
        _ => raw,
    };
    match inner {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(Error::invalid_argument(format!(
            "usage must be a JSON object, got {other}"
        ))),
    }
}

/// The count at `path`: `None` when absent or `null`, an error when not a non-negative integer.
fn count(obj: &Map<String, Value>, path: &[&str]) -> Result<Option<u64>> {
    let mut current = obj;
    for (i, key) in path.iter().enumerate() {
        let value = match current.get(*key) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        if i + 1 == path.len() {
            return value.as_u64().map(Some).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "usage: `{}` must be a non-negative integer, got {value}",
                    path.join(".")
                ))
            });
        }
        current = match value {
            Value::Object(map) => map,
            _ => return Ok(None),
        };
    }
    Ok(None)
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| Error::invalid_argument("usage: token counts overflow"))
}

fn checked(usage: Usage) -> Result<Option<Usage>> {
    usage.validate()?;
    Ok(Some(usage))
}

//! The offline mock: a request with `mock_response` calls no provider. Its answer is the
//! `mock_response` text with finish reason `stop`, and its usage is either the request's
//! `mock_usage` (validated) or a local estimate. Either way the usage is in **OpenAI's
//! shape** (`prompt_tokens` includes cached tokens; `prompt_tokens_details.cached_tokens`,
//! `completion_tokens_details.reasoning_tokens` when given), whatever provider the resolved
//! model belongs to, so the client prices it with the OpenAI usage rules.
//!
//! The estimator is deterministic and deliberately simple (no tokenizer tables):
//! - a text counts `ceil(chars / 4)` tokens ([`CHARS_PER_TOKEN`], Unicode scalar values), so
//!   any non-empty text is at least 1 token;
//! - each message (and the `system` prompt, counted as a message) adds
//!   [`TOKENS_PER_MESSAGE`]; its content counts as text (text parts as text, every other part
//!   [`TOKENS_PER_NON_TEXT_PART`]); assistant tool calls count their name and arguments;
//! - the `tools` definitions and a `json_schema` count as their JSON text;
//! - the prompt gets [`REPLY_PRIMING_TOKENS`] more (the tokens that start the reply);
//! - the completion counts the `mock_response` text only (0 for an empty answer).

use serde_json::{Map, Value, json};

use crate::chat::{ChatRequest, ChatResponse, Content, ResponseFormat, finish_reason};
use crate::error::{Error, Result};

/// Characters per token in the estimate.
pub const CHARS_PER_TOKEN: u64 = 4;
/// Tokens every message adds for its framing (role and separators).
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Tokens added once to the prompt for the start of the reply.
pub const REPLY_PRIMING_TOKENS: u64 = 3;
/// Tokens for a content part that is not text (an image, a document, ...).
pub const TOKENS_PER_NON_TEXT_PART: u64 = 85;

/// Estimated tokens of a text: `ceil(chars / 4)`.
pub fn estimate_text_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(CHARS_PER_TOKEN)
}

fn content_tokens(content: &Content) -> u64 {
    match content {
        Content::Text(s) => estimate_text_tokens(s),
        Content::Parts(parts) => parts
            .iter()
            .map(|p| {
                if p.get("type").and_then(Value::as_str) == Some("text") {
                    estimate_text_tokens(p.get("text").and_then(Value::as_str).unwrap_or(""))
                } else {
                    TOKENS_PER_NON_TEXT_PART
                }
            })
            .sum(),
    }
}

/// Estimated prompt tokens of a request (see the module documentation).
pub fn estimate_prompt_tokens(req: &ChatRequest) -> u64 {
    let mut total = REPLY_PRIMING_TOKENS;
    if let Some(s) = &req.system {
        total += TOKENS_PER_MESSAGE + estimate_text_tokens(s);
    }
    for m in &req.messages {
        total += TOKENS_PER_MESSAGE;
        if let Some(c) = &m.content {
            total += content_tokens(c);
        }
        for call in m.tool_calls.iter().flatten() {
            total += estimate_text_tokens(&call.function.name)
                + estimate_text_tokens(&call.function.arguments);
        }
    }
    if let Some(tools) = &req.tools {
        if !tools.is_empty() {
            let text = serde_json::to_string(tools).expect("tools serialize");
            total += estimate_text_tokens(&text);
        }
    }
    if let Some(ResponseFormat::JsonSchema { json_schema }) = &req.response_format {
        let text = serde_json::to_string(json_schema).expect("schema serializes");
        total += estimate_text_tokens(&text);
    }
    total
}

/// Estimated completion tokens of an answer.
pub fn estimate_completion_tokens(answer: &str) -> u64 {
    estimate_text_tokens(answer)
}

/// OpenAI-shaped usage from a request's `mock_usage`. Accepted keys: `prompt_tokens` and
/// `completion_tokens` (required), `total_tokens` (must be their sum), and either flat
/// `cached_tokens` / `reasoning_tokens` or OpenAI's `prompt_tokens_details.cached_tokens` /
/// `completion_tokens_details.reasoning_tokens` (cached ≤ prompt, reasoning ≤ completion).
/// All counts are non-negative integers. Errors are `LLMRING_INVALID_ARGUMENT`.
pub fn usage_from_mock_usage(mock_usage: &Value) -> Result<Value> {
    let bad = |msg: String| Error::invalid_argument(format!("chat request: `mock_usage`{msg}"));
    let obj = mock_usage
        .as_object()
        .ok_or_else(|| bad(" must be a JSON object".into()))?;
    const KEYS: [&str; 7] = [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    ];
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            ": unknown field `{k}`, expected one of {}",
            KEYS.map(|k| format!("`{k}`")).join(", ")
        )));
    }
    let count = |o: &Map<String, Value>, key: &str, path: &str| -> Result<Option<u64>> {
        match o.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(format!(".{path} must be a non-negative integer, got {v}"))),
        }
    };
    let detail = |outer: &str, inner: &str| -> Result<Option<u64>> {
        match obj.get(outer) {
            None => Ok(None),
            Some(Value::Object(d)) => {
                if let Some(k) = d.keys().find(|k| k.as_str() != inner) {
                    return Err(bad(format!(
                        ".{outer}: unknown field `{k}`, expected `{inner}`"
                    )));
                }
                count(d, inner, &format!("{outer}.{inner}"))
            }
            Some(_) => Err(bad(format!(".{outer} must be a JSON object"))),
        }
    };
    let prompt = count(obj, "prompt_tokens", "prompt_tokens")?
        .ok_or_else(|| bad(": missing field `prompt_tokens`".into()))?;
    let completion = count(obj, "completion_tokens", "completion_tokens")?
        .ok_or_else(|| bad(": missing field `completion_tokens`".into()))?;
    let either = |flat: &str, outer: &str| -> Result<Option<u64>> {
        let a = count(obj, flat, flat)?;
        let b = detail(outer, flat)?;
        if a.is_some() && b.is_some() {
            return Err(bad(format!(
                ": give `{flat}` or `{outer}.{flat}`, not both"
            )));
        }
        Ok(a.or(b))
    };
    let cached = either("cached_tokens", "prompt_tokens_details")?;
    let reasoning = either("reasoning_tokens", "completion_tokens_details")?;
    let total = prompt
        .checked_add(completion)
        .ok_or_else(|| bad(": token counts overflow".into()))?;
    if let Some(t) = count(obj, "total_tokens", "total_tokens")? {
        if t != total {
            return Err(bad(format!(
                ".total_tokens ({t}) must equal prompt_tokens + completion_tokens ({total})"
            )));
        }
    }
    if cached.is_some_and(|c| c > prompt) {
        return Err(bad(
            " cached tokens must not exceed prompt_tokens (which include them)".into(),
        ));
    }
    if reasoning.is_some_and(|r| r > completion) {
        return Err(bad(
            " reasoning tokens must not exceed completion_tokens (which include them)".into(),
        ));
    }
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
    });
    if let Some(c) = cached {
        usage["prompt_tokens_details"] = json!({"cached_tokens": c});
    }
    if let Some(r) = reasoning {
        usage["completion_tokens_details"] = json!({"reasoning_tokens": r});
    }
    Ok(usage)
}

/// The mock's answer to a request with `mock_response`: the text, finish reason `stop`, no
/// tool calls, and OpenAI-shaped usage (from `mock_usage`, else estimated). A request without
/// `mock_response` is an `LLMRING_INVALID_ARGUMENT` error.
pub fn reply(req: &ChatRequest) -> Result<ChatResponse> {
    let answer = req
        .mock_response
        .as_ref()
        .ok_or_else(|| Error::invalid_argument("the mock needs `mock_response` in the request"))?;
    let usage = match &req.mock_usage {
        Some(u) => usage_from_mock_usage(u)?,
        None => {
            let prompt = estimate_prompt_tokens(req);
            let completion = estimate_completion_tokens(answer);
            json!({
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            })
        }
    };
    Ok(ChatResponse {
        content: answer.clone(),
        finish_reason: Some(finish_reason::STOP.to_owned()),
        tool_calls: Vec::new(),
        usage: Some(usage),
    })
}

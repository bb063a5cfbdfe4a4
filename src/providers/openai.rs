//! OpenAI chat completions: `POST {base}/chat/completions`, `Authorization: Bearer KEY`.
//!
//! The request vocabulary is OpenAI's, so the mapping is mostly pass-through:
//! - `system` becomes a first `{"role":"system"}` message; system messages inside `messages`
//!   stay where they are.
//! - messages keep `content` (string or parts), `tool_calls` (assistant), `tool_call_id`
//!   (tool) and `name` (not on tool messages, whose API shape has no `name`).
//! - `temperature`, `response_format`, `tools` and `tool_choice` pass through.
//! - `max_tokens`: OpenAI deprecated it for `max_completion_tokens`, and its reasoning models
//!   (o1, o3, o4 families, gpt-5 family) reject `max_tokens`. Many OpenAI-compatible servers
//!   (the reason base URLs are configurable) only know `max_tokens`. So the field is
//!   `max_completion_tokens` for models named `o1*`, `o3*`, `o4*`, `gpt-5*` (also after a
//!   `ft:` prefix) and `max_tokens` for every other model ([`uses_max_completion_tokens`]).
//! - `profile`, `metadata` and the mock fields are llmring's and are not sent.
//!
//! Parsing reads `choices[0].message` (`content` string, null, or text parts; `refusal` when
//! there is no content; `tool_calls`), `choices[0].finish_reason` (`function_call` becomes
//! `tool_calls`, other values pass as sent) and `usage` untouched (with
//! `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`, ...).

use serde_json::{Map, Value, json};

use super::{
    Endpoint, HttpRequest, Provider, ProviderError, ProviderReply, SecretHeader, SecretString,
    bad_response, code_field, parse_json_object, str_field,
};
use crate::chat::{ChatRequest, ChatResponse, Content, Role, ToolCall, finish_reason};
use crate::error::Result;

const P: Provider = Provider::OpenAi;

/// Whether `model` takes `max_completion_tokens` instead of `max_tokens` (see the module
/// documentation).
pub fn uses_max_completion_tokens(model: &str) -> bool {
    let m = model
        .strip_prefix("ft:")
        .unwrap_or(model)
        .to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p))
}

pub(super) fn build_request(
    req: &ChatRequest,
    model: &str,
    endpoint: &Endpoint,
) -> Result<HttpRequest> {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = &req.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &req.messages {
        let mut out = Map::new();
        out.insert("role".into(), m.role.as_str().into());
        if let Some(content) = &m.content {
            let c = match content {
                Content::Text(s) => Value::String(s.clone()),
                Content::Parts(parts) => Value::Array(parts.clone()),
            };
            out.insert("content".into(), c);
        }
        if let Some(calls) = &m.tool_calls {
            if !calls.is_empty() {
                out.insert(
                    "tool_calls".into(),
                    serde_json::to_value(calls).expect("tool calls serialize"),
                );
            }
        }
        if let Some(id) = &m.tool_call_id {
            out.insert("tool_call_id".into(), id.clone().into());
        }
        if let Some(name) = &m.name {
            if m.role != Role::Tool {
                out.insert("name".into(), name.clone().into());
            }
        }
        messages.push(Value::Object(out));
    }

    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        let key = if uses_max_completion_tokens(model) {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(key.into(), n.into());
    }
    if let Some(rf) = &req.response_format {
        body.insert(
            "response_format".into(),
            serde_json::to_value(rf).expect("response format serializes"),
        );
    }
    if let Some(tools) = &req.tools {
        body.insert(
            "tools".into(),
            serde_json::to_value(tools).expect("tools serialize"),
        );
    }
    if let Some(choice) = &req.tool_choice {
        body.insert("tool_choice".into(), choice.clone());
    }

    let mut http = HttpRequest::post(endpoint.url("chat/completions"), Value::Object(body));
    if let Some(key) = &endpoint.api_key {
        http.auth = Some(SecretHeader {
            name: "authorization".into(),
            value: SecretString::new(format!("Bearer {}", key.expose())),
        });
    }
    Ok(http)
}

pub(super) fn parse_response(body: &[u8]) -> Result<ProviderReply> {
    let obj = parse_json_object(P, body)?;
    let root = Value::Object(obj);
    if root.get("choices").is_none() {
        if let Some(err) = root.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| err.as_str())
                .unwrap_or("(no message)");
            return Err(bad_response(
                P,
                format!("error object in a success response: {msg}"),
            ));
        }
    }
    let choice = match root.get("choices") {
        Some(Value::Array(choices)) => choices
            .first()
            .ok_or_else(|| bad_response(P, "`choices` is empty"))?,
        Some(_) => return Err(bad_response(P, "`choices` is not an array")),
        None => return Err(bad_response(P, "no `choices`")),
    };
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| bad_response(P, "`choices[0].message` is missing"))?;

    let mut content = match message.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => Content::Parts(parts.clone()).text(),
        Some(_) => {
            return Err(bad_response(
                P,
                "`choices[0].message.content` is not a string",
            ));
        }
    };
    if content.is_empty() {
        if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
            content = refusal.to_owned();
        }
    }

    let mut tool_calls = Vec::new();
    match message.get("tool_calls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(calls)) => {
            for (i, call) in calls.iter().enumerate() {
                tool_calls.push(parse_tool_call(i, call)?);
            }
        }
        Some(_) => {
            return Err(bad_response(
                P,
                "`choices[0].message.tool_calls` is not an array",
            ));
        }
    }

    let finish = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(|r| match r {
            "function_call" => finish_reason::TOOL_CALLS.to_owned(),
            other => other.to_owned(),
        });

    Ok(ProviderReply {
        response: ChatResponse {
            content,
            finish_reason: finish,
            tool_calls,
            usage: root.get("usage").filter(|u| !u.is_null()).cloned(),
        },
        model: str_field(&root, "model"),
        id: str_field(&root, "id"),
    })
}

fn parse_tool_call(i: usize, call: &Value) -> Result<ToolCall> {
    let f = call
        .get("function")
        .ok_or_else(|| bad_response(P, format!("tool_calls[{i}] has no `function`")))?;
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_response(P, format!("tool_calls[{i}].function has no `name`")))?;
    let arguments = match f.get("arguments") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".to_owned(),
        // Some compatible servers send the arguments as an object.
        Some(other) => other.to_string(),
    };
    Ok(ToolCall::function(
        str_field(call, "id").unwrap_or_default(),
        name,
        arguments,
    ))
}

pub(super) fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    let fields = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let e = v.get("error")?;
        if !e.is_object() {
            return None;
        }
        Some((
            str_field(e, "message"),
            str_field(e, "type"),
            code_field(e, "code"),
        ))
    });
    ProviderError::from_parts(P, status, body, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_completion_tokens_models() {
        for m in [
            "o1",
            "o1-mini",
            "o3-2025-04-16",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "ft:o4-mini:org::x",
        ] {
            assert!(uses_max_completion_tokens(m), "{m}");
        }
        for m in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-3.5-turbo",
            "llama3",
            "omni-moderation",
        ] {
            assert!(!uses_max_completion_tokens(m), "{m}");
        }
    }
}

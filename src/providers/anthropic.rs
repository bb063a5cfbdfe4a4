//! Anthropic messages: `POST {base}/v1/messages` with `x-api-key: KEY`,
//! `anthropic-version: 2023-06-01` and `content-type: application/json`.
//!
//! Request mapping from the OpenAI-shaped [`ChatRequest`]:
//! - System prompts go to the top-level `system` field: `system` first, then every system
//!   message of `messages` in order, joined by a blank line. When any of them has content
//!   parts, `system` is an array of text blocks instead (so `cache_control` on a text part
//!   survives); non-text system parts are an error.
//! - `max_tokens` is required by Anthropic; without one in the request, [`DEFAULT_MAX_TOKENS`]
//!   (4096, the largest output every Claude model since Claude 3 accepts) is sent.
//! - `temperature` passes; Anthropic accepts 0 to 1, so a higher value is an
//!   `LLMRING_INVALID_ARGUMENT` error here rather than a silent clamp or a 400 later.
//! - Message `name`s have no Anthropic equivalent and are not sent.
//! - Content parts: `text` parts pass as they are; OpenAI `image_url` parts become `image`
//!   blocks (`data:` URLs → base64 source, other URLs → url source); any other part (already
//!   in Anthropic's shape: `image`, `document`, ...) passes unchanged.
//! - Assistant `tool_calls` become `tool_use` blocks after the text (arguments parsed from
//!   their JSON string; an empty string is `{}`); tool messages become `tool_result` blocks in
//!   a user message; consecutive tool results (and a user message right after them) share one
//!   user message, as Anthropic requires the results of one turn together.
//! - Tools: `{"type":"function","function":{name,description,parameters}}` →
//!   `{name, description, input_schema}` (`input_schema` defaults to an empty object schema;
//!   `strict` is dropped). `tool_choice`: `auto` → `{"type":"auto"}`, `none` →
//!   `{"type":"none"}`, `required` → `{"type":"any"}`, a named function →
//!   `{"type":"tool","name":..}`.
//! - JSON mode (Anthropic has no `response_format`):
//!   - `json_schema` with an object schema and no `tools`: a forced tool named
//!     [`JSON_TOOL_NAME`] whose `input_schema` is the schema, with `tool_choice` forcing it.
//!     The model's tool input is the answer: [`parse_response`](super::Provider::parse_response)
//!     turns that `tool_use` block back into `content` (JSON text) and reports finish reason
//!     `stop`, so callers see plain JSON content as with OpenAI. The name is reserved.
//!   - `json_object`, or `json_schema` together with tools (a forced tool would stop the
//!     model from using them) or with a non-object schema: an instruction appended to the
//!     system prompt ([`JSON_OBJECT_INSTRUCTION`], plus the schema when there is one).
//!     This is best effort: the model is asked, not constrained.
//!
//! Parsing: `text` blocks concatenated into `content`; `tool_use` blocks → OpenAI-shaped tool
//! calls (input serialized as the arguments string); thinking and server-tool blocks are
//! skipped; `stop_reason` end_turn/stop_sequence → `stop`, max_tokens → `length`, tool_use →
//! `tool_calls`, refusal → `content_filter`, others as sent; `usage` untouched
//! (`input_tokens`, `output_tokens`, `cache_read_input_tokens`,
//! `cache_creation_input_tokens`, `cache_creation.ephemeral_5m_input_tokens`, ...).

use serde_json::{Map, Value, json};

use super::{
    Endpoint, HttpRequest, Provider, ProviderError, ProviderReply, SecretHeader, bad_response,
    parse_json_object, str_field,
};
use crate::chat::{
    ChatRequest, ChatResponse, Content, ResponseFormat, Role, ToolCall, ToolChoice, finish_reason,
};
use crate::error::{Error, Result};

const P: Provider = Provider::Anthropic;

/// The `anthropic-version` header sent with every request.
pub const API_VERSION: &str = "2023-06-01";

/// `max_tokens` sent when the request has none (Anthropic requires the field).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The reserved name of the forced tool that carries JSON-schema answers.
pub const JSON_TOOL_NAME: &str = "llmring_json_response";

/// The system instruction for JSON mode without a forced tool.
pub const JSON_OBJECT_INSTRUCTION: &str = "Respond with a single valid JSON object and nothing else: \
     no text before or after it and no Markdown code fences.";

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("anthropic: {msg}")).with("provider", P.name())
}

pub(super) fn build_request(
    req: &ChatRequest,
    model: &str,
    endpoint: &Endpoint,
) -> Result<HttpRequest> {
    if let Some(t) = req.temperature {
        if t > 1.0 {
            return Err(invalid(format!(
                "temperature must be between 0 and 1, got {t}"
            )));
        }
    }
    let tools = req.tools.as_deref().unwrap_or_default();
    if tools.iter().any(|t| t.function.name == JSON_TOOL_NAME) {
        return Err(invalid(format!(
            "the tool name {JSON_TOOL_NAME:?} is reserved"
        )));
    }

    // JSON mode: a forced tool, or a system instruction.
    let mut json_tool: Option<Value> = None;
    let mut json_instruction: Option<String> = None;
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            json_instruction = Some(JSON_OBJECT_INSTRUCTION.to_owned())
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"}));
            let object_schema = schema.get("type").and_then(Value::as_str) == Some("object");
            if tools.is_empty() && object_schema {
                let mut description = format!("Return the answer as JSON ({}).", json_schema.name);
                if let Some(d) = &json_schema.description {
                    description = format!("{description} {d}");
                }
                json_tool = Some(json!({
                    "name": JSON_TOOL_NAME,
                    "description": description,
                    "input_schema": schema,
                }));
            } else {
                json_instruction = Some(format!(
                    "{JSON_OBJECT_INSTRUCTION} The JSON must conform to this JSON Schema: {schema}"
                ));
            }
        }
    }

    // System prompts.
    let mut system: Vec<Content> = Vec::new();
    if let Some(s) = &req.system {
        system.push(Content::Text(s.clone()));
    }
    for m in req.messages.iter().filter(|m| m.role == Role::System) {
        system.push(m.content.clone().unwrap_or(Content::Text(String::new())));
    }
    if let Some(i) = json_instruction {
        system.push(Content::Text(i));
    }
    let system_value = system_field(&system)?;

    // Messages.
    let mut messages: Vec<Value> = Vec::new();
    // True while the last pushed message is a user message holding tool results.
    let mut open_tool_results = false;
    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::System => {}
            Role::User => {
                let content = m.content.as_ref().map(convert_content).transpose()?;
                let content = content.unwrap_or(Value::String(String::new()));
                if open_tool_results {
                    let blocks = last_blocks(&mut messages);
                    match content {
                        Value::Array(parts) => blocks.extend(parts),
                        text => blocks.push(json!({"type": "text", "text": text})),
                    }
                    open_tool_results = false;
                } else {
                    messages.push(json!({"role": "user", "content": content}));
                }
            }
            Role::Assistant => {
                open_tool_results = false;
                let calls = m.tool_calls.as_deref().unwrap_or_default();
                let content = m.content.as_ref().map(convert_content).transpose()?;
                if calls.is_empty() {
                    messages
                        .push(json!({"role": "assistant", "content": content.unwrap_or_default()}));
                    continue;
                }
                let mut blocks = match content {
                    None => Vec::new(),
                    Some(Value::String(s)) if s.is_empty() => Vec::new(),
                    Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
                    Some(Value::Array(parts)) => parts,
                    Some(other) => vec![other],
                };
                for (j, call) in calls.iter().enumerate() {
                    let input = super::tool_call_arguments(call, i, j).map_err(invalid)?;
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.function.name,
                        "input": input,
                    }));
                }
                messages.push(json!({"role": "assistant", "content": blocks}));
            }
            Role::Tool => {
                let mut block = Map::new();
                block.insert("type".into(), "tool_result".into());
                block.insert(
                    "tool_use_id".into(),
                    m.tool_call_id.clone().unwrap_or_default().into(),
                );
                if let Some(c) = &m.content {
                    block.insert("content".into(), convert_content(c)?);
                }
                if open_tool_results {
                    last_blocks(&mut messages).push(Value::Object(block));
                } else {
                    messages.push(json!({"role": "user", "content": [Value::Object(block)]}));
                    open_tool_results = true;
                }
            }
        }
    }
    if messages.is_empty() {
        return Err(invalid(
            "the request needs at least one user or assistant message besides system messages",
        ));
    }

    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert(
        "max_tokens".into(),
        req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS).into(),
    );
    body.insert("messages".into(), Value::Array(messages));
    if let Some(s) = system_value {
        body.insert("system".into(), s);
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(tool) = json_tool {
        body.insert("tools".into(), json!([tool]));
        body.insert(
            "tool_choice".into(),
            json!({"type": "tool", "name": JSON_TOOL_NAME}),
        );
    } else {
        if !tools.is_empty() {
            let converted: Vec<Value> = tools
                .iter()
                .map(|t| {
                    let mut o = Map::new();
                    o.insert("name".into(), t.function.name.clone().into());
                    if let Some(d) = &t.function.description {
                        o.insert("description".into(), d.clone().into());
                    }
                    let schema = t
                        .function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
                    o.insert("input_schema".into(), schema);
                    Value::Object(o)
                })
                .collect();
            body.insert("tools".into(), Value::Array(converted));
        }
        if let Some(choice) = req.tool_choice() {
            let c = match choice {
                ToolChoice::Auto => json!({"type": "auto"}),
                ToolChoice::None => json!({"type": "none"}),
                ToolChoice::Required => json!({"type": "any"}),
                ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
            };
            body.insert("tool_choice".into(), c);
        }
    }

    let mut http = HttpRequest::post(endpoint.url("v1/messages"), Value::Object(body));
    http.headers
        .push(("anthropic-version".into(), API_VERSION.into()));
    if let Some(key) = &endpoint.api_key {
        http.auth = Some(SecretHeader {
            name: "x-api-key".into(),
            value: key.clone(),
        });
    }
    Ok(http)
}

/// The content array of the last message (which the caller knows holds an array).
fn last_blocks(messages: &mut [Value]) -> &mut Vec<Value> {
    messages
        .last_mut()
        .and_then(|m| m.get_mut("content"))
        .and_then(Value::as_array_mut)
        .expect("the last message holds content blocks")
}

/// The top-level `system` field: a string when every part is text, else text blocks.
fn system_field(system: &[Content]) -> Result<Option<Value>> {
    if system.is_empty() {
        return Ok(None);
    }
    if system.iter().all(|c| matches!(c, Content::Text(_))) {
        let texts: Vec<String> = system.iter().map(Content::text).collect();
        return Ok(Some(Value::String(texts.join("\n\n"))));
    }
    let mut blocks = Vec::new();
    for c in system {
        match c {
            Content::Text(s) => blocks.push(json!({"type": "text", "text": s})),
            Content::Parts(parts) => {
                for p in parts {
                    if p.get("type").and_then(Value::as_str) != Some("text") {
                        return Err(invalid("system content parts must be text parts"));
                    }
                    blocks.push(p.clone());
                }
            }
        }
    }
    Ok(Some(Value::Array(blocks)))
}

/// Message content in Anthropic's shape: a string stays a string; parts are converted.
fn convert_content(content: &Content) -> Result<Value> {
    match content {
        Content::Text(s) => Ok(Value::String(s.clone())),
        Content::Parts(parts) => parts
            .iter()
            .map(convert_part)
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
    }
}

fn convert_part(part: &Value) -> Result<Value> {
    if part.get("type").and_then(Value::as_str) != Some("image_url") {
        return Ok(part.clone());
    }
    let url = match part.get("image_url") {
        Some(Value::String(u)) => u.as_str(),
        Some(obj) => obj
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("an image_url part needs `image_url.url`"))?,
        None => return Err(invalid("an image_url part needs `image_url.url`")),
    };
    if let Some(rest) = url.strip_prefix("data:") {
        let (media_type, data) = rest
            .split_once(";base64,")
            .ok_or_else(|| invalid("a data: image URL must be `data:MEDIA_TYPE;base64,DATA`"))?;
        return Ok(json!({
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }));
    }
    Ok(json!({"type": "image", "source": {"type": "url", "url": url}}))
}

pub(super) fn parse_response(body: &[u8]) -> Result<ProviderReply> {
    let obj = parse_json_object(P, body)?;
    let root = Value::Object(obj);
    if root.get("type").and_then(Value::as_str) == Some("error") {
        let msg = root
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("(no message)");
        return Err(bad_response(
            P,
            format!("error object in a success response: {msg}"),
        ));
    }
    let blocks = match root.get("content") {
        Some(Value::Array(blocks)) => blocks,
        Some(_) => return Err(bad_response(P, "`content` is not an array")),
        None => return Err(bad_response(P, "no `content`")),
    };

    let mut content = String::new();
    let mut tool_calls = Vec::new();
    let mut json_answer: Option<String> = None;
    for (i, block) in blocks.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = block.get("text").and_then(Value::as_str).ok_or_else(|| {
                    bad_response(P, format!("content[{i}] is a text block without `text`"))
                })?;
                content.push_str(text);
            }
            Some("tool_use") => {
                let name = block.get("name").and_then(Value::as_str).ok_or_else(|| {
                    bad_response(
                        P,
                        format!("content[{i}] is a tool_use block without `name`"),
                    )
                })?;
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                if name == JSON_TOOL_NAME {
                    json_answer = Some(input.to_string());
                } else {
                    tool_calls.push(ToolCall::function(
                        str_field(block, "id").unwrap_or_default(),
                        name,
                        input.to_string(),
                    ));
                }
            }
            // thinking, redacted_thinking, server tool blocks, ...: not part of the answer.
            _ => {}
        }
    }

    let stop = root.get("stop_reason").and_then(Value::as_str);
    let mut finish = stop.map(|r| {
        match r {
            "end_turn" | "stop_sequence" => finish_reason::STOP,
            "max_tokens" => finish_reason::LENGTH,
            "tool_use" => finish_reason::TOOL_CALLS,
            "refusal" => finish_reason::CONTENT_FILTER,
            other => other,
        }
        .to_owned()
    });
    if let Some(answer) = json_answer {
        content = answer;
        if stop == Some("tool_use") && tool_calls.is_empty() {
            finish = Some(finish_reason::STOP.to_owned());
        }
    }

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

pub(super) fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    let fields = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let e = v.get("error")?;
        if !e.is_object() {
            return None;
        }
        Some((str_field(e, "message"), str_field(e, "type"), None))
    });
    ProviderError::from_parts(P, status, body, fields)
}

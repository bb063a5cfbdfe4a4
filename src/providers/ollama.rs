//! Ollama chat: `POST {base}/api/chat` (default base `http://localhost:11434`), no API key
//! (one configured anyway is sent as `Authorization: Bearer KEY`, for Ollama behind an
//! authenticating proxy). The plain call sends `"stream": false`; the streaming call
//! (`"stream": true`) answers NDJSON (see [`super::stream`]).
//!
//! Request mapping from the OpenAI-shaped [`ChatRequest`]:
//! - `system` becomes a first `{"role":"system"}` message; system messages inside `messages`
//!   stay where they are.
//! - Messages keep `role` and `content` as a string (the text parts joined). Image parts with
//!   a `data:` URL go to the message's `images` array (base64, as Ollama wants them); other
//!   image URLs are an `LLMRING_INVALID_ARGUMENT` error (Ollama cannot fetch URLs); other
//!   non-text parts are dropped.
//! - Assistant `tool_calls` → `tool_calls: [{"function": {name, arguments}}]` with the
//!   arguments as a JSON object (parsed from the string; an empty string is `{}`).
//! - Tool messages → `{"role":"tool","content":..,"tool_name":..}`, the name taken from the
//!   message's `name` or from the earlier assistant call with that `tool_call_id` (left out
//!   when neither is known). Other message `name`s are dropped.
//! - `temperature` → `options.temperature`, `max_tokens` → `options.num_predict`.
//! - JSON mode: `json_object` → `format: "json"`; `json_schema` → `format: SCHEMA` (the schema
//!   passes unchanged; Ollama constrains the output to it), or `"json"` without a schema.
//! - `tools` pass in the OpenAI function-tool shape (`strict` dropped). Ollama has no
//!   `tool_choice`: `none` sends no tools, a named function sends only that tool, `auto` and
//!   `required` send all (`required` cannot be enforced).
//!
//! Parsing reads `message.content`, `message.tool_calls` (arguments are objects in Ollama;
//! they become compact JSON strings; ids are Ollama's when it sends one, else
//! [`tool_call_id`]) and `done_reason`: `stop` → `stop` (`tool_calls` when the answer has tool
//! calls), `length` → `length`, others as sent. `message.thinking` is not part of the answer.
//!
//! Usage: Ollama reports its counts at the top level of the final message. The reply's `usage`
//! is a new object holding exactly the counts Ollama sent: `prompt_eval_count` and
//! `eval_count`, each only when present (see [`usage_from`]). Ollama omits
//! `prompt_eval_count` when the whole prompt came from its cache; it then stays absent, so
//! [`ollama_usage`](crate::cost::ollama_usage) reports the prompt count as unknown instead of
//! a wrong zero. With neither count, `usage` is `None`. `model` is the response's `model`;
//! Ollama responses have no id.
//!
//! Errors: `{"error": "message"}`.

use serde_json::{Map, Value, json};

use super::{
    Endpoint, HttpRequest, Provider, ProviderError, ProviderReply, SecretHeader, SecretString,
    bad_response, parse_json_object, str_field,
};
use crate::chat::{
    ChatRequest, ChatResponse, Content, ResponseFormat, Role, ToolCall, ToolChoice, finish_reason,
};
use crate::error::{Error, Result};

const P: Provider = Provider::Ollama;

/// The usage counts copied from a final Ollama message.
pub const USAGE_KEYS: [&str; 2] = ["prompt_eval_count", "eval_count"];

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("ollama: {msg}")).with("provider", P.name())
}

/// The id given to the `index`-th tool call of an answer when Ollama sends none: `call_{index}`.
pub fn tool_call_id(index: usize) -> String {
    format!("call_{index}")
}

/// The normalized finish reason for Ollama's `done_reason`.
pub fn map_finish_reason(reason: &str, has_tool_calls: bool) -> String {
    match reason {
        "stop" if has_tool_calls => finish_reason::TOOL_CALLS.to_owned(),
        other => other.to_owned(),
    }
}

/// The `usage` object for a final Ollama message: `{"prompt_eval_count", "eval_count"}` with
/// only the counts present (non-null) in `message`; `None` when neither is.
pub fn usage_from(message: &Value) -> Option<Value> {
    let mut u = Map::new();
    for k in USAGE_KEYS {
        if let Some(v) = message.get(k).filter(|v| !v.is_null()) {
            u.insert(k.to_owned(), v.clone());
        }
    }
    (!u.is_empty()).then_some(Value::Object(u))
}

pub(super) fn build_request(
    req: &ChatRequest,
    model: &str,
    endpoint: &Endpoint,
    stream: bool,
) -> Result<HttpRequest> {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = &req.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for (i, m) in req.messages.iter().enumerate() {
        let mut out = Map::new();
        out.insert("role".into(), m.role.as_str().into());
        out.insert("content".into(), m.text_content().into());
        if let Some(Content::Parts(parts)) = &m.content {
            let images = images(parts)?;
            if !images.is_empty() {
                out.insert("images".into(), Value::Array(images));
            }
        }
        let calls = m.tool_calls.as_deref().unwrap_or_default();
        if !calls.is_empty() {
            let mut converted = Vec::with_capacity(calls.len());
            for (j, call) in calls.iter().enumerate() {
                let args = super::tool_call_arguments(call, i, j).map_err(invalid)?;
                converted.push(json!({
                    "function": {"name": call.function.name, "arguments": args}
                }));
            }
            out.insert("tool_calls".into(), Value::Array(converted));
        }
        if m.role == Role::Tool {
            let name = m.name.clone().filter(|n| !n.is_empty()).or_else(|| {
                let id = m.tool_call_id.as_deref()?;
                req.messages[..i]
                    .iter()
                    .rev()
                    .flat_map(|p| p.tool_calls.iter().flatten())
                    .find(|c| c.id == id)
                    .map(|c| c.function.name.clone())
            });
            if let Some(name) = name {
                out.insert("tool_name".into(), name.into());
            }
        }
        messages.push(Value::Object(out));
    }

    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), stream.into());

    let tools = req.tools.as_deref().unwrap_or_default();
    let tools: Vec<Value> = match req.tool_choice() {
        Some(ToolChoice::None) => Vec::new(),
        Some(ToolChoice::Function(name)) => tools
            .iter()
            .filter(|t| t.function.name == name)
            .map(tool_value)
            .collect(),
        _ => tools.iter().map(tool_value).collect(),
    };
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }

    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            body.insert("format".into(), "json".into());
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let format = json_schema.schema.clone().unwrap_or_else(|| "json".into());
            body.insert("format".into(), format);
        }
    }

    let mut options = Map::new();
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        options.insert("num_predict".into(), n.into());
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }

    let mut http = HttpRequest::post(endpoint.url("api/chat"), Value::Object(body));
    if stream {
        http.headers
            .push(("accept".into(), "application/x-ndjson".into()));
    }
    if let Some(key) = endpoint.api_key.as_ref().filter(|k| !k.expose().is_empty()) {
        http.auth = Some(SecretHeader {
            name: "authorization".into(),
            value: SecretString::new(format!("Bearer {}", key.expose())),
        });
    }
    Ok(http)
}

fn tool_value(t: &crate::chat::Tool) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), t.function.name.clone().into());
    if let Some(d) = &t.function.description {
        f.insert("description".into(), d.clone().into());
    }
    if let Some(p) = &t.function.parameters {
        f.insert("parameters".into(), p.clone());
    }
    json!({"type": "function", "function": f})
}

/// The base64 data of the `data:` image parts; other image URLs are an error.
fn images(parts: &[Value]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for p in parts {
        if p.get("type").and_then(Value::as_str) != Some("image_url") {
            continue;
        }
        let url = match p.get("image_url") {
            Some(Value::String(u)) => Some(u.as_str()),
            Some(obj) => obj.get("url").and_then(Value::as_str),
            None => None,
        }
        .ok_or_else(|| invalid("an image_url part needs `image_url.url`"))?;
        let data = url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
            .map(|(_, data)| data)
            .ok_or_else(|| {
                invalid("Ollama takes images inline only: use a `data:MEDIA_TYPE;base64,DATA` URL")
            })?;
        out.push(data.into());
    }
    Ok(out)
}

pub(super) fn parse_response(body: &[u8]) -> Result<ProviderReply> {
    let obj = parse_json_object(P, body)?;
    let root = Value::Object(obj);
    if let Some(err) = root.get("error").and_then(Value::as_str) {
        return Err(bad_response(
            P,
            format!("error object in a success response: {err}"),
        ));
    }
    let message = root
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| bad_response(P, "no `message`"))?;
    let mut content = String::new();
    let mut tool_calls = Vec::new();
    read_message(message, &mut content, &mut tool_calls)?;
    let finish = root
        .get("done_reason")
        .and_then(Value::as_str)
        .map(|r| map_finish_reason(r, !tool_calls.is_empty()));
    Ok(ProviderReply {
        response: ChatResponse {
            content,
            finish_reason: finish,
            tool_calls,
            usage: usage_from(&root),
        },
        model: str_field(&root, "model"),
        id: None,
    })
}

/// Appends a message's content and tool calls (ids numbered after the calls already there).
/// Used by the streaming parser too.
pub(super) fn read_message(
    message: &Value,
    content: &mut String,
    tool_calls: &mut Vec<ToolCall>,
) -> Result<()> {
    match message.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => content.push_str(s),
        Some(_) => return Err(bad_response(P, "`message.content` is not a string")),
    }
    match message.get("tool_calls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(calls)) => {
            for (i, call) in calls.iter().enumerate() {
                let f = call.get("function").ok_or_else(|| {
                    bad_response(P, format!("message.tool_calls[{i}] has no `function`"))
                })?;
                let name = f.get("name").and_then(Value::as_str).ok_or_else(|| {
                    bad_response(P, format!("message.tool_calls[{i}].function has no `name`"))
                })?;
                let arguments = match f.get("arguments") {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                let id = str_field(call, "id")
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| tool_call_id(tool_calls.len()));
                tool_calls.push(ToolCall::function(id, name, arguments));
            }
        }
        Some(_) => return Err(bad_response(P, "`message.tool_calls` is not an array")),
    }
    Ok(())
}

pub(super) fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    let fields = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| match v.get("error")? {
            Value::String(s) => Some((Some(s.clone()), None, None)),
            e @ Value::Object(_) => Some((str_field(e, "message"), str_field(e, "type"), None)),
            _ => None,
        });
    ProviderError::from_parts(P, status, body, fields)
}

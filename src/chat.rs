//! Chat request and response types shared by the client and the providers.
//!
//! A [`ChatRequest`] is what a host passes to `llmring_chat` as JSON. It is read strictly
//! ([`ChatRequest::from_json`]): duplicate keys and unknown fields are errors that name the
//! field, and [`ChatRequest::validate`] checks the values. The request speaks the OpenAI chat
//! completions vocabulary (roles, content parts, function tools, `tool_calls`); each provider
//! module maps it to its own API.
//!
//! A [`ChatResponse`] is what every provider (and the offline mock) gives back: the text, a
//! normalized finish reason, OpenAI-shaped tool calls and the provider's raw `usage` JSON,
//! untouched (the cost module interprets it).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Finish reasons every provider's value is normalized to, when it has an equivalent.
pub mod finish_reason {
    /// The model finished its answer (or hit a stop sequence).
    pub const STOP: &str = "stop";
    /// The answer was cut at `max_tokens`.
    pub const LENGTH: &str = "length";
    /// The model asked for tool calls.
    pub const TOOL_CALLS: &str = "tool_calls";
    /// The provider withheld or stopped the answer for safety reasons.
    pub const CONTENT_FILTER: &str = "content_filter";
}

/// A chat request as read from the host's JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// An alias ("fast") or a `provider:model` reference; resolved by the client.
    pub model: String,
    /// The conversation, oldest first. Never empty.
    pub messages: Vec<Message>,
    /// A system prompt placed before all messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Sampling temperature, 0 to 2 (Anthropic accepts 0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Upper bound on generated tokens, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Plain text, JSON mode, or a JSON schema the answer must follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Function tools the model may call (OpenAI shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type":"function","function":{"name":N}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// The lockfile profile to resolve the alias in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Free JSON the host attaches to the call (not sent to providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// When present, no provider is called: this text is the answer (offline mock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_response: Option<String>,
    /// Token counts for the mock answer instead of the local estimate (see
    /// [`crate::providers::mock`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_usage: Option<Value>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub role: Role,
    /// Text or content parts; may be absent (or null) on an assistant message with tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Tool calls the assistant made (assistant messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call this message answers (tool messages only, required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// A participant name, or on tool messages the name of the tool that ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    /// A message with text content.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: Some(Content::Text(text.into())),
            tool_calls: None,
            tool_call_id: None,
            name: None,
        }
    }

    /// The text of the message: the string, or its text parts joined (other parts skipped).
    pub fn text_content(&self) -> String {
        self.content.as_ref().map(Content::text).unwrap_or_default()
    }
}

/// Message content: a string, or an array of content parts kept as JSON and passed through
/// (`{"type":"text","text":..}`, `{"type":"image_url","image_url":{"url":..}}`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Value>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Content::Text(s)),
            Value::Array(parts) => Ok(Content::Parts(parts)),
            other => Err(serde::de::Error::custom(format!(
                "`content` must be a string or an array of content parts, got {other}"
            ))),
        }
    }
}

impl Content {
    /// The text: the string, or the `text` of every `{"type":"text"}` part, concatenated.
    pub fn text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
        }
    }
}

/// A tool call, in OpenAI's shape: `{"id","type":"function","function":{"name","arguments"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    pub id: String,
    /// Always `"function"`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_owned()
}

impl ToolCall {
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// The function a tool call invokes; `arguments` is a JSON text (a string, as OpenAI sends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

/// A tool the model may call, in OpenAI's function-tool shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionDef,
}

/// A function tool's definition: `parameters` is a JSON Schema object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// OpenAI's strict schema adherence flag (passed to OpenAI, dropped for Anthropic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// The answer's format, in OpenAI's `response_format` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    try_from = "RawResponseFormat"
)]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON following a schema.
    JsonSchema { json_schema: JsonSchemaFormat },
}

/// The wire shape of `response_format`, read strictly (serde's internally tagged enums do not
/// reject unknown fields on unit variants).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponseFormat {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    json_schema: Option<JsonSchemaFormat>,
}

impl TryFrom<RawResponseFormat> for ResponseFormat {
    type Error = String;

    fn try_from(raw: RawResponseFormat) -> std::result::Result<Self, String> {
        match (raw.kind.as_str(), raw.json_schema) {
            ("text", None) => Ok(ResponseFormat::Text),
            ("json_object", None) => Ok(ResponseFormat::JsonObject),
            ("json_schema", Some(json_schema)) => Ok(ResponseFormat::JsonSchema { json_schema }),
            ("json_schema", None) => {
                Err("`response_format` of type json_schema needs `json_schema`".into())
            }
            ("text" | "json_object", Some(_)) => {
                Err("`response_format.json_schema` is only allowed with type json_schema".into())
            }
            (other, _) => Err(format!(
                "`response_format.type` must be text, json_object or json_schema, got {other:?}"
            )),
        }
    }
}

/// `response_format.json_schema`: a named JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// What a provider (or the mock) answered, before costs and receipts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer's text (empty when the model only called tools).
    pub content: String,
    /// Normalized ([`finish_reason`]) or the provider's raw value; `None` when the provider
    /// sent none.
    pub finish_reason: Option<String>,
    /// Tool calls in OpenAI's shape.
    pub tool_calls: Vec<ToolCall>,
    /// The provider's `usage` JSON exactly as sent; `None` when it sent none.
    pub usage: Option<Value>,
}

impl ChatRequest {
    /// A request with one user message.
    pub fn user(model: impl Into<String>, text: impl Into<String>) -> Self {
        ChatRequest {
            model: model.into(),
            messages: vec![Message::text(Role::User, text)],
            ..ChatRequest::default()
        }
    }

    /// Reads and validates a request from the host's JSON text. Syntax errors and duplicate
    /// keys are `LLMRING_INVALID_JSON`; unknown fields, wrong types and bad values are
    /// `LLMRING_INVALID_ARGUMENT`, naming the field.
    pub fn from_json(text: &str) -> Result<Self> {
        let value = crate::receipt::json::parse_strict(text)
            .map_err(|e| Error::invalid_json(format!("chat request: {}", e.message)))?;
        Self::from_value(value)
    }

    /// Reads and validates a request from a JSON value (see [`ChatRequest::from_json`]).
    pub fn from_value(value: Value) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::invalid_argument(
                "chat request: expected a JSON object",
            ));
        }
        let req: ChatRequest = serde_json::from_value(value)
            .map_err(|e| Error::invalid_argument(format!("chat request: {e}")))?;
        req.validate()?;
        Ok(req)
    }

    /// Checks the values (serde already checked the shape). Errors are
    /// `LLMRING_INVALID_ARGUMENT` with a message naming the offending field.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::invalid_argument(format!("chat request: {msg}")));
        if self.model.trim().is_empty() {
            return bad("`model` must not be empty".into());
        }
        if self.messages.is_empty() {
            return bad("`messages` must not be empty".into());
        }
        if let Some(t) = self.temperature {
            if !(t.is_finite() && (0.0..=2.0).contains(&t)) {
                return bad(format!("`temperature` must be between 0 and 2, got {t}"));
            }
        }
        if self.max_tokens == Some(0) {
            return bad("`max_tokens` must be at least 1".into());
        }
        if self.profile.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return bad("`profile` must not be empty".into());
        }
        for (i, m) in self.messages.iter().enumerate() {
            validate_message(i, m).or_else(&bad)?;
        }
        if let Some(tools) = &self.tools {
            for (i, t) in tools.iter().enumerate() {
                validate_tool(i, t).or_else(&bad)?;
            }
        }
        if let Some(choice) = &self.tool_choice {
            validate_tool_choice(choice, self.tools.as_deref().unwrap_or_default())
                .or_else(&bad)?;
        }
        if let Some(ResponseFormat::JsonSchema { json_schema }) = &self.response_format {
            if json_schema.name.trim().is_empty() {
                return bad("`response_format.json_schema.name` must not be empty".into());
            }
            if json_schema.schema.as_ref().is_some_and(|s| !s.is_object()) {
                return bad("`response_format.json_schema.schema` must be a JSON object".into());
            }
        }
        if let Some(usage) = &self.mock_usage {
            if self.mock_response.is_none() {
                return bad("`mock_usage` is only allowed together with `mock_response`".into());
            }
            crate::providers::mock::usage_from_mock_usage(usage)?;
        }
        Ok(())
    }

    /// The tool choice as a structured value (after [`ChatRequest::validate`]).
    pub fn tool_choice(&self) -> Option<ToolChoice> {
        self.tool_choice.as_ref().and_then(ToolChoice::from_value)
    }
}

/// A validated `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Function(String),
}

impl ToolChoice {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => match s.as_str() {
                "auto" => Some(ToolChoice::Auto),
                "none" => Some(ToolChoice::None),
                "required" => Some(ToolChoice::Required),
                _ => None,
            },
            Value::Object(o) => {
                if o.len() != 2 || o.get("type").and_then(Value::as_str) != Some("function") {
                    return None;
                }
                let f = o.get("function")?.as_object()?;
                if f.len() != 1 {
                    return None;
                }
                let name = f.get("name")?.as_str()?;
                Some(ToolChoice::Function(name.to_owned()))
            }
            _ => None,
        }
    }
}

fn validate_message(i: usize, m: &Message) -> std::result::Result<(), String> {
    let at = format!("`messages[{i}]`");
    if let Some(Content::Parts(parts)) = &m.content {
        for (j, p) in parts.iter().enumerate() {
            if p.get("type").and_then(Value::as_str).is_none() {
                return Err(format!(
                    "{at}.content[{j}] must be an object with a string `type`"
                ));
            }
        }
    }
    if m.role != Role::Assistant && m.tool_calls.is_some() {
        return Err(format!(
            "{at}: `tool_calls` is only allowed on assistant messages"
        ));
    }
    if m.role != Role::Tool && m.tool_call_id.is_some() {
        return Err(format!(
            "{at}: `tool_call_id` is only allowed on tool messages"
        ));
    }
    match m.role {
        Role::Assistant => {
            let calls = m.tool_calls.as_deref().unwrap_or_default();
            if m.content.is_none() && calls.is_empty() {
                return Err(format!(
                    "{at}: an assistant message needs `content` or `tool_calls`"
                ));
            }
            for (j, c) in calls.iter().enumerate() {
                if c.id.is_empty() {
                    return Err(format!("{at}.tool_calls[{j}].id must not be empty"));
                }
                if c.kind != "function" {
                    return Err(format!(
                        "{at}.tool_calls[{j}].type must be \"function\", got {:?}",
                        c.kind
                    ));
                }
                if c.function.name.is_empty() {
                    return Err(format!(
                        "{at}.tool_calls[{j}].function.name must not be empty"
                    ));
                }
            }
        }
        Role::Tool => {
            if m.tool_call_id.as_deref().is_none_or(str::is_empty) {
                return Err(format!(
                    "{at}: a tool message needs a non-empty `tool_call_id`"
                ));
            }
            if m.content.is_none() {
                return Err(format!("{at}: a tool message needs `content`"));
            }
        }
        Role::System | Role::User => {
            if m.content.is_none() {
                return Err(format!(
                    "{at}: a {} message needs `content`",
                    m.role.as_str()
                ));
            }
        }
    }
    Ok(())
}

/// Tool names both OpenAI and Anthropic accept: 1 to 64 of `[A-Za-z0-9_-]`.
fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn validate_tool(i: usize, t: &Tool) -> std::result::Result<(), String> {
    let at = format!("`tools[{i}]`");
    if t.kind != "function" {
        return Err(format!("{at}.type must be \"function\", got {:?}", t.kind));
    }
    if !valid_tool_name(&t.function.name) {
        return Err(format!(
            "{at}.function.name {:?} must be 1 to 64 letters, digits, '_' or '-'",
            t.function.name
        ));
    }
    if t.function
        .parameters
        .as_ref()
        .is_some_and(|p| !p.is_object())
    {
        return Err(format!(
            "{at}.function.parameters must be a JSON Schema object"
        ));
    }
    Ok(())
}

fn validate_tool_choice(choice: &Value, tools: &[Tool]) -> std::result::Result<(), String> {
    let Some(parsed) = ToolChoice::from_value(choice) else {
        return Err(format!(
            "`tool_choice` must be \"auto\", \"none\", \"required\" or \
             {{\"type\":\"function\",\"function\":{{\"name\":NAME}}}}, got {choice}"
        ));
    };
    if tools.is_empty() && parsed != ToolChoice::None {
        return Err("`tool_choice` needs `tools`".into());
    }
    if let ToolChoice::Function(name) = &parsed {
        if !tools.iter().any(|t| &t.function.name == name) {
            return Err(format!(
                "`tool_choice` names {name:?}, which is not in `tools`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn err(json: &str) -> Error {
        ChatRequest::from_json(json).unwrap_err()
    }

    #[test]
    fn reads_a_full_request() {
        let req = ChatRequest::from_json(
            r#"{"model":"fast","system":"Be brief.","temperature":0.5,"max_tokens":100,
                "messages":[
                  {"role":"user","content":"hi"},
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                  {"role":"tool","tool_call_id":"call_1","name":"f","content":"42"},
                  {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"http://x/y.png"}}]}
                ],
                "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},
                "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
                "tool_choice":{"type":"function","function":{"name":"f"}},
                "profile":"prod","metadata":{"k":[1]},
                "mock_response":"ok","mock_usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
        )
        .unwrap();
        assert_eq!(req.messages.len(), 4);
        assert_eq!(req.messages[1].content, None);
        assert_eq!(req.messages[3].text_content(), "a");
        assert_eq!(req.tool_choice(), Some(ToolChoice::Function("f".into())));
        assert!(matches!(
            req.response_format,
            Some(ResponseFormat::JsonSchema { .. })
        ));
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = err(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temprature":1}"#);
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains("temprature"), "{e}");
        let e = err(r#"{"model":"m","messages":[{"role":"user","content":"x","extra":1}]}"#);
        assert!(e.message.contains("extra"), "{e}");
        let e = err(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object","x":1}}"#,
        );
        assert!(e.message.contains("`x`"), "{e}");
        let e = err(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{},"extra":1}}}"#,
        );
        assert!(e.message.contains("`extra`"), "{e}");
        let e = err(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}"#,
        );
        assert!(e.message.contains("needs `json_schema`"), "{e}");
    }

    #[test]
    fn syntax_and_duplicates_are_invalid_json() {
        assert_eq!(err("{").kind, ErrorKind::InvalidJson);
        let e = err(r#"{"model":"a","model":"b","messages":[]}"#);
        assert_eq!(e.kind, ErrorKind::InvalidJson);
        assert!(e.message.contains("duplicate"), "{e}");
        assert_eq!(err("[]").kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn value_errors() {
        let cases = [
            (
                r#"{"model":"m","messages":[]}"#,
                "`messages` must not be empty",
            ),
            (
                r#"{"model":"","messages":[{"role":"user","content":"x"}]}"#,
                "`model`",
            ),
            (
                r#"{"messages":[{"role":"user","content":"x"}]}"#,
                "missing field `model`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"bot","content":"x"}]}"#,
                "unknown variant `bot`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5}"#,
                "`temperature`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":-0.1}"#,
                "`temperature`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
                "`max_tokens` must be at least 1",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-5}"#,
                "-5",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user"}]}"#,
                "needs `content`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#,
                "`tool_call_id`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x","tool_call_id":"c"}]}"#,
                "only allowed on tool",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x","tool_calls":[]}]}"#,
                "only allowed on assistant",
            ),
            (
                r#"{"model":"m","messages":[{"role":"assistant"}]}"#,
                "`content` or `tool_calls`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}"#,
                "content[0]",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a b"}}]}"#,
                "`tools[0]`.function.name",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web","function":{"name":"a"}}]}"#,
                "`tools[0]`.type",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto"}"#,
                "needs `tools`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"sometimes"}"#,
                "`tool_choice` must be",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}"#,
                "not in `tools`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}"#,
                "got \"xml\"",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":[1]}"#,
                "a map",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"mock_usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
                "only allowed together with `mock_response`",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}],"mock_response":"r","mock_usage":{"prompt_tokens":1}}"#,
                "completion_tokens",
            ),
        ];
        for (json, needle) in cases {
            let e = err(json);
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{json}: {e}");
            assert!(
                e.message.contains(needle),
                "{json}: {e} (wanted {needle:?})"
            );
        }
    }

    #[test]
    fn round_trips_through_serde() {
        let req = ChatRequest::user("fast", "hello");
        let text = serde_json::to_string(&req).unwrap();
        assert_eq!(
            text,
            r#"{"model":"fast","messages":[{"role":"user","content":"hello"}]}"#
        );
        assert_eq!(ChatRequest::from_json(&text).unwrap(), req);
    }
}

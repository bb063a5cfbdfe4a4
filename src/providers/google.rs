//! Google Gemini `generateContent`: `POST {base}/models/{model}:generateContent` with the API
//! key in `x-goog-api-key` (default base `https://generativelanguage.googleapis.com/v1beta`;
//! a `models/` prefix on the model name is accepted and not doubled). The streaming variant
//! is `POST {base}/models/{model}:streamGenerateContent?alt=sse` (see [`super::stream`]).
//!
//! Request mapping from the OpenAI-shaped [`ChatRequest`]:
//! - System prompts go to `systemInstruction: {"parts": [{"text": ..}, ..]}`: `system` first,
//!   then every system message of `messages` in order, one text part each (text parts of a
//!   system message become one part each; non-text system parts are an error).
//! - `contents`: user messages → role `user`; assistant messages → role `model`, their text
//!   then one `functionCall: {name, args}` part per tool call (`args` parsed from the
//!   arguments string; an empty string is `{}`; it must be a JSON object). Tool messages →
//!   `functionResponse: {name, response}` parts in a `user` content; consecutive tool results
//!   (and a user message right after them) share one content, as Gemini wants the responses
//!   of one turn together. The function `name` is the tool message's `name`, else the name of
//!   the call with that `tool_call_id` in an earlier assistant message (nearest first);
//!   neither is an `LLMRING_INVALID_ARGUMENT` error. `response` is the tool content parsed as
//!   JSON when that is an object, else `{"content": TEXT}`.
//! - Content parts: `text` → `{"text"}`; `image_url` with a `data:` URL → `inlineData`
//!   (`mimeType`, `data`); other image URLs → `fileData` (`fileUri`, plus `mimeType` guessed
//!   from a png/jpeg/gif/webp extension): Gemini only reads File API, `gs://` and a few other
//!   URIs, so prefer data URLs. Other part types are an error.
//! - Message `name`s (other than on tool messages) have no Gemini equivalent and are dropped.
//! - `temperature` → `generationConfig.temperature`, `max_tokens` →
//!   `generationConfig.maxOutputTokens`.
//! - JSON mode: `json_object` → `generationConfig.responseMimeType: "application/json"`;
//!   `json_schema` adds `responseSchema`, the schema converted to Gemini's OpenAPI subset by
//!   [`gemini_schema`] (local `$ref`s inlined, `["T","null"]` types → `nullable`, `const` →
//!   `enum`, `oneOf` → `anyOf`, unsupported keywords such as `additionalProperties` or
//!   `$schema` dropped). A `json_schema` without a schema is plain JSON mode.
//! - Tools → `tools: [{"functionDeclarations": [{name, description, parameters}]}]`, the
//!   parameters converted like `responseSchema`; `parameters` is left out when the schema is
//!   absent or an object without properties (Gemini rejects an OBJECT without properties);
//!   `strict` is dropped. `tool_choice` → `toolConfig.functionCallingConfig`: `auto` →
//!   `AUTO`, `none` → `NONE`, `required` → `ANY`, a named function → `ANY` with
//!   `allowedFunctionNames: [name]`.
//!
//! Parsing reads `candidates[0]`: the `text` of `content.parts` concatenated (thought parts,
//! `thought: true`, skipped), `functionCall` parts → OpenAI-shaped tool calls (arguments =
//! `args` serialized as compact JSON; id = the part's `functionCall.id` when Gemini sends one,
//! else [`tool_call_id`]); `finishReason` STOP → `stop` (`tool_calls` when the answer has
//! function calls), MAX_TOKENS → `length`, SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT,
//! SPII, IMAGE_SAFETY → `content_filter`, others as sent. A response without candidates
//! whose prompt was blocked (`promptFeedback.blockReason`) is an empty answer with finish
//! reason `content_filter`. The reply's `usage` is the `usageMetadata` object untouched
//! (`promptTokenCount`, `candidatesTokenCount`, `cachedContentTokenCount`,
//! `thoughtsTokenCount`, `toolUsePromptTokenCount`, `totalTokenCount`: the shape
//! [`google_usage`](crate::cost::google_usage) reads), `model` is `modelVersion` and `id` is
//! `responseId`.
//!
//! Limitation: Gemini 3 models attach a `thoughtSignature` to function-call parts and want it
//! sent back with the call in the next turn; the OpenAI tool-call shape has no place for it,
//! so it is not kept.
//!
//! Errors: `{"error": {"code", "message", "status"}}` (also inside a one-element array, as
//! the streaming endpoint sends it): message, `status` as the error type, `code` as the code.
//! Gemini answers an invalid API key with HTTP 400 and reason `API_KEY_INVALID`: that is
//! classified `LLMRING_AUTH`, not retryable.

use serde_json::{Map, Value, json};

use super::{
    Endpoint, HttpRequest, Provider, ProviderError, ProviderReply, SecretHeader, bad_response,
    code_field, parse_json_object, str_field,
};
use crate::chat::{
    ChatRequest, ChatResponse, Content, ResponseFormat, Role, ToolCall, ToolChoice, finish_reason,
};
use crate::error::{Error, ErrorKind, Result};

const P: Provider = Provider::Google;

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "x-goog-api-key";

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("google: {msg}")).with("provider", P.name())
}

/// The request path for `model`: `models/{model}:generateContent`, or
/// `models/{model}:streamGenerateContent?alt=sse` when `stream`.
pub fn request_path(model: &str, stream: bool) -> String {
    let model = model.strip_prefix("models/").unwrap_or(model);
    if stream {
        format!("models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("models/{model}:generateContent")
    }
}

/// The id given to the `index`-th function call of a response when Gemini sends none:
/// `call_{responseId}_{index}`, or `call_{index}` without a response id. Deterministic, so a
/// streamed and an unstreamed parse of the same answer agree.
pub fn tool_call_id(response_id: Option<&str>, index: usize) -> String {
    match response_id {
        Some(r) if !r.is_empty() => format!("call_{r}_{index}"),
        _ => format!("call_{index}"),
    }
}

/// The normalized finish reason for Gemini's `finishReason` (see the module documentation);
/// `has_tool_calls` turns `STOP` into `tool_calls`.
pub fn map_finish_reason(reason: &str, has_tool_calls: bool) -> String {
    match reason {
        "STOP" if has_tool_calls => finish_reason::TOOL_CALLS,
        "STOP" => finish_reason::STOP,
        "MAX_TOKENS" => finish_reason::LENGTH,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            finish_reason::CONTENT_FILTER
        }
        other => other,
    }
    .to_owned()
}

pub(super) fn build_request(
    req: &ChatRequest,
    model: &str,
    endpoint: &Endpoint,
    stream: bool,
) -> Result<HttpRequest> {
    // System prompts.
    let mut system_parts: Vec<Value> = Vec::new();
    if let Some(s) = &req.system {
        system_parts.push(json!({"text": s}));
    }
    for m in req.messages.iter().filter(|m| m.role == Role::System) {
        match &m.content {
            None => {}
            Some(Content::Text(s)) => system_parts.push(json!({"text": s})),
            Some(Content::Parts(parts)) => {
                for p in parts {
                    if p.get("type").and_then(Value::as_str) != Some("text") {
                        return Err(invalid("system content parts must be text parts"));
                    }
                    let text = p.get("text").and_then(Value::as_str).unwrap_or_default();
                    system_parts.push(json!({"text": text}));
                }
            }
        }
    }

    // Contents.
    let mut contents: Vec<Value> = Vec::new();
    let mut open_tool_results = false;
    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::System => {}
            Role::User => {
                let parts = match &m.content {
                    Some(c) => convert_content(c)?,
                    None => Vec::new(),
                };
                if open_tool_results {
                    last_parts(&mut contents).extend(parts);
                    open_tool_results = false;
                } else {
                    contents.push(json!({"role": "user", "parts": parts}));
                }
            }
            Role::Assistant => {
                open_tool_results = false;
                let mut parts = match &m.content {
                    Some(Content::Text(s)) if s.is_empty() => Vec::new(),
                    Some(c) => convert_content(c)?,
                    None => Vec::new(),
                };
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let args = super::tool_call_arguments(call, i, j).map_err(invalid)?;
                    parts.push(json!({
                        "functionCall": {"name": call.function.name, "args": args}
                    }));
                }
                contents.push(json!({"role": "model", "parts": parts}));
            }
            Role::Tool => {
                let name = tool_result_name(req, i)?;
                let text = m.text_content();
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({"content": text}),
                };
                let part = json!({"functionResponse": {"name": name, "response": response}});
                if open_tool_results {
                    last_parts(&mut contents).push(part);
                } else {
                    contents.push(json!({"role": "user", "parts": [part]}));
                    open_tool_results = true;
                }
            }
        }
    }
    if contents.is_empty() {
        return Err(invalid(
            "the request needs at least one user or assistant message besides system messages",
        ));
    }

    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents));
    if !system_parts.is_empty() {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": Value::Array(system_parts)}),
        );
    }

    let mut config = Map::new();
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), n.into());
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            config.insert("responseMimeType".into(), "application/json".into());
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config.insert("responseMimeType".into(), "application/json".into());
            if let Some(schema) = &json_schema.schema {
                config.insert("responseSchema".into(), gemini_schema(schema)?);
            }
        }
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }

    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        let mut decls = Vec::with_capacity(tools.len());
        for t in tools {
            let mut d = Map::new();
            d.insert("name".into(), t.function.name.clone().into());
            if let Some(desc) = &t.function.description {
                d.insert("description".into(), desc.clone().into());
            }
            if let Some(params) = &t.function.parameters {
                let converted = gemini_schema(params)?;
                let empty_object = converted.get("type").and_then(Value::as_str) == Some("object")
                    && converted
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_none_or(Map::is_empty);
                if !empty_object {
                    d.insert("parameters".into(), converted);
                }
            }
            decls.push(Value::Object(d));
        }
        body.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    if let Some(choice) = req.tool_choice() {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }

    let mut http = HttpRequest::post(
        endpoint.url(&request_path(model, stream)),
        Value::Object(body),
    );
    if stream {
        http.headers
            .push(("accept".into(), "text/event-stream".into()));
    }
    if let Some(key) = &endpoint.api_key {
        http.auth = Some(SecretHeader {
            name: API_KEY_HEADER.into(),
            value: key.clone(),
        });
    }
    Ok(http)
}

/// The function name a tool message answers: its `name`, else the name of the call with its
/// `tool_call_id` in the nearest earlier assistant message.
fn tool_result_name(req: &ChatRequest, i: usize) -> Result<String> {
    let m = &req.messages[i];
    if let Some(name) = m.name.as_deref().filter(|n| !n.is_empty()) {
        return Ok(name.to_owned());
    }
    let id = m.tool_call_id.as_deref().unwrap_or_default();
    req.messages[..i]
        .iter()
        .rev()
        .flat_map(|prev| prev.tool_calls.iter().flatten())
        .find(|c| c.id == id)
        .map(|c| c.function.name.clone())
        .ok_or_else(|| {
            invalid(format!(
                "messages[{i}]: no earlier assistant tool call has the id {id:?}, and the tool \
                 message has no `name`; Gemini needs the function name of every tool result"
            ))
        })
}

/// The parts array of the last content (which the caller knows has one).
fn last_parts(contents: &mut [Value]) -> &mut Vec<Value> {
    contents
        .last_mut()
        .and_then(|m| m.get_mut("parts"))
        .and_then(Value::as_array_mut)
        .expect("the last content holds parts")
}

/// Message content as Gemini parts.
fn convert_content(content: &Content) -> Result<Vec<Value>> {
    match content {
        Content::Text(s) => Ok(vec![json!({"text": s})]),
        Content::Parts(parts) => parts.iter().map(convert_part).collect(),
    }
}

fn convert_part(part: &Value) -> Result<Value> {
    match part.get("type").and_then(Value::as_str) {
        Some("text") => Ok(json!({
            "text": part.get("text").and_then(Value::as_str).unwrap_or_default()
        })),
        Some("image_url") => {
            let url = match part.get("image_url") {
                Some(Value::String(u)) => u.as_str(),
                Some(obj) => obj
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("an image_url part needs `image_url.url`"))?,
                None => return Err(invalid("an image_url part needs `image_url.url`")),
            };
            if let Some(rest) = url.strip_prefix("data:") {
                let (mime, data) = rest.split_once(";base64,").ok_or_else(|| {
                    invalid("a data: image URL must be `data:MEDIA_TYPE;base64,DATA`")
                })?;
                return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
            }
            let mut file = Map::new();
            file.insert("fileUri".into(), url.into());
            if let Some(mime) = guess_image_mime(url) {
                file.insert("mimeType".into(), mime.into());
            }
            Ok(json!({ "fileData": file }))
        }
        other => Err(invalid(format!(
            "content parts of type {} are not supported (text and image_url are)",
            other.unwrap_or("(none)")
        ))),
    }
}

fn guess_image_mime(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit_once('.')?.1.to_owned();
    match ext.as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// Keywords of Gemini's schema subset kept by [`gemini_schema`].
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Deepest `$ref` nesting [`gemini_schema`] inlines (a recursive schema is an error).
const MAX_SCHEMA_DEPTH: usize = 32;

/// A JSON Schema converted to the OpenAPI subset Gemini's `responseSchema` and function
/// `parameters` accept: local `$ref`s (`#/$defs/..`, `#/definitions/..`) are inlined (a
/// recursive schema is an `LLMRING_INVALID_ARGUMENT` error), a `type` array with `"null"`
/// becomes the other type plus `nullable: true` (several non-null types become `anyOf`),
/// `const` becomes a one-value `enum`, `oneOf` becomes `anyOf`, and keywords outside
/// Gemini's subset (`additionalProperties`, `$schema`, `$defs`, `examples`, ...) are dropped.
pub fn gemini_schema(schema: &Value) -> Result<Value> {
    convert_schema(schema, schema, 0)
}

fn convert_schema(node: &Value, root: &Value, depth: usize) -> Result<Value> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(invalid(
            "the JSON schema nests `$ref`s too deeply (a recursive schema cannot be sent to Gemini)",
        ));
    }
    let Value::Object(obj) = node else {
        return Ok(node.clone());
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/")
            .map(|p| format!("/{p}"))
            .and_then(|p| root.pointer(&p))
            .ok_or_else(|| {
                invalid(format!(
                    "the JSON schema `$ref` {r:?} is not a local definition"
                ))
            })?;
        let mut resolved = convert_schema(target, root, depth + 1)?;
        // Sibling keywords (a description next to the `$ref`) win.
        if let Value::Object(out) = &mut resolved {
            for (k, v) in obj {
                if k != "$ref" && SCHEMA_KEYWORDS.contains(&k.as_str()) {
                    out.insert(k.clone(), convert_keyword(k, v, root, depth)?);
                }
            }
        }
        return Ok(resolved);
    }
    let mut out = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "type" => match v {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .collect();
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), true.into());
                    }
                    match non_null.as_slice() {
                        [] => {}
                        [one] => {
                            out.insert("type".into(), (*one).clone());
                        }
                        many => {
                            let alts: Vec<Value> =
                                many.iter().map(|t| json!({"type": t})).collect();
                            out.insert("anyOf".into(), Value::Array(alts));
                        }
                    }
                }
                _ => {
                    out.insert("type".into(), v.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), json!([v]));
            }
            "oneOf" => {
                out.insert("anyOf".into(), convert_keyword("anyOf", v, root, depth)?);
            }
            k if SCHEMA_KEYWORDS.contains(&k) => {
                out.insert(k.to_owned(), convert_keyword(k, v, root, depth)?);
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

fn convert_keyword(key: &str, value: &Value, root: &Value, depth: usize) -> Result<Value> {
    match (key, value) {
        ("properties", Value::Object(props)) => {
            let mut out = Map::new();
            for (name, s) in props {
                out.insert(name.clone(), convert_schema(s, root, depth)?);
            }
            Ok(Value::Object(out))
        }
        ("items", s @ Value::Object(_)) => convert_schema(s, root, depth),
        ("anyOf", Value::Array(alts)) => alts
            .iter()
            .map(|s| convert_schema(s, root, depth))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        _ => Ok(value.clone()),
    }
}

pub(super) fn parse_response(body: &[u8]) -> Result<ProviderReply> {
    let obj = parse_json_object(P, body)?;
    let root = Value::Object(obj);
    if root.get("candidates").is_none() {
        if let Some(err) = root.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            return Err(bad_response(
                P,
                format!("error object in a success response: {msg}"),
            ));
        }
    }
    let response_id = str_field(&root, "responseId");
    let candidate = match root.get("candidates") {
        Some(Value::Array(c)) => c.first(),
        Some(_) => return Err(bad_response(P, "`candidates` is not an array")),
        None => None,
    };
    let usage = root.get("usageMetadata").filter(|u| !u.is_null()).cloned();
    let model = str_field(&root, "modelVersion");

    let Some(candidate) = candidate else {
        // No candidate: the prompt was blocked, or the body is not a Gemini response.
        if root
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
            .is_some()
        {
            return Ok(ProviderReply {
                response: ChatResponse {
                    content: String::new(),
                    finish_reason: Some(finish_reason::CONTENT_FILTER.to_owned()),
                    tool_calls: Vec::new(),
                    usage,
                },
                model,
                id: response_id,
            });
        }
        return Err(bad_response(P, "no `candidates`"));
    };

    let mut content = String::new();
    let mut tool_calls = Vec::new();
    read_candidate_parts(
        candidate,
        response_id.as_deref(),
        &mut content,
        &mut tool_calls,
        "candidates[0]",
    )?;
    let finish = candidate
        .get("finishReason")
        .and_then(Value::as_str)
        .map(|r| map_finish_reason(r, !tool_calls.is_empty()));

    Ok(ProviderReply {
        response: ChatResponse {
            content,
            finish_reason: finish,
            tool_calls,
            usage,
        },
        model,
        id: response_id,
    })
}

/// Appends a candidate's text to `content` and its function calls to `tool_calls` (ids
/// numbered after the calls already there). Used by the streaming parser too.
pub(super) fn read_candidate_parts(
    candidate: &Value,
    response_id: Option<&str>,
    content: &mut String,
    tool_calls: &mut Vec<ToolCall>,
    at: &str,
) -> Result<()> {
    let parts = match candidate.pointer("/content/parts") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(bad_response(
                P,
                format!("`{at}.content.parts` is not an array"),
            ));
        }
    };
    for (i, part) in parts.iter().enumerate() {
        if let Some(call) = part.get("functionCall") {
            let name = call.get("name").and_then(Value::as_str).ok_or_else(|| {
                bad_response(
                    P,
                    format!("`{at}.content.parts[{i}].functionCall` has no `name`"),
                )
            })?;
            let args = match call.get("args") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(a) => a.to_string(),
            };
            let id = str_field(call, "id")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| tool_call_id(response_id, tool_calls.len()));
            tool_calls.push(ToolCall::function(id, name, args));
        } else if part.get("thought").and_then(Value::as_bool) == Some(true) {
            // Thought summaries are not part of the answer.
        } else if let Some(text) = part.get("text") {
            let text = text.as_str().ok_or_else(|| {
                bad_response(P, format!("`{at}.content.parts[{i}].text` is not a string"))
            })?;
            content.push_str(text);
        }
    }
    Ok(())
}

/// The fields of a Gemini error body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct ErrorFields {
    pub message: Option<String>,
    /// `status` (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, ...).
    pub status: Option<String>,
    /// `code` (the HTTP status, as text).
    pub code: Option<String>,
    /// Whether a detail gives the reason `API_KEY_INVALID`.
    pub bad_key: bool,
}

/// The fields of a Gemini error body: `{"error": {..}}`, or a one-element array holding it.
pub(super) fn error_fields(body: &Value) -> Option<ErrorFields> {
    let e = match body {
        Value::Array(items) => items.first()?.get("error")?,
        other => other.get("error")?,
    };
    if !e.is_object() {
        return None;
    }
    let bad_key = e
        .get("details")
        .and_then(Value::as_array)
        .is_some_and(|ds| {
            ds.iter()
                .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
        });
    Some(ErrorFields {
        message: str_field(e, "message"),
        status: str_field(e, "status"),
        code: code_field(e, "code"),
        bad_key,
    })
}

pub(super) fn parse_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| error_fields(&v));
    let bad_key = parsed.as_ref().is_some_and(|f| f.bad_key);
    let mut e = ProviderError::from_parts(
        P,
        status,
        body,
        parsed.map(|f| (f.message, f.status, f.code)),
    );
    if bad_key {
        e.kind = ErrorKind::Auth;
        e.retryable = false;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_conversion() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": {"type": ["string", "null"], "description": "who"},
                "kind": {"const": "a"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]}
            },
            "required": ["name"],
            "$defs": {"tag": {"type": "string", "maxLength": 8, "examples": ["x"]}}
        });
        assert_eq!(
            gemini_schema(&s).unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "nullable": true, "description": "who"},
                    "kind": {"enum": ["a"]},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}},
                    "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]}
                },
                "required": ["name"]
            })
        );
        let recursive = json!({"$defs": {"n": {"type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}},
                               "$ref": "#/$defs/n"});
        assert!(gemini_schema(&recursive).is_err());
        assert!(gemini_schema(&json!({"$ref": "https://x.test/s.json"})).is_err());
    }

    #[test]
    fn paths_and_ids() {
        assert_eq!(
            request_path("models/gemini-2.5-flash", false),
            "models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            request_path("gemini-2.5-flash", true),
            "models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(tool_call_id(Some("abc"), 1), "call_abc_1");
        assert_eq!(tool_call_id(None, 0), "call_0");
    }
}

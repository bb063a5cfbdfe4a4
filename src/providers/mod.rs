//! Providers: pure mapping between a [`ChatRequest`] and each provider's HTTP API.
//!
//! Nothing here does I/O. The client asks a [`Provider`] for an [`HttpRequest`]
//! ([`Provider::build_request`]), sends it however it likes, and hands the answer back:
//! a 2xx body to [`Provider::parse_response`], anything else to [`Provider::parse_error`].
//! Endpoints and keys come from the client's configuration; [`Provider::api_key_env`] and
//! [`Provider::base_url_env`] name the environment variables the official SDKs read, as data.
//!
//! Secrets: API keys live in [`SecretString`], whose `Debug` prints `[redacted]` and which
//! has no `Display` and no `Serialize`. An [`HttpRequest`] keeps the header that carries the
//! key apart from the others ([`HttpRequest::auth`]), so headers can be logged freely and the
//! key is only read where the transport calls [`SecretString::expose`].
//!
//! Usage: each reply carries the provider's `usage` JSON untouched (`None` when absent); the
//! cost module reads it. The offline mock ([`mock`]) produces OpenAI-shaped usage whatever
//! the resolved model's provider is.
//!
//! Implemented: OpenAI chat completions ([`openai`]), Anthropic messages ([`anthropic`]),
//! Google Gemini `generateContent` ([`google`]) and Ollama `/api/chat` ([`ollama`]).
//!
//! Streaming ([`stream`]): [`Provider::build_stream_request`] gives the streaming variant of
//! the request and [`Provider::stream_parser`] an incremental parser of the streamed body
//! whose [`finish`](stream::StreamParser::finish) gives the same [`ProviderReply`] as
//! [`Provider::parse_response`] on the unstreamed answer.

pub mod anthropic;
pub mod google;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod stream;

use std::fmt;

use serde_json::Value;
use zeroize::Zeroize;

use crate::chat::{ChatRequest, ChatResponse};
use crate::error::{Error, ErrorKind, Result};

/// The providers llmring knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAi,
    Anthropic,
    Google,
    Ollama,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 4] = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Google,
        Provider::Ollama,
    ];

    /// The provider with this name (`openai`, `anthropic`, `google`, `ollama`; exact,
    /// lower case), as used in `provider:model` references and registry paths.
    pub fn from_name(name: &str) -> Result<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown provider {name:?}; known providers: openai, anthropic, google, ollama"
                ))
                .with("provider", name)
            })
    }

    /// The provider's name, as in `provider:model`.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Google => "google",
            Provider::Ollama => "ollama",
        }
    }

    /// The base URL used when neither the configuration nor the environment sets one.
    /// Request paths are appended to it (`/chat/completions` for OpenAI, `/v1/messages` for
    /// Anthropic, `/models/{model}:generateContent` for Google, `/api/chat` for Ollama),
    /// following each official SDK's convention for its `*_BASE_URL` variable.
    pub fn default_base_url(&self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Google => "https://generativelanguage.googleapis.com/v1beta",
            Provider::Ollama => "http://localhost:11434",
        }
    }

    /// Environment variables holding the API key, in order of preference (first set wins).
    pub fn api_key_env(&self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_API_KEY"],
            Provider::Anthropic => &["ANTHROPIC_API_KEY"],
            Provider::Google => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            Provider::Ollama => &[],
        }
    }

    /// Environment variable holding the base URL, when the provider's SDK has one.
    pub fn base_url_env(&self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("OPENAI_BASE_URL"),
            Provider::Anthropic => Some("ANTHROPIC_BASE_URL"),
            Provider::Google => None,
            Provider::Ollama => Some("OLLAMA_BASE_URL"),
        }
    }

    /// Whether the provider's official endpoint needs an API key (Ollama does not). An
    /// OpenAI-compatible local server may not either: `build_request` without a key simply
    /// sends no auth header, so deciding whether a missing key is an error is the client's.
    pub fn requires_api_key(&self) -> bool {
        !matches!(self, Provider::Ollama)
    }

    /// Whether this build maps requests for the provider (all four are implemented).
    pub fn is_implemented(&self) -> bool {
        true
    }

    /// The HTTP request for `req`, sent to `model` (the provider's own model name, without the
    /// `provider:` prefix) at `endpoint`. Errors are `LLMRING_INVALID_ARGUMENT` when the
    /// request cannot be expressed for this provider. `req` is expected to be validated
    /// ([`ChatRequest::from_json`] does it; call [`ChatRequest::validate`] on a request built
    /// in code). Without an API key no auth header is sent.
    pub fn build_request(
        &self,
        req: &ChatRequest,
        model: &str,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        match self {
            Provider::OpenAi => openai::build_request(req, model, endpoint),
            Provider::Anthropic => anthropic::build_request(req, model, endpoint),
            Provider::Google => google::build_request(req, model, endpoint, false),
            Provider::Ollama => ollama::build_request(req, model, endpoint, false),
        }
    }

    /// The streaming variant of [`Provider::build_request`] (same arguments and errors):
    /// OpenAI `stream: true` with `stream_options.include_usage`, Anthropic `stream: true`,
    /// Google `:streamGenerateContent?alt=sse`, Ollama `stream: true` (NDJSON). Read the 2xx
    /// body with [`Provider::stream_parser`], any other status with [`Provider::parse_error`].
    pub fn build_stream_request(
        &self,
        req: &ChatRequest,
        model: &str,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        stream::build_request(*self, req, model, endpoint)
    }

    /// A new incremental parser for a streamed 2xx body of this provider (see [`stream`]).
    pub fn stream_parser(&self) -> stream::StreamParser {
        stream::StreamParser::new(*self)
    }

    /// Reads a successful (2xx) response body. Unreadable, truncated or unexpected bodies are
    /// `LLMRING_PROVIDER` errors with the detail `provider`.
    pub fn parse_response(&self, body: &[u8]) -> Result<ProviderReply> {
        match self {
            Provider::OpenAi => openai::parse_response(body),
            Provider::Anthropic => anthropic::parse_response(body),
            Provider::Google => google::parse_response(body),
            Provider::Ollama => ollama::parse_response(body),
        }
    }

    /// Reads an error response (any non-2xx status): the provider's message, type and code
    /// when the body has them, else a cleaned, truncated excerpt of the body.
    pub fn parse_error(&self, status: u16, body: &[u8]) -> ProviderError {
        match self {
            Provider::OpenAi => openai::parse_error(status, body),
            Provider::Anthropic => anthropic::parse_error(status, body),
            Provider::Google => google::parse_error(status, body),
            Provider::Ollama => ollama::parse_error(status, body),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The arguments of an assistant's tool call `j` in message `i` as a JSON object (empty text
/// counts as `{}`), for providers that send them as objects; the error names the call.
fn tool_call_arguments(
    call: &crate::chat::ToolCall,
    i: usize,
    j: usize,
) -> std::result::Result<Value, String> {
    let text = call.function.arguments.trim();
    let args: Value = if text.is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(text).map_err(|e| {
            format!("messages[{i}].tool_calls[{j}].function.arguments is not valid JSON: {e}")
        })?
    };
    if !args.is_object() {
        return Err(format!(
            "messages[{i}].tool_calls[{j}].function.arguments must be a JSON object"
        ));
    }
    Ok(args)
}

/// A secret string (an API key). `Debug` prints `[redacted]`; there is no `Display` and no
/// `Serialize`; the memory is zeroized on drop. Read it with [`SecretString::expose`] only
/// where it is handed to the transport.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into())
    }

    /// The secret itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(SecretString)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

/// Where to send a provider's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base URL without the request path (a trailing `/` is ignored).
    pub base_url: String,
    pub api_key: Option<SecretString>,
}

impl Endpoint {
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Self {
        Endpoint {
            base_url: base_url.into(),
            api_key: api_key.map(SecretString::new),
        }
    }

    /// `base_url` + `path`, with exactly one `/` between them.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// A header whose value is a secret (the API key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHeader {
    pub name: String,
    pub value: SecretString,
}

/// An HTTP request for the transport to send. `Debug` shows everything but the key.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// Always `"POST"` for chat calls.
    pub method: &'static str,
    pub url: String,
    /// Headers without secrets (content type, API version, ...).
    pub headers: Vec<(String, String)>,
    /// The header carrying the API key, when there is a key (`Authorization: Bearer ..`,
    /// `x-api-key`, ...).
    pub auth: Option<SecretHeader>,
    /// The JSON body.
    pub body: Value,
}

impl HttpRequest {
    fn post(url: String, body: Value) -> Self {
        HttpRequest {
            method: "POST",
            url,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            auth: None,
            body,
        }
    }

    /// A header's value by name (case-insensitive), secret header excluded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header including the secret one, for the transport only.
    pub fn headers_with_secret(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(
                self.auth
                    .iter()
                    .map(|a| (a.name.as_str(), a.value.expose())),
            )
    }

    /// The body as JSON text.
    pub fn body_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("a JSON value serializes")
    }
}

/// A provider's successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderReply {
    /// Content, finish reason, tool calls and raw usage.
    pub response: ChatResponse,
    /// The model the provider says it used (may be a dated snapshot of the requested one).
    pub model: Option<String>,
    /// The provider's id for the response (`chatcmpl-..`, `msg_..`).
    pub id: Option<String>,
}

/// A provider's error answer, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub provider: Provider,
    /// The HTTP status.
    pub status: u16,
    /// The library error class: `Auth` (401, 403), `RateLimited` (429), `Timeout` (408,
    /// 504), otherwise `Provider`.
    pub kind: ErrorKind,
    /// Whether retrying the same request may succeed: 408, 409, 429 (except OpenAI's
    /// `insufficient_quota`), 5xx (incl. Anthropic's 529 overloaded).
    pub retryable: bool,
    /// The provider's message, or an excerpt of the body (at most [`MAX_EXCERPT_CHARS`]).
    pub message: String,
    /// The provider's error type (`invalid_request_error`, `rate_limit_error`, ...).
    pub error_type: Option<String>,
    /// The provider's error code (OpenAI: `invalid_api_key`, `rate_limit_exceeded`, ...).
    pub code: Option<String>,
}

/// The longest body excerpt put in an error message, in characters.
pub const MAX_EXCERPT_CHARS: usize = 300;

impl ProviderError {
    /// Builds the error from a status and body; `fields` are the (message, type, code) the
    /// provider module found in the body, if any.
    fn from_parts(
        provider: Provider,
        status: u16,
        body: &[u8],
        fields: Option<(Option<String>, Option<String>, Option<String>)>,
    ) -> Self {
        let (message, error_type, code) = fields.unwrap_or_default();
        let message = match message {
            Some(m) if !m.trim().is_empty() => truncate_chars(m.trim(), MAX_EXCERPT_CHARS),
            _ => generic_message(body),
        };
        let (kind, mut retryable) = match status {
            401 | 403 => (ErrorKind::Auth, false),
            429 => (ErrorKind::RateLimited, true),
            408 => (ErrorKind::Timeout, true),
            504 => (ErrorKind::Timeout, true),
            409 => (ErrorKind::Provider, true),
            500..=599 => (ErrorKind::Provider, true),
            _ => (ErrorKind::Provider, false),
        };
        // OpenAI answers 429 when the account has no credit left; retrying cannot help.
        if code.as_deref() == Some("insufficient_quota")
            || error_type.as_deref() == Some("insufficient_quota")
        {
            retryable = false;
        }
        ProviderError {
            provider,
            status,
            kind,
            retryable,
            message,
            error_type,
            code,
        }
    }

    /// Removes every occurrence of `secret` from the message (defence in depth against a
    /// server that echoes the key it was sent).
    pub fn redact(mut self, secret: Option<&SecretString>) -> Self {
        if let Some(s) = secret {
            if !s.expose().is_empty() {
                self.message = self.message.replace(s.expose(), "[redacted]");
            }
        }
        self
    }

    /// The library error: message `"{provider} returned HTTP {status}: {message}"`, details
    /// `provider`, `http_status`, and `provider_error_type` / `provider_error_code` when
    /// known. The client adds `model`.
    pub fn into_error(self) -> Error {
        let mut e = Error::new(
            self.kind,
            format!(
                "{} returned HTTP {}: {}",
                self.provider.name(),
                self.status,
                self.message
            ),
        )
        .with("provider", self.provider.name())
        .with("http_status", self.status);
        if let Some(t) = self.error_type {
            e = e.with("provider_error_type", t);
        }
        if let Some(c) = self.code {
            e = e.with("provider_error_code", c);
        }
        e
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} returned HTTP {}: {}",
            self.provider.name(),
            self.status,
            self.message
        )
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((i, _)) => format!("{}…", &text[..i]),
    }
}

/// A readable excerpt of an error body that is not the provider's JSON error shape: JSON
/// `message`/`detail`/`error` strings, an HTML page's `<title>`, or the text with its
/// whitespace collapsed, truncated.
fn generic_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        for key in ["message", "detail", "error"] {
            if let Some(s) = v.get(key).and_then(Value::as_str) {
                return truncate_chars(s.trim(), MAX_EXCERPT_CHARS);
            }
        }
        if let Some(s) = v.pointer("/error/message").and_then(Value::as_str) {
            return truncate_chars(s.trim(), MAX_EXCERPT_CHARS);
        }
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with('<') {
        if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>")) {
            if a + 7 <= b {
                let title = collapse_ws(&text[a + 7..b]);
                if !title.is_empty() {
                    return truncate_chars(&format!("HTML page: {title}"), MAX_EXCERPT_CHARS);
                }
            }
        }
    }
    truncate_chars(&collapse_ws(text), MAX_EXCERPT_CHARS)
}

fn collapse_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The error for a 2xx body that cannot be read.
fn bad_response(provider: Provider, what: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Provider,
        format!("{}: unreadable response: {what}", provider.name()),
    )
    .with("provider", provider.name())
}

/// Parses a 2xx body as a JSON object, or a `LLMRING_PROVIDER` error naming the provider.
fn parse_json_object(provider: Provider, body: &[u8]) -> Result<serde_json::Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_response(provider, "empty body"));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let how = if e.is_eof() {
            "truncated JSON"
        } else {
            "invalid JSON"
        };
        bad_response(
            provider,
            format!(
                "{how} ({e}); body starts with: {}",
                truncate_chars(&collapse_ws(&String::from_utf8_lossy(body)), 120)
            ),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(bad_response(
            provider,
            format!("expected a JSON object, got {}", json_type(&other)),
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field of a JSON object, if present and a string.
fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A string or number field as text (OpenAI's `code` may be either).
fn code_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

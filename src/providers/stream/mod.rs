//! Streaming: the request for a streamed call and an incremental, pure parser of the answer.
//!
//! Nothing here does I/O. The client gets the request from
//! [`Provider::build_stream_request`](super::Provider::build_stream_request) and sends it;
//! on a 2xx status it creates a [`StreamParser`] ([`Provider::stream_parser`](
//! super::Provider::stream_parser)) and hands it every chunk of the body as it arrives, in
//! chunks of any size ([`StreamParser::feed`] returns the [`StreamEvent`]s completed by the
//! chunk). A non-2xx status is read with [`Provider::parse_error`](super::Provider::parse_error)
//! as for a plain call. At the end of the body it calls [`StreamParser::finish`], which gives
//! the same [`ProviderReply`] the unstreamed call would give (content, finish reason, tool
//! calls, raw usage in the shape the cost module's normalizer for that provider reads), so a
//! streamed call gets the same receipt. When the host stops the stream early, the client
//! drops the connection and calls [`StreamParser::finish_early`] instead.
//!
//! | provider  | request                                                    | framing | terminal event            | usage |
//! |-----------|------------------------------------------------------------|---------|---------------------------|-------|
//! | openai    | `stream: true`, `stream_options: {"include_usage": true}`  | SSE     | `data: [DONE]`            | the chunk with `usage` (empty `choices`) |
//! | anthropic | `stream: true`                                             | SSE     | `message_stop`            | `message_start.message.usage` merged with `message_delta.usage` |
//! | google    | `models/{model}:streamGenerateContent?alt=sse`            | SSE     | a chunk with `finishReason` (or a blocked prompt) | the last `usageMetadata` |
//! | ollama    | `stream: true`                                             | NDJSON  | `"done": true`            | the counts of the done message ([`ollama::usage_from`](super::ollama::usage_from)) |
//!
//! Streaming requests also carry an `accept` header (`text/event-stream`, or
//! `application/x-ndjson` for Ollama).
//!
//! Errors (all `LLMRING_PROVIDER`, detail `provider`):
//! - a malformed event (not JSON, unexpected shape, invalid UTF-8, a line over
//!   [`MAX_LINE_BYTES`]): detail `stream: "malformed"`;
//! - an error event sent by the provider inside the stream (OpenAI/Gemini `{"error": ..}`,
//!   Anthropic `event: error`, Ollama `{"error": ".."}`): detail `stream: "error_event"` and
//!   `provider_error_type` when known;
//! - [`StreamParser::finish`] before the terminal event: the stream was cut; detail
//!   `stream: "cut"`. No receipt should be issued for it.
//!
//! After an error the parser stays failed: `feed` and `finish` return the same error.
//!
//! Events carry text as it arrives. Differences from the final reply: Anthropic's JSON-mode
//! answer (the forced tool of [`anthropic`](super::anthropic)) arrives as `Delta`s of the raw
//! tool input, while the final `content` is that JSON re-serialized compactly (as the
//! unstreamed parse gives it); Anthropic tool-call arguments are likewise re-serialized at
//! `finish`. OpenAI refusal text arrives as `Delta`s and is the content when there is no other.

mod anthropic;
mod decode;
mod google;
mod ollama;
mod openai;

use serde_json::{Map, Value, json};

pub use decode::MAX_LINE_BYTES;
use decode::{NdjsonDecoder, SseDecoder};

use super::{Endpoint, HttpRequest, Provider, ProviderReply};
use crate::chat::{ChatRequest, ChatResponse, ToolCall};
use crate::error::{Error, ErrorKind, Result};

/// Something the stream said, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More answer text.
    Delta { text: String },
    /// A tool call started or grew. `index` is the call's position in the final
    /// `tool_calls`; `id` and `name` come with the call's first delta (OpenAI, Anthropic) or
    /// its only one (Gemini, Ollama: the whole call at once); `arguments` is the next piece of
    /// the arguments JSON text (may be empty).
    ToolCallDelta {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    /// The provider's usage so far, raw, in the shape of the final reply's `usage` (for
    /// Anthropic the merged object). Later `Usage` events replace earlier ones.
    Usage(Value),
    /// The normalized finish reason, when the provider sends it.
    Finish(String),
    /// The provider's terminal event: the answer is complete.
    Done,
}

/// What a stream the host stopped early had given ([`StreamParser::finish_early`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PartialReply {
    /// The content and tool calls received so far, the finish reason if any, and whatever
    /// usage the provider reported (possibly partial: see `usage_complete`).
    pub reply: ProviderReply,
    /// Whether `reply.response.usage` is the provider's final usage for the call. When false
    /// the usage is missing or incomplete (e.g. Anthropic's `message_start` usage counts one
    /// output token) and the cost must be marked as estimated.
    pub usage_complete: bool,
    /// Whether the terminal event had arrived (then this equals what `finish` gives).
    pub complete: bool,
}

/// The streaming request for `req` (see the module documentation); same arguments and errors
/// as [`Provider::build_request`](super::Provider::build_request).
pub fn build_request(
    provider: Provider,
    req: &ChatRequest,
    model: &str,
    endpoint: &Endpoint,
) -> Result<HttpRequest> {
    match provider {
        Provider::OpenAi => {
            let mut http = super::openai::build_request(req, model, endpoint)?;
            if let Value::Object(body) = &mut http.body {
                body.insert("stream".into(), true.into());
                body.insert("stream_options".into(), json!({"include_usage": true}));
            }
            http.headers
                .push(("accept".into(), "text/event-stream".into()));
            Ok(http)
        }
        Provider::Anthropic => {
            let mut http = super::anthropic::build_request(req, model, endpoint)?;
            if let Value::Object(body) = &mut http.body {
                body.insert("stream".into(), true.into());
            }
            http.headers
                .push(("accept".into(), "text/event-stream".into()));
            Ok(http)
        }
        Provider::Google => super::google::build_request(req, model, endpoint, true),
        Provider::Ollama => super::ollama::build_request(req, model, endpoint, true),
    }
}

/// The state a stream has built up, shared by the provider modules.
#[derive(Debug, Default)]
struct Acc {
    content: String,
    /// OpenAI refusal text.
    refusal: String,
    tool_calls: Vec<ToolCall>,
    /// Per tool call, the provider's key for it (OpenAI `index`, Anthropic block index).
    tool_keys: Vec<usize>,
    /// The provider's own finish reason, as sent.
    finish_raw: Option<String>,
    /// The normalized finish reason when there is no raw one (a blocked Gemini prompt).
    finish_fixed: Option<String>,
    usage: Option<Value>,
    usage_final: bool,
    model: Option<String>,
    id: Option<String>,
    terminal: bool,
    /// Anthropic: content blocks by index.
    blocks: Vec<(usize, anthropic::Block)>,
    /// Anthropic: the JSON-mode tool's input text.
    json_answer: Option<String>,
}

impl Acc {
    fn set_once(slot: &mut Option<String>, value: Option<&str>) {
        if slot.is_none() {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                *slot = Some(v.to_owned());
            }
        }
    }
}

#[derive(Debug)]
enum Framing {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
}

/// An incremental parser of one streamed answer. Create it with [`StreamParser::new`] (or
/// `Provider::stream_parser`), [`feed`](StreamParser::feed) it the body's bytes, then call
/// [`finish`](StreamParser::finish) at the end of the body or
/// [`finish_early`](StreamParser::finish_early) when the host stopped the stream.
#[derive(Debug)]
pub struct StreamParser {
    provider: Provider,
    framing: Framing,
    acc: Acc,
    failed: Option<Error>,
}

impl StreamParser {
    pub fn new(provider: Provider) -> Self {
        let framing = match provider {
            Provider::Ollama => Framing::Ndjson(NdjsonDecoder::default()),
            _ => Framing::Sse(SseDecoder::default()),
        };
        StreamParser {
            provider,
            framing,
            acc: Acc::default(),
            failed: None,
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Reads the next bytes of the body (any size, split anywhere) and returns the events
    /// they complete. An error (malformed event, provider error event) is final.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<StreamEvent>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut out = Vec::new();
        match self.feed_inner(chunk, false, &mut out) {
            Ok(()) => Ok(out),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Whether the provider's terminal event has arrived.
    pub fn is_complete(&self) -> bool {
        self.acc.terminal
    }

    /// The raw usage received so far.
    pub fn usage(&self) -> Option<&Value> {
        self.acc.usage.as_ref()
    }

    /// The end of the body: the final reply, exactly as the unstreamed call's
    /// `parse_response` would give it. An event left without its final newline is read
    /// first. Errors: the parser's earlier error, a malformed last event, or a stream cut
    /// before its terminal event (detail `stream: "cut"`).
    pub fn finish(mut self) -> Result<ProviderReply> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut out = Vec::new();
        self.feed_inner(&[], true, &mut out)?;
        if !self.acc.terminal {
            return Err(self.cut_error());
        }
        let response = finalize(self.provider, &mut self.acc, true)?;
        Ok(ProviderReply {
            response,
            model: self.acc.model.take(),
            id: self.acc.id.take(),
        })
    }

    /// The host stopped the stream: what was received so far (bytes of an unfinished event
    /// are discarded), with the usage the provider had reported and whether it is final.
    /// Never fails: tool-call arguments that are not complete JSON are kept as received.
    pub fn finish_early(mut self) -> PartialReply {
        let response = finalize(self.provider, &mut self.acc, false)
            .expect("a lenient finalize does not fail");
        PartialReply {
            usage_complete: self.acc.usage_final && response.usage.is_some(),
            complete: self.acc.terminal,
            reply: ProviderReply {
                response,
                model: self.acc.model.take(),
                id: self.acc.id.take(),
            },
        }
    }

    fn feed_inner(&mut self, chunk: &[u8], end: bool, out: &mut Vec<StreamEvent>) -> Result<()> {
        let p = self.provider;
        match &mut self.framing {
            Framing::Sse(d) => {
                let mut events = Vec::new();
                let framed = if end {
                    d.flush(&mut events)
                } else {
                    d.push(chunk, &mut events)
                };
                // Events framed before a framing error (a later line of the chunk) are read
                // first, so the outcome does not depend on how the body was split into chunks.
                for ev in events {
                    let data = ev.data.as_str();
                    match p {
                        Provider::OpenAi => openai::on_event(&mut self.acc, data, out)?,
                        Provider::Anthropic => {
                            anthropic::on_event(&mut self.acc, ev.event.as_deref(), data, out)?
                        }
                        Provider::Google => google::on_event(&mut self.acc, data, out)?,
                        Provider::Ollama => unreachable!("ollama streams NDJSON"),
                    }
                }
                framed.map_err(|e| malformed(p, e))?;
            }
            Framing::Ndjson(d) => {
                let mut lines = Vec::new();
                let framed = if end {
                    d.flush(&mut lines)
                } else {
                    d.push(chunk, &mut lines)
                };
                for line in lines {
                    ollama::on_line(&mut self.acc, &line, out)?;
                }
                framed.map_err(|e| malformed(p, e))?;
            }
        }
        Ok(())
    }

    fn cut_error(&self) -> Error {
        let expected = match self.provider {
            Provider::OpenAi => "`data: [DONE]`",
            Provider::Anthropic => "`message_stop`",
            Provider::Google => "a chunk with `finishReason`",
            Provider::Ollama => "a message with `\"done\": true`",
        };
        let pending = match &self.framing {
            Framing::Sse(d) => d.has_pending(),
            Framing::Ndjson(d) => d.has_pending(),
        };
        let mid = if pending {
            " in the middle of an event"
        } else {
            ""
        };
        Error::new(
            ErrorKind::Provider,
            format!(
                "{}: the stream ended{mid} before its terminal event ({expected}); the answer is incomplete",
                self.provider.name()
            ),
        )
        .with("provider", self.provider.name())
        .with("stream", "cut")
    }
}

/// The reply from the accumulated state. `strict`: tool arguments that must be JSON are
/// checked (an error when not); otherwise they are kept as received.
fn finalize(provider: Provider, acc: &mut Acc, strict: bool) -> Result<ChatResponse> {
    let mut content = std::mem::take(&mut acc.content);
    let mut tool_calls = std::mem::take(&mut acc.tool_calls);
    let has_tools = !tool_calls.is_empty();
    let raw = acc.finish_raw.as_deref();
    let mut finish = match provider {
        Provider::OpenAi => raw.map(openai::map_finish),
        Provider::Anthropic => raw.map(|r| anthropic::map_finish(r, acc)),
        Provider::Google => raw.map(|r| super::google::map_finish_reason(r, has_tools)),
        Provider::Ollama => raw.map(|r| super::ollama::map_finish_reason(r, has_tools)),
    };
    if finish.is_none() {
        finish = acc.finish_fixed.clone();
    }
    match provider {
        Provider::OpenAi => {
            if content.is_empty() && !acc.refusal.is_empty() {
                content = std::mem::take(&mut acc.refusal);
            }
        }
        Provider::Anthropic => {
            for call in &mut tool_calls {
                match compact_json(&call.function.arguments) {
                    Some(v) => call.function.arguments = v,
                    None if strict => {
                        return Err(malformed(
                            provider,
                            format!(
                                "the input of tool call {:?} is not valid JSON",
                                call.function.name
                            ),
                        ));
                    }
                    None => {}
                }
            }
            if let Some(answer) = acc.json_answer.take() {
                content = match compact_json(&answer) {
                    Some(v) => v,
                    None if strict => {
                        return Err(malformed(provider, "the JSON answer is not valid JSON"));
                    }
                    None => answer,
                };
            }
        }
        Provider::Google | Provider::Ollama => {}
    }
    Ok(ChatResponse {
        content,
        finish_reason: finish,
        tool_calls,
        usage: acc.usage.take(),
    })
}

/// A JSON text re-serialized compactly (`{}` for an empty text); `None` when not JSON.
fn compact_json(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some("{}".to_owned());
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| v.to_string())
}

/// A stream event's JSON object, or a malformed-event error.
fn parse_object(provider: Provider, data: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(data) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(malformed(
            provider,
            format!("expected a JSON object, got {}", super::json_type(&other)),
        )),
        Err(e) => Err(malformed(
            provider,
            format!(
                "invalid JSON ({e}): {}",
                super::truncate_chars(&super::collapse_ws(data), 120)
            ),
        )),
    }
}

/// A provider module's unreadable-response error restated as a malformed stream event.
fn restate(provider: Provider, e: Error) -> Error {
    let prefix = format!("{}: unreadable response: ", provider.name());
    let what = e.message.strip_prefix(&prefix).unwrap_or(&e.message);
    malformed(provider, what)
}

fn malformed(provider: Provider, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Provider,
        format!("{}: malformed stream event: {what}", provider.name()),
    )
    .with("provider", provider.name())
    .with("stream", "malformed")
}

/// An error the provider sent inside the stream.
fn error_event(provider: Provider, message: &str, error_type: Option<&str>) -> Error {
    let mut e = Error::new(
        ErrorKind::Provider,
        format!(
            "{}: error event in the stream: {}",
            provider.name(),
            super::truncate_chars(message.trim(), super::MAX_EXCERPT_CHARS)
        ),
    )
    .with("provider", provider.name())
    .with("stream", "error_event");
    if let Some(t) = error_type {
        e = e.with("provider_error_type", t);
    }
    e
}

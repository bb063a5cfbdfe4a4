//! One streamed chat call: the same resolution, fallback, strict cost mode, pricing and
//! receipt as a plain call ([`super::call`]), with the answer handed to the host chunk by
//! chunk as it arrives.
//!
//! Chunks are JSON objects, one per piece of the answer:
//! - `{"delta": "text"}`: more answer text (never empty);
//! - `{"tool_call_delta": {"index": 0, "id": "call_1", "name": "get_weather", "arguments":
//!   "{\"ci"}}`: a tool call started or grew. `index` is the call's position in the final
//!   `tool_calls`; `id` and `name` come only with a call's first delta; `arguments` is the
//!   next piece of the arguments JSON text (possibly empty).
//!
//! Usage, finish reasons and the provider's terminal event are not chunks: they end up in
//! the final response, which is exactly what the plain call returns for the same answer (same
//! tokens, costs and receipt fields; only the receipt's id, timestamp and signature differ).
//!
//! Outcomes:
//! - the stream ends after the provider's terminal event: priced and receipted as a plain
//!   call;
//! - the stream fails (connection lost, malformed or error event, body ended before the
//!   terminal event: detail `stream: "cut"`): an error, and no receipt. Before the first chunk
//!   reached the host the request is retried and the next candidate model is tried as for a
//!   plain call; after it, neither (the host has already seen part of an answer);
//! - the host stops the stream (its callback returns false): the connection is closed and the
//!   call is priced from the usage the provider had reported. When that usage is missing or
//!   not final, the counts are estimated ([`estimate_usage`]) and `cost_status` is
//!   `estimated`, in the response and in the receipt; the response has `stopped_early: true`
//!   and its content is everything received before the connection closed (which may run past
//!   the last chunk delivered). In strict cost mode an estimated cost is refused at that
//!   point (`LLMRING_COST_UNKNOWN`, no receipt): whether the provider's usage will be known
//!   depends on when the host stops, so it cannot be refused before the stream starts.
//!
//! - the call is cancelled ([`crate::client::Client::cancel`] from another thread, for a stream
//!   started with [`crate::client::Client::chat_stream_with_id`]): the connection is closed at once,
//!   wherever the call waits (for the connection, the headers, the next chunk, a retry), and
//!   the result is a `Cancelled` error, with no fallback and no retry. Before any chunk
//!   reached the host, nothing is priced and no receipt is issued (the provider has reported
//!   no usage). After a chunk, the call is priced and receipted as when the host stops the
//!   stream (`stopped_early`, reported or estimated usage), so that every answer the provider
//!   began, and may bill, has its receipt; the error then carries that final response in its
//!   `response` detail (absent when strict cost mode refused an estimated cost).
//!
//! Budgets are reserved and settled as for a plain call (before each candidate's request;
//! released when it fails).
//!
//! The offline mock (`mock_response`) streams its whole answer as one `delta` chunk.

use serde_json::{Map, Value, json};

use super::Inner;
use super::budget;
use super::call::{self, Answer};
use super::inflight::CancellationToken;
use super::transport::{self, Delivery, StreamEnd, StreamFailure};
use crate::chat::{ChatRequest, ChatResponse};
use crate::cost::{self, Usage};
use crate::error::{ErrorKind, Result};
use crate::lockfile::{ModelRef, Resolution};
use crate::providers::mock;
use crate::providers::stream::{PartialReply, StreamEvent};
use crate::receipt;

/// A streamed chat call: `on_chunk` receives each chunk's JSON (see the module
/// documentation) and returns whether it wants more; `cancel` cancels the call. Returns the
/// final response JSON, as [`super::call::chat_json`] does.
pub async fn chat_stream_json(
    inner: &Inner,
    request: ChatRequest,
    on_chunk: &mut dyn FnMut(&str) -> bool,
    cancel: &CancellationToken,
) -> Result<String> {
    let started = std::time::Instant::now();
    if cancel.is_cancelled() {
        return Err(transport::cancelled_stream());
    }
    let resolution = call::resolve(inner, &request)?;
    let answer = if request.mock_response.is_some() {
        let answer = call::mock_answer(inner, &request, &resolution)?;
        if !answer.reply.content.is_empty() {
            // The whole answer is in this one chunk: stopping changes nothing.
            let _ = on_chunk(&json!({"delta": answer.reply.content}).to_string());
        }
        Streamed {
            answer,
            cancelled: false,
        }
    } else {
        streamed_answer(inner, &request, &resolution, on_chunk, cancel).await?
    };
    let finished =
        call::finish(inner, &resolution, answer.answer).map(|response| match &inner.server {
            Some(server) => server.after_call(&request, response, started),
            None => response,
        });
    if !answer.cancelled {
        return receipt::to_json(&finished?);
    }
    // Cancelled after a chunk: receipted (and reported to the server) as a stopped stream,
    // and an error for the host.
    Err(match finished {
        Ok(response) => transport::cancelled_stream().with("response", response),
        Err(refused) => transport::cancelled_stream().with("not_receipted", refused.to_json()),
    })
}

/// A streamed answer, and whether the call was cancelled after a chunk reached the host.
struct Streamed {
    answer: Answer,
    cancelled: bool,
}

/// Tries each candidate in order until one streams an answer; stops falling back once a chunk
/// has reached the host.
async fn streamed_answer(
    inner: &Inner,
    request: &ChatRequest,
    resolution: &Resolution,
    on_chunk: &mut dyn FnMut(&str) -> bool,
    cancel: &CancellationToken,
) -> Result<Streamed> {
    let mut failures = Vec::new();
    for candidate in &resolution.candidates {
        if cancel.is_cancelled() {
            return Err(transport::cancelled_stream());
        }
        // Reserved before any network traffic, as for a plain call.
        let hold = match budget::reserve(inner, request, resolution, candidate) {
            Ok(hold) => hold,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match attempt(inner, request, candidate, on_chunk, cancel).await {
            Ok(Streamed { answer, cancelled }) => {
                let answer = Answer { hold, ..answer };
                return Ok(Streamed { answer, cancelled });
            }
            Err(failure) => {
                budget::release(inner, hold);
                if failure.delivered || failure.error.kind == ErrorKind::Cancelled {
                    return Err(failure.error);
                }
                failures.push(failure.error);
            }
        }
    }
    Err(call::all_failed(resolution, failures))
}

async fn attempt(
    inner: &Inner,
    request: &ChatRequest,
    candidate: &ModelRef,
    on_chunk: &mut dyn FnMut(&str) -> bool,
    cancel: &CancellationToken,
) -> std::result::Result<Streamed, StreamFailure> {
    let undelivered = |error| StreamFailure {
        error,
        delivered: false,
    };
    let (provider, endpoint, policy) = call::prepare(inner, candidate).map_err(undelivered)?;
    let http_request = provider
        .build_stream_request(request, &candidate.model, &endpoint)
        .map_err(|e| undelivered(call::named(candidate, e)))?;
    let mut sink = |event: StreamEvent| match chunk_json(event) {
        None => Delivery::Skipped,
        Some(chunk) if on_chunk(&chunk) => Delivery::Continue,
        Some(_) => Delivery::Stop,
    };
    let end = transport::stream_with_retries(
        &inner.http,
        provider,
        &candidate.model,
        &http_request,
        endpoint.api_key.as_ref(),
        policy,
        inner.config.timeout(),
        &mut sink,
        cancel,
    )
    .await
    .map_err(|f| StreamFailure {
        error: call::named(candidate, f.error),
        delivered: f.delivered,
    })?;
    let (partial, cancelled) = match end {
        StreamEnd::Complete(reply) => {
            let answer = Answer::complete(candidate.clone(), reply.response, provider.name());
            return Ok(Streamed {
                answer,
                cancelled: false,
            });
        }
        StreamEnd::Stopped(partial) => (partial, false),
        StreamEnd::Cancelled(partial) => (partial, true),
    };
    let PartialReply {
        reply,
        usage_complete,
        complete,
    } = partial;
    let mut answer = Answer::complete(candidate.clone(), reply.response, provider.name());
    answer.stopped_early = !complete;
    if !complete && !usage_complete {
        let reported = answer
            .reply
            .usage
            .as_ref()
            .and_then(|raw| cost::normalize_usage(provider.name(), raw).ok())
            .flatten();
        answer.usage_override = Some(estimate_usage(request, &answer.reply, reported));
        answer.estimated = true;
    }
    Ok(Streamed { answer, cancelled })
}

/// The chunk JSON for an event, or `None` when the event is not a chunk for the host.
fn chunk_json(event: StreamEvent) -> Option<String> {
    let chunk = match event {
        StreamEvent::Delta { text } if !text.is_empty() => json!({ "delta": text }),
        StreamEvent::ToolCallDelta {
            index,
            id,
            name,
            arguments,
        } => {
            let mut call = Map::new();
            call.insert("index".into(), index.into());
            if let Some(id) = id {
                call.insert("id".into(), id.into());
            }
            if let Some(name) = name {
                call.insert("name".into(), name.into());
            }
            call.insert("arguments".into(), arguments.into());
            json!({ "tool_call_delta": Value::Object(call) })
        }
        _ => return None,
    };
    Some(chunk.to_string())
}

/// The usage of a stream stopped before the provider's final usage: the counts the provider
/// had `reported` where they are known (a prompt count, cache counts), else the offline mock's
/// estimates of the prompt ([`mock::estimate_prompt_tokens`]) and of the text and tool calls
/// received ([`mock::estimate_completion_tokens`]). The completion count is never below
/// what the provider had reported so far.
pub fn estimate_usage(
    request: &ChatRequest,
    received: &ChatResponse,
    reported: Option<Usage>,
) -> Usage {
    let mut text = received.content.clone();
    for call in &received.tool_calls {
        text.push_str(&call.function.name);
        text.push_str(&call.function.arguments);
    }
    let prompt = mock::estimate_prompt_tokens(request);
    let completion = mock::estimate_completion_tokens(&text);
    let mut usage = reported.unwrap_or_default();
    let cached = usage
        .cached_read_tokens
        .saturating_add(usage.cache_write_tokens());
    usage.prompt_tokens = Some(usage.prompt_tokens.unwrap_or(prompt).max(cached));
    usage.completion_tokens = usage
        .completion_tokens
        .max(completion)
        .max(usage.reasoning_tokens);
    usage
}

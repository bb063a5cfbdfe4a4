//! Streamed chat calls through the client, against stub providers on 127.0.0.1: for each of
//! the four providers a streamed call gets the same receipt as the same call unstreamed
//! (Gemini and Ollama plain calls included); chunks; missing usage; a stream cut in the middle
//! and malformed events are errors without a receipt; error statuses are retried like plain
//! calls; fallback only before the first chunk; events split across network reads; the host
//! stopping early (reported, partial or no usage; strict cost mode).
//!
//! wiremock sends a body in one piece; the tests that need a body spread over several network
//! reads (split events, a connection lost, a real early stop) use [`Trickle`], a small server
//! that writes a body piece by piece.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use llmring::ErrorKind;
use llmring::chat::ChatRequest;
use llmring::providers::mock;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum P {
    OpenAi,
    Anthropic,
    Google,
    Ollama,
}

impl P {
    fn alias(self) -> &'static str {
        match self {
            P::OpenAi => "fast",
            P::Anthropic => "claude",
            P::Google => "gemini",
            P::Ollama => "local",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            P::Ollama => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// The route of the plain call and the route of the streamed call.
    fn mocks(self, plain: Option<Vec<u8>>, stream: Option<ResponseTemplate>) -> Vec<Mock> {
        let mut mocks = Vec::new();
        let plain_ok =
            |body: Vec<u8>| ResponseTemplate::new(200).set_body_raw(body, "application/json");
        match self {
            P::Google => {
                if let Some(body) = plain {
                    mocks.push(
                        Mock::given(method("POST"))
                            .and(path("/v1beta/models/gemini-stub:generateContent"))
                            .respond_with(plain_ok(body)),
                    );
                }
                if let Some(t) = stream {
                    mocks.push(
                        Mock::given(method("POST"))
                            .and(path("/v1beta/models/gemini-stub:streamGenerateContent"))
                            .and(query_param("alt", "sse"))
                            .respond_with(t),
                    );
                }
            }
            _ => {
                let route = match self {
                    P::OpenAi => "/v1/chat/completions",
                    P::Anthropic => "/v1/messages",
                    _ => "/api/chat",
                };
                if let Some(t) = stream {
                    mocks.push(
                        Mock::given(method("POST"))
                            .and(path(route))
                            .and(body_partial_json(json!({"stream": true})))
                            .respond_with(t)
                            .with_priority(1),
                    );
                }
                if let Some(body) = plain {
                    mocks.push(
                        Mock::given(method("POST"))
                            .and(path(route))
                            .respond_with(plain_ok(body))
                            .with_priority(5),
                    );
                }
            }
        }
        mocks
    }

    fn stream_body(self, body: Vec<u8>) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw(body, self.content_type())
    }
}

/// A stub serving `plain` (unstreamed JSON) and `stream` (the streamed body) for `p`.
fn stub_for(p: P, plain: Option<&str>, stream: Option<Vec<u8>>) -> Stub {
    let stub = Stub::start();
    for m in p.mocks(plain.map(fixture), stream.map(|b| p.stream_body(b))) {
        stub.mount(m);
    }
    stub
}

/// Runs a streamed call; returns the chunks and the result.
fn stream_call(
    client: &llmring::client::Client,
    request_json: &str,
    stop_after: Option<usize>,
) -> (Vec<Value>, llmring::Result<String>) {
    let mut chunks = Vec::new();
    let result = client.chat_stream(request_json, |chunk| {
        chunks.push(parse(chunk));
        stop_after.is_none_or(|n| chunks.len() < n)
    });
    (chunks, result)
}

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

/// The plain and the streamed response of the same call agree on everything but the
/// receipt's id, timestamp and signature (and so its digest).
#[track_caller]
fn assert_same_call(plain: &Value, streamed: &Value) {
    for key in [
        "content",
        "model",
        "alias",
        "profile",
        "finish_reason",
        "tool_calls",
    ] {
        assert_eq!(plain[key], streamed[key], "{key}");
    }
    assert_eq!(
        without(&plain["usage"], &["receipt_digest"]),
        without(&streamed["usage"], &["receipt_digest"])
    );
    let id = ["receipt_id", "timestamp", "signature"];
    assert_eq!(
        without(&plain["receipt"], &id),
        without(&streamed["receipt"], &id)
    );
    assert_ne!(
        plain["receipt"]["receipt_id"],
        streamed["receipt"]["receipt_id"]
    );
    assert!(streamed.get("stopped_early").is_none());
}

/// (provider, stream fixture, the unstreamed fixture of the same answer)
const PAIRS: [(P, &str, &str); 10] = [
    (P::OpenAi, "stream/openai_text.sse", "openai/text.json"),
    (
        P::OpenAi,
        "stream/openai_tool_calls.sse",
        "openai/tool_calls.json",
    ),
    (
        P::Anthropic,
        "stream/anthropic_cache.sse",
        "anthropic/cache.json",
    ),
    (
        P::Anthropic,
        "stream/anthropic_tool_use.sse",
        "anthropic/tool_use.json",
    ),
    (
        P::Anthropic,
        "stream/anthropic_json_tool.sse",
        "anthropic/json_tool.json",
    ),
    (
        P::Google,
        "stream/google_thoughts_cached.sse",
        "google/thoughts_cached.json",
    ),
    (
        P::Google,
        "stream/google_function_call.sse",
        "google/function_call.json",
    ),
    (P::Ollama, "stream/ollama_text.ndjson", "ollama/text.json"),
    (
        P::Ollama,
        "stream/ollama_tool_calls.ndjson",
        "ollama/tool_calls.json",
    ),
    (
        P::Ollama,
        "stream/ollama_cached_prompt.ndjson",
        "ollama/cached_prompt.json",
    ),
];

#[test]
fn streamed_and_plain_calls_get_the_same_receipt() {
    for (p, stream, plain) in PAIRS {
        let started = Instant::now();
        let stub = stub_for(p, Some(plain), Some(fixture(stream)));
        let (private, public) = signing_key();
        let client = new_client(&config_all(&stub.uri(), json!({"signing_key": private})));
        let req = request(p.alias(), json!({}));
        let plain_text = client.chat(&req).unwrap();
        let (chunks, streamed_text) = stream_call(&client, &req, None);
        let streamed_text = streamed_text.unwrap_or_else(|e| panic!("{stream}: {}", e.to_json()));
        let (plain_v, streamed_v) = (parse(&plain_text), parse(&streamed_text));
        assert_same_call(&plain_v, &streamed_v);
        assert!(!chunks.is_empty(), "{stream}: no chunk");
        // Both receipts are signed, stored, and verify.
        let stored = client.receipts(None).unwrap();
        assert_eq!(stored.len(), 2, "{stream}");
        for r in &stored {
            assert_verifies(r, &public);
        }
        // The stream request asked for a stream (and, for OpenAI, for its usage).
        let requests = stub.requests();
        assert_eq!(requests.len(), 2, "{stream}: no retry, no extra request");
        let body: Value = serde_json::from_slice(&requests[1].body).unwrap();
        match p {
            P::OpenAi => {
                assert_eq!(body["stream"], true);
                assert_eq!(body["stream_options"]["include_usage"], true);
            }
            P::Anthropic | P::Ollama => assert_eq!(body["stream"], true),
            P::Google => assert_eq!(requests[1].url.query(), Some("alt=sse")),
        }
        eprintln!("{stream}: {:?}", started.elapsed());
    }
}

#[test]
fn gemini_and_ollama_plain_calls_are_priced() {
    let stub = stub_for(P::Google, Some("google/thoughts_cached.json"), None);
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let r = parse(&client.chat(&request("gemini", json!({}))).unwrap());
    assert_eq!(r["model"], "google:gemini-stub");
    assert_eq!(r["usage"]["cost_status"], "priced");
    assert_eq!(r["usage"]["cached_tokens"], 14000);
    assert!(dec(&r["usage"]["cost"]) > d("0"));
    let sent = &stub.requests()[0];
    assert_eq!(
        sent.headers
            .get("x-goog-api-key")
            .unwrap()
            .to_str()
            .unwrap(),
        GOOGLE_KEY
    );

    let stub = stub_for(P::Ollama, Some("ollama/text.json"), None);
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let r = parse(&client.chat(&request("local", json!({}))).unwrap());
    assert_eq!(r["model"], "ollama:llama-stub");
    assert_eq!(r["usage"]["cost_status"], "priced");

    // Ollama omits prompt_eval_count for a cached prompt: not billed as a silent zero.
    let stub = stub_for(P::Ollama, Some("ollama/cached_prompt.json"), None);
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let r = parse(&client.chat(&request("local", json!({}))).unwrap());
    assert_eq!(r["usage"]["prompt_tokens"], Value::Null);
    assert_eq!(r["usage"]["cost_status"], "partial_usage");
    assert_eq!(r["receipt"]["cost_status"], "partial_usage");
}

#[test]
fn chunks_carry_text_and_tool_call_deltas() {
    let stub = stub_for(P::OpenAi, None, Some(fixture("stream/openai_text.sse")));
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let (chunks, r) = stream_call(&client, &request("fast", json!({})), None);
    let r = parse(&r.unwrap());
    let text: String = chunks
        .iter()
        .map(|c| c["delta"].as_str().expect("a text delta"))
        .collect();
    assert_eq!(text, r["content"].as_str().unwrap());
    assert!(chunks.len() > 5, "one chunk per delta: {chunks:?}");
    assert!(chunks.iter().all(|c| c.as_object().unwrap().len() == 1));

    let stub = stub_for(
        P::OpenAi,
        None,
        Some(fixture("stream/openai_tool_calls.sse")),
    );
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let (chunks, r) = stream_call(&client, &request("fast", json!({})), None);
    let r = parse(&r.unwrap());
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["tool_call_delta"]).collect();
    assert!(deltas.iter().all(|d| d.is_object()), "{chunks:?}");
    let calls = r["tool_calls"].as_array().unwrap();
    for (i, call) in calls.iter().enumerate() {
        let mine: Vec<&&Value> = deltas.iter().filter(|d| d["index"] == i).collect();
        assert_eq!(mine[0]["id"], call["id"]);
        assert_eq!(mine[0]["name"], call["function"]["name"]);
        assert!(mine[1..].iter().all(|d| d.get("id").is_none()));
        let args: String = mine
            .iter()
            .map(|d| d["arguments"].as_str().unwrap())
            .collect();
        assert_eq!(args, call["function"]["arguments"].as_str().unwrap());
    }
}

#[test]
fn no_usage_event_means_no_usage() {
    for (p, stream) in [
        (P::OpenAi, "stream/openai_no_usage.sse"),
        (P::Anthropic, "stream/anthropic_no_usage.sse"),
        (P::Google, "stream/google_no_usage.sse"),
        (P::Ollama, "stream/ollama_no_usage.ndjson"),
    ] {
        let stub = stub_for(p, None, Some(fixture(stream)));
        let client = new_client(&config_all(&stub.uri(), json!({})));
        let (_, r) = stream_call(&client, &request(p.alias(), json!({})), None);
        let r = parse(&r.unwrap());
        assert_eq!(r["usage"]["cost_status"], "no_usage", "{stream}");
        assert_eq!(r["receipt"]["cost_status"], "no_usage", "{stream}");
        assert_amount(&r["usage"]["cost"], "0");
    }
    // The same answer unstreamed gets the same receipt.
    for (p, stream, plain) in [
        (
            P::OpenAi,
            "stream/openai_no_usage.sse",
            "openai/no_usage.json",
        ),
        (
            P::Anthropic,
            "stream/anthropic_no_usage.sse",
            "anthropic/no_usage.json",
        ),
    ] {
        let stub = stub_for(p, Some(plain), Some(fixture(stream)));
        let client = new_client(&config_all(&stub.uri(), json!({})));
        let req = request(p.alias(), json!({}));
        let a = parse(&client.chat(&req).unwrap());
        let b = parse(&stream_call(&client, &req, None).1.unwrap());
        assert_eq!(
            without(&a["receipt"], &["receipt_id", "timestamp"]),
            without(&b["receipt"], &["receipt_id", "timestamp"])
        );
    }
}

/// The stream fixture cut after its `n`-th event (blank-line separated for SSE, a line for
/// NDJSON), so that some chunks were delivered but not the terminal event.
fn cut_after_events(p: P, name: &str, n: usize) -> Vec<u8> {
    let text = String::from_utf8(fixture(name))
        .unwrap()
        .replace("\r\n", "\n");
    let sep = if p == P::Ollama { "\n" } else { "\n\n" };
    let events: Vec<&str> = text.split_inclusive(sep).collect();
    assert!(events.len() > n, "{name} has {} events", events.len());
    events[..n].concat().into_bytes()
}

#[test]
fn a_stream_cut_in_the_middle_is_an_error_without_receipt() {
    for (p, stream, events) in [
        (P::OpenAi, "stream/openai_text.sse", 4),
        (P::Anthropic, "stream/anthropic_cache.sse", 9),
        (P::Google, "stream/google_thoughts_cached.sse", 2),
        (P::Ollama, "stream/ollama_text.ndjson", 3),
    ] {
        let mut body = cut_after_events(p, stream, events);
        // Also in the middle of an event.
        for partial in [false, true] {
            if partial {
                body.extend_from_slice(b"data: {\"trunc");
            }
            let stub = stub_for(p, None, Some(body.clone()));
            let client = new_client(&config_all(&stub.uri(), json!({})));
            let (chunks, r) = stream_call(&client, &request(p.alias(), json!({})), None);
            let err = r.expect_err("a cut stream fails");
            assert_eq!(err.kind, ErrorKind::Provider, "{stream}: {}", err.to_json());
            // A half event at the very end is read as an event, and is malformed.
            let expected: &[&str] = if partial {
                &["cut", "malformed"]
            } else {
                &["cut"]
            };
            assert!(
                expected.iter().any(|e| err.details["stream"] == *e),
                "{stream}: {}",
                err.to_json()
            );
            assert_eq!(err.details["provider"], format!("{p:?}").to_lowercase());
            assert!(!chunks.is_empty(), "{stream}: chunks were delivered first");
            assert!(client.receipts(None).unwrap().is_empty(), "no receipt");
            assert_eq!(stub.requests().len(), 1, "{stream}: not retried");
            assert_no_secret(&err);
        }
    }
}

#[test]
fn malformed_events_are_errors_without_receipt() {
    let openai = b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: {not json}\n\ndata: [DONE]\n\n".to_vec();
    let anthropic = [
        cut_after_events(P::Anthropic, "stream/anthropic_cache.sse", 9),
        b"event: content_block_delta\ndata: [1, 2]\n\n".to_vec(),
    ]
    .concat();
    let ollama = [
        cut_after_events(P::Ollama, "stream/ollama_text.ndjson", 2),
        b"{\"model\":\n".to_vec(),
    ]
    .concat();
    for (p, body) in [
        (P::OpenAi, openai),
        (P::Anthropic, anthropic),
        (P::Ollama, ollama),
    ] {
        let stub = stub_for(p, None, Some(body));
        let client = new_client(&config_all(&stub.uri(), json!({})));
        let (_, r) = stream_call(&client, &request(p.alias(), json!({})), None);
        let err = r.expect_err("malformed");
        assert_eq!(err.kind, ErrorKind::Provider, "{p:?}");
        assert_eq!(
            err.details["stream"],
            "malformed",
            "{p:?}: {}",
            err.to_json()
        );
        assert!(client.receipts(None).unwrap().is_empty());
    }
}

#[test]
fn an_error_event_inside_the_stream_is_an_error() {
    let body = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".to_vec();
    let stub = stub_for(P::Anthropic, None, Some(body));
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let err = stream_call(&client, &request("claude", json!({})), None)
        .1
        .expect_err("error event");
    assert_eq!(err.details["stream"], "error_event", "{}", err.to_json());
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn error_statuses_are_parsed_and_retried_like_plain_calls() {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_raw(fixture("openai/error_500.json"), "application/json"),
            ),
    );
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let err = stream_call(&client, &request("fast", json!({})), None)
        .1
        .expect_err("500");
    assert_eq!(err.kind, ErrorKind::Provider);
    assert_eq!(err.details["http_status"], 500);
    assert_eq!(err.details["attempts"], 3);
    assert_eq!(stub.requests().len(), 3, "max_retries 2");
    assert_no_secret(&err);

    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_raw(fixture("anthropic/error_401.json"), "application/json"),
            ),
    );
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let err = stream_call(&client, &request("claude", json!({})), None)
        .1
        .expect_err("401");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(stub.requests().len(), 1, "not retried");
}

#[test]
fn fallback_happens_only_before_the_first_chunk() {
    // OpenAI fails before any chunk: the next model answers.
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_raw(fixture("openai/error_500.json"), "application/json"),
            ),
    );
    for m in P::Anthropic.mocks(
        None,
        Some(P::Anthropic.stream_body(fixture("stream/anthropic_cache.sse"))),
    ) {
        stub.mount(m);
    }
    let client = new_client(&config_all(&stub.uri(), json!({"max_retries": 0})));
    let (chunks, r) = stream_call(&client, &request("fallback", json!({})), None);
    let r = parse(&r.unwrap());
    assert_eq!(r["model"], "anthropic:claude-stub");
    assert!(!chunks.is_empty());

    // OpenAI is cut after chunks were delivered: an error, and Anthropic is never called.
    let stub = Stub::start();
    for m in P::OpenAi.mocks(
        None,
        Some(P::OpenAi.stream_body(cut_after_events(P::OpenAi, "stream/openai_text.sse", 4))),
    ) {
        stub.mount(m);
    }
    for m in P::Anthropic.mocks(
        None,
        Some(P::Anthropic.stream_body(fixture("stream/anthropic_cache.sse"))),
    ) {
        stub.mount(m);
    }
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let err = stream_call(&client, &request("fallback", json!({})), None)
        .1
        .expect_err("cut");
    assert_eq!(err.details["stream"], "cut");
    assert_eq!(err.details["provider"], "openai");
    let paths: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths, ["/v1/chat/completions"]);
}

fn estimated_prompt(req: &str) -> u64 {
    mock::estimate_prompt_tokens(&ChatRequest::from_json(req).unwrap())
}

#[test]
fn host_stopping_early_without_usage_is_estimated() {
    // OpenAI sends its usage last: stopped at the first chunk, there is none.
    let body = cut_after_events(P::OpenAi, "stream/openai_text.sse", 5);
    let stub = stub_for(P::OpenAi, None, Some(body));
    let (private, public) = signing_key();
    let client = new_client(&config_all(&stub.uri(), json!({"signing_key": private})));
    let req = request("fast", json!({}));
    let (chunks, r) = stream_call(&client, &req, Some(1));
    assert_eq!(chunks.len(), 1, "no chunk after stop");
    let r = parse(&r.unwrap());
    assert_eq!(r["stopped_early"], true);
    assert_eq!(r["usage"]["cost_status"], "estimated");
    assert_eq!(r["receipt"]["cost_status"], "estimated");
    let prompt = estimated_prompt(&req);
    let content = r["content"].as_str().unwrap();
    let completion = mock::estimate_completion_tokens(content);
    assert_eq!(r["usage"]["prompt_tokens"], prompt);
    assert_eq!(r["usage"]["completion_tokens"], completion);
    assert_eq!(r["receipt"]["prompt_tokens"], prompt);
    // Priced at the registry's rates (0.15 and 0.6 per million).
    let expected = (d("0.15") * rust_decimal::Decimal::from(prompt)
        + d("0.6") * rust_decimal::Decimal::from(completion))
        / d("1000000");
    assert_eq!(dec(&r["usage"]["cost"]), expected.normalize());
    let stored = client.receipts(None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_verifies(&stored[0], &public);

    // Ollama reports usage only in its done message.
    let body = cut_after_events(P::Ollama, "stream/ollama_text.ndjson", 3);
    let stub = stub_for(P::Ollama, None, Some(body));
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let r = parse(
        &stream_call(&client, &request("local", json!({})), Some(2))
            .1
            .unwrap(),
    );
    assert_eq!(r["usage"]["cost_status"], "estimated");
    assert_eq!(r["receipt"]["cost_status"], "estimated");
}

#[test]
fn host_stopping_early_with_partial_usage_keeps_the_reported_counts() {
    // Anthropic's message_start has the prompt counts; its output count is not final.
    let body = cut_after_events(P::Anthropic, "stream/anthropic_cache.sse", 9);
    let stub = stub_for(P::Anthropic, None, Some(body));
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let (chunks, r) = stream_call(&client, &request("claude", json!({})), Some(1));
    assert_eq!(chunks.len(), 1);
    let r = parse(&r.unwrap());
    assert_eq!(r["usage"]["cost_status"], "estimated");
    assert_eq!(r["usage"]["prompt_tokens"], 21 + 1800 + 14000);
    assert_eq!(r["usage"]["cached_tokens"], 14000);
    assert_eq!(r["receipt"]["cached_tokens"], 14000);
    let content = r["content"].as_str().unwrap();
    assert_eq!(
        r["usage"]["completion_tokens"],
        mock::estimate_completion_tokens(content).max(1)
    );
}

#[test]
fn host_stopping_early_after_final_usage_is_priced_from_it() {
    // OpenAI's usage chunk arrived (in the same read as the first delta), [DONE] did not.
    let text = String::from_utf8(fixture("stream/openai_text.sse")).unwrap();
    let body = text.replace("data: [DONE]\n\n", "").into_bytes();
    let stub = stub_for(P::OpenAi, None, Some(body));
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let r = parse(
        &stream_call(&client, &request("fast", json!({})), Some(1))
            .1
            .unwrap(),
    );
    assert_eq!(r["stopped_early"], true);
    assert_eq!(r["usage"]["cost_status"], "priced");
    assert_eq!(r["usage"]["prompt_tokens"], 19);
    assert_eq!(r["usage"]["completion_tokens"], 10);
    assert!(r["receipt"].get("cost_status").is_none());

    // Stopping at the last chunk of a complete stream changes nothing.
    let stub = stub_for(
        P::OpenAi,
        Some("openai/text.json"),
        Some(fixture("stream/openai_text.sse")),
    );
    let client = new_client(&config_all(&stub.uri(), json!({})));
    let req = request("fast", json!({}));
    let plain = parse(&client.chat(&req).unwrap());
    let (chunks, r) = stream_call(&client, &req, Some(1));
    assert_eq!(chunks.len(), 1);
    assert_same_call(&plain, &parse(&r.unwrap()));
}

#[test]
fn strict_cost_refuses_an_estimated_cost_at_the_end() {
    let body = cut_after_events(P::OpenAi, "stream/openai_text.sse", 5);
    let stub = stub_for(P::OpenAi, None, Some(body));
    let client = new_client(&config_all(&stub.uri(), json!({"strict_cost": true})));
    let (chunks, r) = stream_call(&client, &request("fast", json!({})), Some(1));
    assert_eq!(
        chunks.len(),
        1,
        "the stream started: the model can be priced"
    );
    let err = r.expect_err("strict");
    assert_eq!(err.kind, ErrorKind::CostUnknown);
    assert_eq!(err.details["cost_status"], "estimated");
    assert!(client.receipts(None).unwrap().is_empty());

    // A complete stream is priced exactly, and strict mode accepts it.
    let stub = stub_for(P::OpenAi, None, Some(fixture("stream/openai_text.sse")));
    let client = new_client(&config_all(&stub.uri(), json!({"strict_cost": true})));
    assert!(
        stream_call(&client, &request("fast", json!({})), None)
            .1
            .is_ok()
    );
}

#[test]
fn mock_streams_its_answer_in_one_chunk() {
    let client = new_client(&config_all(&closed_port_url(), json!({})));
    let req = request("fast", json!({"mock_response": "Hello mock"}));
    let plain = parse(&client.chat(&req).unwrap());
    let (chunks, r) = stream_call(&client, &req, None);
    assert_eq!(chunks, [json!({"delta": "Hello mock"})]);
    assert_same_call(&plain, &parse(&r.unwrap()));
}

// ---------------------------------------------------------------------------------------
// Bodies over several network reads
// ---------------------------------------------------------------------------------------

/// What [`Trickle`] answers one connection with.
#[derive(Clone)]
struct Script {
    content_type: &'static str,
    body: Vec<u8>,
    /// Bytes per write.
    piece: usize,
    gap: Duration,
    /// Send this `content-length` (more than the body: the connection is lost mid-body);
    /// `None`: no length, the body ends when the connection closes.
    declared_len: Option<usize>,
}

/// A raw HTTP server on 127.0.0.1 answering the n-th connection with the n-th script (the
/// last one repeats), writing the body piece by piece.
struct Trickle {
    url: String,
    connections: Arc<AtomicUsize>,
    /// A write failed: the client closed the connection before the body was sent.
    write_failed: Arc<AtomicBool>,
}

impl Trickle {
    fn start(scripts: Vec<Script>) -> Trickle {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let write_failed = Arc::new(AtomicBool::new(false));
        let (conns, failed) = (Arc::clone(&connections), Arc::clone(&write_failed));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = conns.fetch_add(1, Ordering::SeqCst);
                let script = scripts[n.min(scripts.len() - 1)].clone();
                let failed = Arc::clone(&failed);
                std::thread::spawn(move || {
                    if serve(stream, &script).is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                });
            }
        });
        Trickle {
            url,
            connections,
            write_failed,
        }
    }
}

fn serve(stream: std::net::TcpStream, s: &Script) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    let length = s
        .declared_len
        .map_or(String::new(), |n| format!("content-length: {n}\r\n"));
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\n{length}connection: close\r\n\r\n",
        s.content_type
    )?;
    stream.flush()?;
    for piece in s.body.chunks(s.piece) {
        std::thread::sleep(s.gap);
        stream.write_all(piece)?;
        stream.flush()?;
    }
    Ok(())
}

fn trickle_config(t: &Trickle) -> String {
    config_all(&t.url, json!({}))
}

#[test]
fn events_split_across_network_reads_give_the_same_receipt() {
    for (p, stream, plain, piece) in [
        (
            P::Anthropic,
            "stream/anthropic_cache.sse",
            "anthropic/cache.json",
            7,
        ),
        (
            P::OpenAi,
            "stream/openai_tool_calls.sse",
            "openai/tool_calls.json",
            13,
        ),
        (
            P::Ollama,
            "stream/ollama_text.ndjson",
            "ollama/text.json",
            5,
        ),
    ] {
        let t = Trickle::start(vec![Script {
            content_type: p.content_type(),
            body: fixture(stream),
            piece,
            gap: Duration::from_micros(200),
            declared_len: None,
        }]);
        let client = new_client(&trickle_config(&t));
        let req = request(p.alias(), json!({}));
        let (chunks, r) = stream_call(&client, &req, None);
        let streamed = parse(&r.unwrap_or_else(|e| panic!("{stream}: {}", e.to_json())));
        assert!(!chunks.is_empty());
        let stub = stub_for(p, Some(plain), None);
        let plain_client = new_client(&config_all(&stub.uri(), json!({})));
        let plain = parse(&plain_client.chat(&req).unwrap());
        assert_same_call(&plain, &streamed);
    }
}

#[test]
fn a_connection_lost_before_the_first_chunk_is_retried() {
    let body = fixture("stream/openai_text.sse");
    let t = Trickle::start(vec![
        Script {
            content_type: "text/event-stream",
            // Not even one whole event.
            body: body[..40].to_vec(),
            piece: 40,
            gap: Duration::ZERO,
            declared_len: Some(body.len()),
        },
        Script {
            content_type: "text/event-stream",
            body: body.clone(),
            piece: body.len(),
            gap: Duration::ZERO,
            declared_len: Some(body.len()),
        },
    ]);
    let client = new_client(&trickle_config(&t));
    let r = parse(
        &stream_call(&client, &request("fast", json!({})), None)
            .1
            .unwrap(),
    );
    assert_eq!(r["content"], "Hello! How can I assist you today?");
    assert_eq!(t.connections.load(Ordering::SeqCst), 2);
}

#[test]
fn a_connection_lost_after_a_chunk_is_an_error() {
    let body = fixture("stream/openai_text.sse");
    let t = Trickle::start(vec![Script {
        content_type: "text/event-stream",
        body: body[..body.len() / 2].to_vec(),
        piece: 200,
        gap: Duration::from_millis(1),
        declared_len: Some(body.len()),
    }]);
    let client = new_client(&trickle_config(&t));
    let (chunks, r) = stream_call(&client, &request("fast", json!({})), None);
    let err = r.expect_err("lost");
    assert!(!chunks.is_empty());
    assert_eq!(err.details["stream"], "cut", "{}", err.to_json());
    assert!(
        matches!(err.kind, ErrorKind::Network | ErrorKind::Provider),
        "{}",
        err.to_json()
    );
    assert!(client.receipts(None).unwrap().is_empty());
    assert_eq!(t.connections.load(Ordering::SeqCst), 1, "not retried");
}

#[test]
fn stopping_closes_the_connection_at_once() {
    // 200 pieces 20 ms apart: four seconds of stream.
    let mut body = Vec::new();
    for i in 0..200 {
        body.extend_from_slice(
            format!("data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}},\"finish_reason\":null}}]}}\n\n").as_bytes(),
        );
    }
    let piece = body.len() / 200;
    let t = Trickle::start(vec![Script {
        content_type: "text/event-stream",
        body,
        piece,
        gap: Duration::from_millis(20),
        declared_len: None,
    }]);
    let client = new_client(&trickle_config(&t));
    let started = Instant::now();
    let (chunks, r) = stream_call(&client, &request("fast", json!({})), Some(3));
    let r = parse(&r.unwrap());
    assert_eq!(chunks.len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r["usage"]["cost_status"], "estimated");
    assert!(r["content"].as_str().unwrap().starts_with("w0 w1 w2 "));
    // The server notices the closed connection (its writes fail) long before its end.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !t.write_failed.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        t.write_failed.load(Ordering::SeqCst),
        "the connection was closed"
    );
}

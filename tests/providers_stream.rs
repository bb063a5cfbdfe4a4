//! Streaming parsers for the four providers: a streamed answer gives the same reply (content,
//! finish reason, tool calls, raw usage) as the same answer unstreamed, whatever the chunking
//! (whole, byte by byte, random sizes, `\r\n` or `\n`); a stream cut before its terminal event,
//! malformed events and provider error events are errors; no usage event means no usage; a
//! stream the host stops early reports what it got and whether its usage is final.

use std::path::PathBuf;

use llmring::ErrorKind;
use llmring::chat::ChatRequest;
use llmring::cost;
use llmring::providers::stream::{StreamEvent, StreamParser};
use llmring::providers::{Endpoint, Provider, ProviderReply};
use serde_json::{Value, json};

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A small deterministic generator for chunk sizes.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, max: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + ((self.0 >> 33) as usize) % max
    }
}

/// Feeds `bytes` in chunks of the sizes `sizes` gives; returns the events and the result of
/// `finish`.
fn run(
    provider: Provider,
    bytes: &[u8],
    mut sizes: impl FnMut() -> usize,
) -> (Vec<StreamEvent>, llmring::Result<ProviderReply>) {
    let mut p = provider.stream_parser();
    let mut events = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = sizes().min(rest.len());
        match p.feed(&rest[..n]) {
            Ok(evs) => events.extend(evs),
            Err(e) => return (events, Err(e)),
        }
        rest = &rest[n..];
    }
    (events, p.finish())
}

fn whole(provider: Provider, bytes: &[u8]) -> (Vec<StreamEvent>, llmring::Result<ProviderReply>) {
    run(provider, bytes, || usize::MAX)
}

fn with_crlf(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    text.replace('\n', "\r\n").into_bytes()
}

fn with_lf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes()
}

/// (provider, stream fixture, the unstreamed fixture of the same answer)
const PAIRS: [(Provider, &str, &str); 9] = [
    (
        Provider::OpenAi,
        "stream/openai_text.sse",
        "openai/text.json",
    ),
    (
        Provider::OpenAi,
        "stream/openai_tool_calls.sse",
        "openai/tool_calls.json",
    ),
    (
        Provider::Anthropic,
        "stream/anthropic_cache.sse",
        "anthropic/cache.json",
    ),
    (
        Provider::Anthropic,
        "stream/anthropic_tool_use.sse",
        "anthropic/tool_use.json",
    ),
    (
        Provider::Anthropic,
        "stream/anthropic_json_tool.sse",
        "anthropic/json_tool.json",
    ),
    (
        Provider::Google,
        "stream/google_thoughts_cached.sse",
        "google/thoughts_cached.json",
    ),
    (
        Provider::Google,
        "stream/google_function_call.sse",
        "google/function_call.json",
    ),
    (
        Provider::Ollama,
        "stream/ollama_text.ndjson",
        "ollama/text.json",
    ),
    (
        Provider::Ollama,
        "stream/ollama_tool_calls.ndjson",
        "ollama/tool_calls.json",
    ),
];

#[test]
fn streamed_reply_equals_unstreamed_reply() {
    for (provider, stream, plain) in PAIRS {
        let expected = provider.parse_response(&fixture(plain)).unwrap();
        let bytes = fixture(stream);
        let (events, reply) = whole(provider, &bytes);
        let reply = reply.unwrap_or_else(|e| panic!("{stream}: {e}"));
        assert_eq!(reply, expected, "{stream}");
        assert!(
            expected.response.usage.is_some() && expected.model.is_some(),
            "{plain}"
        );
        // Same usage, so the same cost and the same receipt.
        let raw = reply.response.usage.as_ref().unwrap();
        assert_eq!(
            cost::normalize_usage(provider.name(), raw).unwrap(),
            cost::normalize_usage(provider.name(), expected.response.usage.as_ref().unwrap())
                .unwrap(),
            "{stream}"
        );

        // The events tell the same story.
        assert_eq!(events.last(), Some(&StreamEvent::Done), "{stream}");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Delta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        if stream.contains("json_tool") {
            // The raw tool input streams; the final content is the compact JSON.
            assert_eq!(
                serde_json::from_str::<Value>(&text).unwrap(),
                serde_json::from_str::<Value>(&reply.response.content).unwrap()
            );
        } else {
            assert_eq!(text, reply.response.content, "{stream}");
        }
        let last_usage = events.iter().rev().find_map(|e| match e {
            StreamEvent::Usage(u) => Some(u),
            _ => None,
        });
        assert_eq!(last_usage, reply.response.usage.as_ref(), "{stream}");
        let finish = events.iter().find_map(|e| match e {
            StreamEvent::Finish(f) => Some(f.as_str()),
            _ => None,
        });
        assert_eq!(finish, reply.response.finish_reason.as_deref(), "{stream}");
        let tool_starts = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::ToolCallDelta { name: Some(_), .. }))
            .count();
        assert_eq!(tool_starts, reply.response.tool_calls.len(), "{stream}");
    }
}

#[test]
fn chunking_and_line_endings_do_not_matter() {
    for (provider, stream, _) in PAIRS {
        let bytes = fixture(stream);
        let (ref_events, reply) = whole(provider, &bytes);
        let reference = reply.unwrap();
        let (events, r) = run(provider, &bytes, || 1);
        assert_eq!(r.unwrap(), reference, "{stream} byte by byte");
        // Events may be split differently only by chunking of nothing: each is whole.
        assert_eq!(events, ref_events, "{stream} byte by byte");
        for seed in 1..=20u64 {
            let mut rng = Lcg(seed);
            let (events, r) = run(provider, &bytes, || rng.next(97));
            assert_eq!(r.unwrap(), reference, "{stream} seed {seed}");
            assert_eq!(events, ref_events, "{stream} seed {seed}");
        }
        for variant in [with_crlf(&bytes), with_lf(&bytes)] {
            let mut rng = Lcg(7);
            let (_, r) = run(provider, &variant, || rng.next(13));
            assert_eq!(r.unwrap(), reference, "{stream} line endings");
        }
        // No final newline at all.
        let trimmed = String::from_utf8(bytes.clone()).unwrap();
        let (_, r) = whole(provider, trimmed.trim_end().as_bytes());
        assert_eq!(r.unwrap(), reference, "{stream} without the last newline");
    }
}

/// The byte offset just past the terminal event's marker.
fn terminal_end(provider: Provider, bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let marker = match provider {
        Provider::OpenAi => "data: [DONE]",
        Provider::Anthropic => r#"{"type":"message_stop"}"#,
        Provider::Google => "\"finishReason\"",
        Provider::Ollama => "\"done\":true",
    };
    let start = text.rfind(marker).expect("fixture has its terminal event");
    // The whole line holding the marker.
    start + text[start..].find('\n').unwrap_or(text.len() - start)
}

#[test]
fn a_stream_cut_before_its_terminal_event_is_an_error() {
    for (provider, stream, _) in PAIRS {
        let bytes = fixture(stream);
        let end = terminal_end(provider, &bytes);
        // Every prefix that lacks (part of) the terminal event: an error, never a reply.
        for cut in (0..end.saturating_sub(2)).step_by(5) {
            let (_, r) = whole(provider, &bytes[..cut]);
            let e = r.expect_err(&format!("{stream} cut at {cut}"));
            assert_eq!(e.kind, ErrorKind::Provider, "{stream} cut at {cut}: {e}");
            assert_eq!(e.details["provider"], json!(provider.name()));
            assert!(
                e.message.starts_with(&format!("{}: ", provider.name())),
                "{e}"
            );
        }
        // Cut exactly between events: the "cut" error.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let sep = if provider == Provider::Ollama {
            "\n"
        } else if text.contains("\r\n") {
            "\r\n\r\n"
        } else {
            "\n\n"
        };
        let line_start = text[..end].rfind(sep).unwrap() + sep.len();
        let (_, r) = whole(provider, &bytes[..line_start]);
        let e = r.unwrap_err();
        assert_eq!(e.details["stream"], json!("cut"), "{stream}: {e}");
        assert!(e.message.contains("before its terminal event"), "{e}");
    }
}

#[test]
fn malformed_events_are_provider_errors() {
    let cases: [(Provider, &[u8], &str); 10] = [
        (Provider::OpenAi, b"data: {not json}\n\n", "invalid JSON"),
        (
            Provider::OpenAi,
            b"data: {\"choices\":{}}\n\n",
            "`choices` is not an array",
        ),
        (
            Provider::OpenAi,
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":5}}]}\n\n",
            "`delta.content` is not a string",
        ),
        (
            Provider::Anthropic,
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
            "not started",
        ),
        (Provider::Anthropic, b"data: [1,2]\n\n", "expected a JSON object"),
        (Provider::Google, b"data: {\"candidates\": 5}\r\n\r\n", "not an array"),
        (Provider::Google, b"data: {\"candid\r\n\r\n", "invalid JSON"),
        (Provider::Ollama, b"{\"message\": \"x\"}\n", "`message` is not an object"),
        (Provider::Ollama, b"not json\n", "invalid JSON"),
        (Provider::Ollama, b"{\"done\": \"yes\"}\n", "`done` is not a boolean"),
    ];
    for (provider, bytes, needle) in cases {
        let mut p = provider.stream_parser();
        let e = p.feed(bytes).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider, "{needle}");
        assert_eq!(e.details["provider"], json!(provider.name()));
        assert_eq!(e.details["stream"], json!("malformed"));
        assert!(
            e.message
                .starts_with(&format!("{}: malformed stream event", provider.name())),
            "{e}"
        );
        assert!(e.message.contains(needle), "{needle}: {e}");
        // The parser stays failed.
        assert_eq!(p.feed(b"\n").unwrap_err(), e);
        assert_eq!(p.finish().unwrap_err(), e);
    }
    // Invalid UTF-8 in a line.
    let e = StreamParser::new(Provider::OpenAi)
        .feed(b"data: \xff\xfe\n\n")
        .unwrap_err();
    assert!(e.message.contains("UTF-8"), "{e}");
    // Anthropic tool input that is not JSON at the end of a complete stream.
    let bad = String::from_utf8(fixture("stream/anthropic_tool_use.sse"))
        .unwrap()
        .replace(r#"it\": \"celsius\"}"#, r#"it\": \"celsius\""#);
    let (_, r) = whole(Provider::Anthropic, bad.as_bytes());
    assert!(r.unwrap_err().message.contains("not valid JSON"));
}

#[test]
fn error_events_inside_a_stream() {
    let cases: [(Provider, &[u8], &str, Option<&str>); 4] = [
        (
            Provider::OpenAi,
            b"data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n",
            "The server had an error",
            Some("server_error"),
        ),
        (
            Provider::Anthropic,
            b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            "Overloaded",
            Some("overloaded_error"),
        ),
        (
            Provider::Google,
            b"data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n",
            "The model is overloaded.",
            Some("UNAVAILABLE"),
        ),
        (
            Provider::Ollama,
            b"{\"error\":\"an error was encountered while running the model\"}\n",
            "an error was encountered",
            None,
        ),
    ];
    for (provider, bytes, needle, error_type) in cases {
        let e = provider.stream_parser().feed(bytes).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider);
        assert_eq!(e.details["stream"], json!("error_event"));
        assert!(e.message.contains(needle), "{e}");
        assert_eq!(
            e.details.get("provider_error_type").and_then(Value::as_str),
            error_type
        );
    }
}

#[test]
fn no_usage_event_means_no_usage() {
    for (provider, stream, content) in [
        (
            Provider::OpenAi,
            "stream/openai_no_usage.sse",
            "Hello! How can I assist you today?",
        ),
        (
            Provider::Anthropic,
            "stream/anthropic_no_usage.sse",
            "Summary: the contract renews yearly.",
        ),
        (
            Provider::Google,
            "stream/google_no_usage.sse",
            "Summary: the contract renews yearly unless cancelled.",
        ),
        (
            Provider::Ollama,
            "stream/ollama_no_usage.ndjson",
            "Hello! How can I help you today?",
        ),
    ] {
        let (events, r) = whole(provider, &fixture(stream));
        let reply = r.unwrap_or_else(|e| panic!("{stream}: {e}"));
        assert_eq!(reply.response.content, content, "{stream}");
        assert_eq!(reply.response.usage, None, "{stream}");
        assert!(!events.iter().any(|e| matches!(e, StreamEvent::Usage(_))));
    }
}

#[test]
fn ollama_stream_without_prompt_count_keeps_it_absent() {
    let (_, r) = whole(
        Provider::Ollama,
        &fixture("stream/ollama_cached_prompt.ndjson"),
    );
    let reply = r.unwrap();
    let plain = Provider::Ollama
        .parse_response(&fixture("ollama/cached_prompt.json"))
        .unwrap();
    assert_eq!(reply, plain);
    assert_eq!(reply.response.usage, Some(json!({"eval_count": 4})));
    let u = cost::ollama_usage(reply.response.usage.as_ref().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(u.prompt_tokens, None);
}

#[test]
fn openai_tool_call_deltas() {
    let (events, _) = whole(Provider::OpenAi, &fixture("stream/openai_tool_calls.sse"));
    let mut args = [String::new(), String::new()];
    for e in &events {
        if let StreamEvent::ToolCallDelta {
            index, arguments, ..
        } = e
        {
            args[*index].push_str(arguments);
        }
    }
    assert_eq!(args[0], r#"{"location":"Paris, France","unit":"celsius"}"#);
    assert_eq!(args[1], r#"{"tz":"Europe/Paris"}"#);
    assert!(events.contains(&StreamEvent::ToolCallDelta {
        index: 1,
        id: Some("call_ABmO9pD3xa9XTPNJ32zg2hcB".into()),
        name: Some("get_time".into()),
        arguments: String::new(),
    }));
}

/// Feeds `bytes` up to the first occurrence of `until` (exclusive) and stops early.
fn stop_at(
    provider: Provider,
    bytes: &[u8],
    until: &str,
) -> llmring::providers::stream::PartialReply {
    let text = std::str::from_utf8(bytes).unwrap();
    let at = text.find(until).unwrap_or(text.len());
    let mut p = provider.stream_parser();
    let mut rng = Lcg(3);
    let mut rest = &bytes[..at];
    while !rest.is_empty() {
        let n = rng.next(11).min(rest.len());
        p.feed(&rest[..n]).unwrap();
        rest = &rest[n..];
    }
    p.finish_early()
}

#[test]
fn stopped_early_reports_what_was_received() {
    // Anthropic: message_start usage is there (input and cache counts) but not final.
    let bytes = fixture("stream/anthropic_cache.sse");
    let partial = stop_at(Provider::Anthropic, &bytes, "contract renews");
    assert_eq!(partial.reply.response.content, "Summary: the ");
    assert!(!partial.complete);
    assert!(!partial.usage_complete);
    let usage = partial.reply.response.usage.unwrap();
    assert_eq!(usage["cache_read_input_tokens"], json!(14000));
    assert_eq!(usage["output_tokens"], json!(1));
    assert_eq!(partial.reply.response.finish_reason, None);
    assert_eq!(
        partial.reply.model.as_deref(),
        Some("claude-opus-4-1-20250805")
    );

    // Anthropic, stopped in the middle of a tool call's input: kept as received.
    let bytes = fixture("stream/anthropic_tool_use.sse");
    let partial = stop_at(Provider::Anthropic, &bytes, "is, France");
    assert_eq!(
        partial.reply.response.tool_calls[0].function.arguments,
        r#"{"location": "Par"#
    );

    // OpenAI: usage only comes at the end.
    let bytes = fixture("stream/openai_text.sse");
    let partial = stop_at(Provider::OpenAi, &bytes, "\" assist\"");
    assert_eq!(partial.reply.response.content, "Hello! How can I");
    assert_eq!(partial.reply.response.usage, None);
    assert!(!partial.usage_complete);

    // Gemini: running usage is reported but not final until the finishing chunk.
    let bytes = fixture("stream/google_thoughts_cached.sse");
    let partial = stop_at(Provider::Google, &bytes, "yearly unless");
    assert!(partial.reply.response.usage.is_some());
    assert!(!partial.usage_complete);

    // Ollama: nothing until done.
    let bytes = fixture("stream/ollama_text.ndjson");
    let partial = stop_at(Provider::Ollama, &bytes, "\" help\"");
    assert_eq!(partial.reply.response.content, "Hello! How can I");
    assert_eq!(partial.reply.response.usage, None);

    // Stopped after the last event: the same as finish, usage final.
    for (provider, stream, _) in PAIRS {
        let bytes = fixture(stream);
        let (_, full) = whole(provider, &bytes);
        let mut p = provider.stream_parser();
        p.feed(&bytes).unwrap();
        assert!(p.is_complete());
        let partial = p.finish_early();
        assert!(partial.complete && partial.usage_complete, "{stream}");
        assert_eq!(partial.reply, full.unwrap(), "{stream}");
    }
}

#[test]
fn stream_requests() {
    let req = ChatRequest::from_json(
        r#"{"model":"m","system":"S","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"#,
    )
    .unwrap();
    let ep = |p: Provider| Endpoint::new(p.default_base_url(), Some("k-SECRET".into()));
    for p in Provider::ALL {
        let plain = p.build_request(&req, "mod", &ep(p)).unwrap();
        let streamed = p.build_stream_request(&req, "mod", &ep(p)).unwrap();
        let mut body = streamed.body.clone();
        let obj = body.as_object_mut().unwrap();
        match p {
            Provider::OpenAi => {
                assert_eq!(obj.remove("stream"), Some(json!(true)));
                assert_eq!(
                    obj.remove("stream_options"),
                    Some(json!({"include_usage": true}))
                );
                assert_eq!(streamed.url, plain.url);
                assert_eq!(streamed.header("accept"), Some("text/event-stream"));
            }
            Provider::Anthropic => {
                assert_eq!(obj.remove("stream"), Some(json!(true)));
                assert_eq!(streamed.url, plain.url);
                assert_eq!(streamed.header("accept"), Some("text/event-stream"));
            }
            Provider::Google => {
                assert_eq!(
                    streamed.url,
                    "https://generativelanguage.googleapis.com/v1beta/models/mod:streamGenerateContent?alt=sse"
                );
                assert_eq!(streamed.header("accept"), Some("text/event-stream"));
            }
            Provider::Ollama => {
                assert_eq!(obj.insert("stream".into(), json!(false)), Some(json!(true)));
                assert_eq!(plain.body["stream"], json!(false));
                assert_eq!(streamed.url, plain.url);
                assert_eq!(streamed.header("accept"), Some("application/x-ndjson"));
            }
        }
        assert_eq!(body, plain.body, "{p}");
        assert_eq!(streamed.auth, plain.auth, "{p}");
        assert!(!format!("{streamed:?}").contains("k-SECRET"));
    }
}

//! Provider mappings: exact request bodies, response and error parsing from fixture bodies,
//! secrets kept out of `Debug`, and the offline mock's estimator.

use std::path::PathBuf;

use llmring::ErrorKind;
use llmring::chat::{ChatRequest, ToolCall};
use llmring::providers::{Endpoint, HttpRequest, Provider, SecretString, anthropic, mock};
use serde_json::{Value, json};

const KEY: &str = "sk-test-SECRET-0123456789abcdef";

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn request(json: Value) -> ChatRequest {
    ChatRequest::from_json(&json.to_string()).expect("valid request")
}

fn endpoint(provider: Provider) -> Endpoint {
    Endpoint::new(
        format!("{}/", provider.default_base_url()),
        Some(KEY.to_owned()),
    )
}

fn build(provider: Provider, req: &ChatRequest, model: &str) -> HttpRequest {
    provider
        .build_request(req, model, &endpoint(provider))
        .expect("request builds")
}

/// A conversation with a system prompt, a tool call and its results, used for both providers.
fn tool_conversation() -> ChatRequest {
    request(json!({
        "model": "balanced",
        "system": "You are a weather bot.",
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Weather and time in Paris?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
                {"id": "call_2", "type": "function",
                 "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "18C, sunny"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "14:05"}]},
            {"role": "user", "content": "Thanks. And tomorrow?"}
        ],
        "tools": [
            {"type": "function", "function": {
                "name": "get_weather", "description": "Current weather",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                               "required": ["location"]},
                "strict": true}},
            {"type": "function", "function": {"name": "get_time"}}
        ],
        "tool_choice": "required",
        "metadata": {"ticket": 7},
        "profile": "prod"
    }))
}

// ---------------------------------------------------------------- OpenAI requests

#[test]
fn openai_request_basic() {
    let req = request(json!({
        "model": "fast", "system": "Be brief.", "temperature": 0.5, "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "Hi", "name": "alice"},
            {"role": "assistant", "content": "Hello"},
            {"role": "system", "content": "Mid-conversation note."},
            {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                          {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}
        ],
        "mock_response": "unused"
    }));
    let http = build(Provider::OpenAi, &req, "gpt-4o-mini");
    assert_eq!(http.method, "POST");
    assert_eq!(http.url, "https://api.openai.com/v1/chat/completions");
    assert_eq!(
        http.headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let auth = http.auth.as_ref().unwrap();
    assert_eq!(auth.name, "authorization");
    assert_eq!(auth.value.expose(), format!("Bearer {KEY}"));
    assert_eq!(
        http.body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi", "name": "alice"},
                {"role": "assistant", "content": "Hello"},
                {"role": "system", "content": "Mid-conversation note."},
                {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                              {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}
            ],
            "temperature": 0.5,
            "max_tokens": 64
        })
    );
    // Reasoning models take max_completion_tokens.
    let http = build(Provider::OpenAi, &req, "o4-mini");
    assert_eq!(http.body["max_completion_tokens"], json!(64));
    assert!(http.body.get("max_tokens").is_none());
}

#[test]
fn openai_request_tools_and_results() {
    let http = build(Provider::OpenAi, &tool_conversation(), "gpt-4.1");
    assert_eq!(
        http.body,
        json!({
            "model": "gpt-4.1",
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "Weather and time in Paris?"},
                {"role": "assistant", "content": "Let me check.", "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
                {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "14:05"}]},
                {"role": "user", "content": "Thanks. And tomorrow?"}
            ],
            "tools": [
                {"type": "function", "function": {
                    "name": "get_weather", "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                   "required": ["location"]},
                    "strict": true}},
                {"type": "function", "function": {"name": "get_time"}}
            ],
            "tool_choice": "required"
        })
    );
}

#[test]
fn openai_request_json_modes_pass_through() {
    let mut req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                                 "response_format": {"type": "json_object"}}),
    );
    assert_eq!(
        build(Provider::OpenAi, &req, "gpt-4o").body["response_format"],
        json!({"type": "json_object"})
    );
    let schema = json!({"type": "json_schema", "json_schema": {"name": "city", "strict": true,
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
                   "additionalProperties": false}}});
    req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": schema}),
    );
    assert_eq!(
        build(Provider::OpenAi, &req, "gpt-4o").body["response_format"],
        schema
    );
    // An assistant message with only tool calls has no content field.
    req = request(json!({"model": "m", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "done"}]}));
    let body = build(Provider::OpenAi, &req, "gpt-4o").body;
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
    );
}

#[test]
fn openai_without_key_sends_no_auth_header() {
    let req = ChatRequest::user("m", "x");
    let http = Provider::OpenAi
        .build_request(
            &req,
            "llama3",
            &Endpoint::new("http://127.0.0.1:8080/v1", None),
        )
        .unwrap();
    assert_eq!(http.url, "http://127.0.0.1:8080/v1/chat/completions");
    assert!(http.auth.is_none());
}

// ---------------------------------------------------------------- Anthropic requests

#[test]
fn anthropic_request_basic() {
    let req = request(json!({
        "model": "fast", "system": "Be brief.",
        "messages": [
            {"role": "system", "content": "Use British spelling."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": [
                {"type": "text", "text": "Describe these."},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://x.test/b.jpg"}}
            ]}
        ]
    }));
    let http = build(Provider::Anthropic, &req, "claude-haiku-4-5");
    assert_eq!(http.method, "POST");
    assert_eq!(http.url, "https://api.anthropic.com/v1/messages");
    assert_eq!(http.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(http.header("content-type"), Some("application/json"));
    let auth = http.auth.as_ref().unwrap();
    assert_eq!(
        (auth.name.as_str(), auth.value.expose()),
        ("x-api-key", KEY)
    );
    assert_eq!(
        http.body,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 4096,
            "system": "Be brief.\n\nUse British spelling.",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": [
                    {"type": "text", "text": "Describe these."},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/b.jpg"}}
                ]}
            ]
        })
    );
    assert_eq!(anthropic::DEFAULT_MAX_TOKENS, 4096);
    let mut req = req;
    req.max_tokens = Some(300);
    req.temperature = Some(0.0);
    let body = build(Provider::Anthropic, &req, "claude-haiku-4-5").body;
    assert_eq!(
        (body["max_tokens"].clone(), body["temperature"].clone()),
        (json!(300), json!(0.0))
    );
}

#[test]
fn anthropic_request_tools_and_results() {
    let http = build(
        Provider::Anthropic,
        &tool_conversation(),
        "claude-sonnet-4-5",
    );
    assert_eq!(
        http.body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "temperature": 0.2,
            "system": "You are a weather bot.\n\nAnswer in French.",
            "messages": [
                {"role": "user", "content": "Weather and time in Paris?"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"location": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "get_time", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18C, sunny"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "14:05"}]},
                    {"type": "text", "text": "Thanks. And tomorrow?"}
                ]}
            ],
            "tools": [
                {"name": "get_weather", "description": "Current weather",
                 "input_schema": {"type": "object", "properties": {"location": {"type": "string"}},
                                  "required": ["location"]}},
                {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
            ],
            "tool_choice": {"type": "any"}
        })
    );
}

#[test]
fn anthropic_tool_choice_conversion() {
    let cases = [
        (json!("auto"), json!({"type": "auto"})),
        (json!("none"), json!({"type": "none"})),
        (json!("required"), json!({"type": "any"})),
        (
            json!({"type": "function", "function": {"name": "f"}}),
            json!({"type": "tool", "name": "f"}),
        ),
    ];
    for (choice, expected) in cases {
        let req = request(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": choice}),
        );
        assert_eq!(
            build(Provider::Anthropic, &req, "c").body["tool_choice"],
            expected
        );
    }
}

#[test]
fn anthropic_json_modes() {
    // json_object: a system instruction.
    let req = request(
        json!({"model": "m", "system": "S.", "messages": [{"role": "user", "content": "x"}],
                             "response_format": {"type": "json_object"}}),
    );
    let body = build(Provider::Anthropic, &req, "c").body;
    assert_eq!(
        body["system"],
        json!(format!("S.\n\n{}", anthropic::JSON_OBJECT_INSTRUCTION))
    );
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());

    // json_schema without tools: a forced tool carrying the schema.
    let schema =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}}),
    );
    let body = build(Provider::Anthropic, &req, "c").body;
    assert_eq!(
        body,
        json!({
            "model": "c", "max_tokens": 4096,
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"name": "llmring_json_response", "description": "Return the answer as JSON (city).",
                       "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": "llmring_json_response"}
        })
    );

    // json_schema with the caller's tools: an instruction with the schema, tools untouched.
    let req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}}),
    );
    let body = build(Provider::Anthropic, &req, "c").body;
    assert_eq!(
        body["system"],
        json!(format!(
            "{} The JSON must conform to this JSON Schema: {}",
            anthropic::JSON_OBJECT_INSTRUCTION,
            schema
        ))
    );
    assert_eq!(
        body["tools"],
        json!([{"name": "f", "input_schema": {"type": "object", "properties": {}}}])
    );
}

#[test]
fn anthropic_system_parts_become_blocks() {
    let req = request(json!({"model": "m", "system": "A", "messages": [
        {"role": "system", "content": [{"type": "text", "text": "B", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "x"}]}));
    let body = build(Provider::Anthropic, &req, "c").body;
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "A"}, {"type": "text", "text": "B", "cache_control": {"type": "ephemeral"}}])
    );
}

#[test]
fn anthropic_request_errors() {
    let ep = endpoint(Provider::Anthropic);
    let cases = [
        (
            json!({"model": "m", "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}),
            "between 0 and 1",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "only system"}]}),
            "at least one user",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "assistant",
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]}),
            "not valid JSON",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                   "tools": [{"type": "function", "function": {"name": "llmring_json_response"}}]}),
            "reserved",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]},
                   {"role": "user", "content": "x"}]}),
            "system content parts must be text",
        ),
    ];
    for (json, needle) in cases {
        let req = request(json.clone());
        let e = Provider::Anthropic
            .build_request(&req, "c", &ep)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{json}: {e}");
        assert!(e.message.contains(needle), "{json}: {e}");
        assert_eq!(e.details["provider"], json!("anthropic"));
    }
}

// ---------------------------------------------------------------- responses

#[test]
fn openai_parses_text() {
    let reply = Provider::OpenAi
        .parse_response(&fixture("openai/text.json"))
        .unwrap();
    assert_eq!(reply.response.content, "Hello! How can I assist you today?");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    assert!(reply.response.tool_calls.is_empty());
    assert_eq!(reply.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(
        reply.id.as_deref(),
        Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT")
    );
    let raw: Value = serde_json::from_slice(&fixture("openai/text.json")).unwrap();
    assert_eq!(reply.response.usage.as_ref(), Some(&raw["usage"]));
}

#[test]
fn openai_parses_tool_calls() {
    let reply = Provider::OpenAi
        .parse_response(&fixture("openai/tool_calls.json"))
        .unwrap();
    assert_eq!(reply.response.content, "");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        reply.response.tool_calls,
        vec![
            ToolCall::function(
                "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                "get_weather",
                r#"{"location":"Paris, France","unit":"celsius"}"#
            ),
            ToolCall::function(
                "call_ABmO9pD3xa9XTPNJ32zg2hcB",
                "get_time",
                r#"{"tz":"Europe/Paris"}"#
            ),
        ]
    );
    assert_eq!(
        serde_json::to_value(&reply.response.tool_calls[1]).unwrap(),
        json!({"id": "call_ABmO9pD3xa9XTPNJ32zg2hcB", "type": "function",
               "function": {"name": "get_time", "arguments": "{\"tz\":\"Europe/Paris\"}"}})
    );
}

#[test]
fn openai_parses_cached_and_reasoning_usage_raw() {
    let reply = Provider::OpenAi
        .parse_response(&fixture("openai/cached_reasoning.json"))
        .unwrap();
    let usage = reply.response.usage.unwrap();
    assert_eq!(usage["prompt_tokens"], json!(2406));
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], json!(2048));
    assert_eq!(
        usage["completion_tokens_details"]["reasoning_tokens"],
        json!(1152)
    );
    assert_eq!(reply.response.finish_reason.as_deref(), Some("length"));
}

#[test]
fn openai_missing_usage_and_refusal() {
    let reply = Provider::OpenAi
        .parse_response(&fixture("openai/no_usage.json"))
        .unwrap();
    assert_eq!(reply.response.usage, None);
    assert_eq!(reply.response.content, "Hi there.");
    let reply = Provider::OpenAi
        .parse_response(
            br#"{"choices":[{"message":{"content":"x"},"finish_reason":null}],"usage":null}"#,
        )
        .unwrap();
    assert_eq!(
        (reply.response.usage, reply.response.finish_reason),
        (None, None)
    );
    let reply = Provider::OpenAi
        .parse_response(&fixture("openai/refusal.json"))
        .unwrap();
    assert_eq!(reply.response.content, "I'm sorry, I can't help with that.");
}

#[test]
fn anthropic_parses_text() {
    let reply = Provider::Anthropic
        .parse_response(&fixture("anthropic/text.json"))
        .unwrap();
    assert_eq!(reply.response.content, "Hello! How can I help?");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    assert_eq!(reply.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(reply.id.as_deref(), Some("msg_01XFDUDYJgAACzvnptvVoYEL"));
    let raw: Value = serde_json::from_slice(&fixture("anthropic/text.json")).unwrap();
    assert_eq!(reply.response.usage.as_ref(), Some(&raw["usage"]));
}

#[test]
fn anthropic_parses_tool_use() {
    let reply = Provider::Anthropic
        .parse_response(&fixture("anthropic/tool_use.json"))
        .unwrap();
    assert_eq!(reply.response.content, "I'll check the weather in Paris.");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(reply.response.tool_calls.len(), 1);
    let call = &reply.response.tool_calls[0];
    assert_eq!(
        (call.id.as_str(), call.kind.as_str()),
        ("toolu_01A09q90qw90lq917835lq9", "function")
    );
    assert_eq!(call.function.name, "get_weather");
    let args: Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(
        args,
        json!({"location": "Paris, France", "unit": "celsius"})
    );
}

#[test]
fn anthropic_parses_cache_usage_and_skips_thinking() {
    let reply = Provider::Anthropic
        .parse_response(&fixture("anthropic/cache.json"))
        .unwrap();
    assert_eq!(
        reply.response.content,
        "Summary: the contract renews yearly."
    );
    assert_eq!(reply.response.finish_reason.as_deref(), Some("length"));
    let usage = reply.response.usage.unwrap();
    assert_eq!(usage["cache_read_input_tokens"], json!(14000));
    assert_eq!(usage["cache_creation_input_tokens"], json!(1800));
    assert_eq!(
        usage["cache_creation"],
        json!({"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 300})
    );
}

#[test]
fn anthropic_missing_usage_and_stop_reasons() {
    let reply = Provider::Anthropic
        .parse_response(&fixture("anthropic/no_usage.json"))
        .unwrap();
    assert_eq!(reply.response.usage, None);
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    for (raw, normalized) in [
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
        ("max_tokens", "length"),
    ] {
        let body = json!({"type": "message", "content": [], "stop_reason": raw}).to_string();
        let reply = Provider::Anthropic.parse_response(body.as_bytes()).unwrap();
        assert_eq!(reply.response.finish_reason.as_deref(), Some(normalized));
    }
}

#[test]
fn anthropic_json_tool_answer_becomes_content() {
    let reply = Provider::Anthropic
        .parse_response(&fixture("anthropic/json_tool.json"))
        .unwrap();
    assert!(reply.response.tool_calls.is_empty());
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    let content: Value = serde_json::from_str(&reply.response.content).unwrap();
    assert_eq!(content, json!({"city": "Paris", "population": 2102650}));
}

#[test]
fn malformed_and_truncated_bodies_are_provider_errors() {
    let full = fixture("openai/text.json");
    let anthropic_full = fixture("anthropic/text.json");
    let cases: Vec<(Provider, Vec<u8>, &str)> = vec![
        (
            Provider::OpenAi,
            full[..full.len() / 2].to_vec(),
            "truncated JSON",
        ),
        (
            Provider::OpenAi,
            b"<html>oops</html>".to_vec(),
            "invalid JSON",
        ),
        (Provider::OpenAi, b"".to_vec(), "empty body"),
        (
            Provider::OpenAi,
            b"[1,2]".to_vec(),
            "expected a JSON object",
        ),
        (
            Provider::OpenAi,
            br#"{"choices":[]}"#.to_vec(),
            "`choices` is empty",
        ),
        (Provider::OpenAi, br#"{"id":"x"}"#.to_vec(), "no `choices`"),
        (
            Provider::OpenAi,
            br#"{"choices":[{"finish_reason":"stop"}]}"#.to_vec(),
            "message` is missing",
        ),
        (
            Provider::OpenAi,
            br#"{"error":{"message":"upstream failed"}}"#.to_vec(),
            "upstream failed",
        ),
        (
            Provider::Anthropic,
            anthropic_full[..anthropic_full.len() - 10].to_vec(),
            "truncated JSON",
        ),
        (
            Provider::Anthropic,
            b"\xff\xfe garbage".to_vec(),
            "invalid JSON",
        ),
        (
            Provider::Anthropic,
            br#"{"type":"message"}"#.to_vec(),
            "no `content`",
        ),
        (
            Provider::Anthropic,
            br#"{"content":[{"type":"text"}]}"#.to_vec(),
            "without `text`",
        ),
        (
            Provider::Anthropic,
            fixture("anthropic/error_529.json"),
            "Overloaded",
        ),
    ];
    for (provider, body, needle) in cases {
        let e = provider.parse_response(&body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider, "{provider}: {e}");
        assert_eq!(e.kind.name(), "LLMRING_PROVIDER");
        assert_eq!(e.details["provider"], json!(provider.name()), "{e}");
        assert!(e.message.starts_with(provider.name()), "{e}");
        assert!(e.message.contains(needle), "{provider} {needle:?}: {e}");
    }
}

// ---------------------------------------------------------------- error bodies

#[test]
fn openai_error_bodies() {
    let e = Provider::OpenAi.parse_error(401, &fixture("openai/error_401.json"));
    assert_eq!(
        (e.kind, e.retryable, e.status),
        (ErrorKind::Auth, false, 401)
    );
    assert!(
        e.message.starts_with("Incorrect API key provided"),
        "{}",
        e.message
    );
    assert_eq!(e.error_type.as_deref(), Some("invalid_request_error"));
    assert_eq!(e.code.as_deref(), Some("invalid_api_key"));

    let e = Provider::OpenAi.parse_error(429, &fixture("openai/error_429.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, true));
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));

    let e = Provider::OpenAi.parse_error(429, &fixture("openai/error_429_quota.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, false));

    let e = Provider::OpenAi.parse_error(500, &fixture("openai/error_500.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, true));
    assert_eq!(
        e.message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(e.code, None);

    let err = e.into_error();
    assert_eq!(err.kind, ErrorKind::Provider);
    assert_eq!(
        err.message,
        "openai returned HTTP 500: The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(err.details["provider"], json!("openai"));
    assert_eq!(err.details["http_status"], json!(500));
    assert_eq!(err.details["provider_error_type"], json!("server_error"));
}

#[test]
fn anthropic_error_bodies() {
    let cases = [
        (
            401,
            "anthropic/error_401.json",
            ErrorKind::Auth,
            false,
            "authentication_error",
            "invalid x-api-key",
        ),
        (
            429,
            "anthropic/error_429.json",
            ErrorKind::RateLimited,
            true,
            "rate_limit_error",
            "This request would exceed",
        ),
        (
            500,
            "anthropic/error_500.json",
            ErrorKind::Provider,
            true,
            "api_error",
            "Internal server error",
        ),
        (
            529,
            "anthropic/error_529.json",
            ErrorKind::Provider,
            true,
            "overloaded_error",
            "Overloaded",
        ),
    ];
    for (status, file, kind, retryable, error_type, message) in cases {
        let e = Provider::Anthropic.parse_error(status, &fixture(file));
        assert_eq!((e.kind, e.retryable), (kind, retryable), "{file}");
        assert_eq!(e.error_type.as_deref(), Some(error_type));
        assert!(e.message.starts_with(message), "{file}: {}", e.message);
        assert!(e.message.chars().count() <= llmring::providers::MAX_EXCERPT_CHARS + 1);
    }
}

#[test]
fn non_json_error_bodies() {
    for provider in [Provider::OpenAi, Provider::Anthropic] {
        let e = provider.parse_error(502, &fixture("bad_gateway_502.html"));
        assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, true));
        assert_eq!(e.message, "HTML page: 502 Bad Gateway");
        assert_eq!(e.error_type, None);

        let long = format!("upstream\n\n  exploded {}", "x".repeat(5000));
        let e = provider.parse_error(503, long.as_bytes());
        assert!(
            e.message.starts_with("upstream exploded xxx"),
            "{}",
            e.message
        );
        assert_eq!(
            e.message.chars().count(),
            llmring::providers::MAX_EXCERPT_CHARS + 1
        );
        assert!(e.message.ends_with('…'));

        let e = provider.parse_error(504, b"");
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Timeout, "(empty body)")
        );

        let e = provider.parse_error(400, b"\xff\xfe\x00binary");
        assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, false));

        // Compatible servers' simpler shapes.
        let e = provider.parse_error(404, br#"{"detail":"Not Found"}"#);
        assert_eq!(e.message, "Not Found");
        let e = provider.parse_error(400, br#"{"error":"model 'x' not found"}"#);
        assert_eq!(e.message, "model 'x' not found");
        let e = provider.parse_error(408, b"timeout");
        assert_eq!((e.kind, e.retryable), (ErrorKind::Timeout, true));
    }
}

#[test]
fn errors_can_redact_an_echoed_key() {
    let body = format!(
        r#"{{"error":{{"message":"bad key {KEY} given","type":"invalid_request_error"}}}}"#
    );
    let secret = SecretString::new(KEY);
    let e = Provider::OpenAi
        .parse_error(401, body.as_bytes())
        .redact(Some(&secret));
    assert_eq!(e.message, "bad key [redacted] given");
    assert!(!e.into_error().to_json().to_string().contains(KEY));
}

// ---------------------------------------------------------------- secrets

#[test]
fn debug_never_prints_the_key() {
    let ep = endpoint(Provider::OpenAi);
    let req = tool_conversation();
    let mut printed = vec![
        format!("{ep:?}"),
        format!("{ep:#?}"),
        format!("{:?}", SecretString::new(KEY)),
    ];
    for provider in [Provider::OpenAi, Provider::Anthropic] {
        let http = provider
            .build_request(&req, "m", &endpoint(provider))
            .unwrap();
        printed.push(format!("{http:?}"));
        printed.push(format!("{http:#?}"));
        printed.push(format!("{:?}", http.auth));
        printed.push(serde_json::to_string(&http.body).unwrap());
        printed.push(format!("{:?}", http.headers));
        // The transport does see it.
        assert!(http.headers_with_secret().any(|(_, v)| v.contains(KEY)));
        assert!(!http.headers.iter().any(|(_, v)| v.contains(KEY)));
    }
    for text in &printed {
        assert!(!text.contains(KEY), "key leaked: {text}");
        assert!(!text.contains("SECRET"), "key leaked: {text}");
    }
    assert!(printed[0].contains("[redacted]"), "{}", printed[0]);
    assert!(
        printed[0].contains("https://api.openai.com/v1/"),
        "{}",
        printed[0]
    );
}

// ---------------------------------------------------------------- provider table

#[test]
fn provider_table() {
    assert_eq!(Provider::from_name("openai").unwrap(), Provider::OpenAi);
    assert_eq!(
        Provider::from_name("anthropic").unwrap(),
        Provider::Anthropic
    );
    assert_eq!(Provider::from_name("google").unwrap(), Provider::Google);
    assert_eq!(Provider::from_name("ollama").unwrap(), Provider::Ollama);
    let e = Provider::from_name("openia").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(
        e.message.contains("\"openia\"") && e.message.contains("openai, anthropic, google, ollama"),
        "{e}"
    );
    for p in Provider::ALL {
        assert_eq!(Provider::from_name(p.name()).unwrap(), p);
    }
    assert_eq!(
        Provider::OpenAi.default_base_url(),
        "https://api.openai.com/v1"
    );
    assert_eq!(
        Provider::Anthropic.default_base_url(),
        "https://api.anthropic.com"
    );
    assert_eq!(
        Provider::Ollama.default_base_url(),
        "http://localhost:11434"
    );
    assert_eq!(Provider::OpenAi.api_key_env(), ["OPENAI_API_KEY"]);
    assert_eq!(Provider::Anthropic.api_key_env(), ["ANTHROPIC_API_KEY"]);
    assert_eq!(
        Provider::Google.api_key_env(),
        ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
    );
    assert_eq!(Provider::OpenAi.base_url_env(), Some("OPENAI_BASE_URL"));
    assert_eq!(
        Provider::Anthropic.base_url_env(),
        Some("ANTHROPIC_BASE_URL")
    );
    assert_eq!(Provider::Ollama.base_url_env(), Some("OLLAMA_BASE_URL"));
    assert!(!Provider::Ollama.requires_api_key());
    // Every provider is implemented (Google and Ollama: tests/providers_google_ollama.rs).
    for p in Provider::ALL {
        assert!(p.is_implemented(), "{p}");
    }
}

// ---------------------------------------------------------------- mock

#[test]
fn estimator_is_documented_and_deterministic() {
    assert_eq!(mock::estimate_text_tokens(""), 0);
    assert_eq!(mock::estimate_text_tokens("a"), 1);
    assert_eq!(mock::estimate_text_tokens("abcd"), 1);
    assert_eq!(mock::estimate_text_tokens("abcde"), 2);
    assert_eq!(mock::estimate_text_tokens("ééééé"), 2); // characters, not bytes

    // "Be brief." (9 chars → 3) + "Hello there, model!" (19 → 5): 2 messages × 4 + 8 + 3 priming.
    let req = request(json!({"model": "fast", "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello there, model!"}], "mock_response": "Hi! Nice to see you."}));
    assert_eq!(mock::estimate_prompt_tokens(&req), 19);
    let a = mock::reply(&req).unwrap();
    let b = mock::reply(&req.clone()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.content, "Hi! Nice to see you.");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        a.usage,
        Some(json!({"prompt_tokens": 19, "completion_tokens": 5, "total_tokens": 24}))
    );

    // Non-text parts count a flat amount; tool calls count their name and arguments.
    let req = request(json!({"model": "m", "mock_response": "", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "abcd"},
                                      {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    ]}));
    assert_eq!(
        mock::estimate_prompt_tokens(&req),
        3 + 4 + 1 + 85 + 4 + 1 + 1
    );
    assert_eq!(
        mock::reply(&req).unwrap().usage.unwrap()["completion_tokens"],
        json!(0)
    );
}

#[test]
fn mock_usage_is_validated_and_normalized() {
    let with = |usage: Value| {
        ChatRequest::from_json(
            &json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                    "mock_response": "ok", "mock_usage": usage})
            .to_string(),
        )
    };
    let req = with(json!({"prompt_tokens": 1000, "completion_tokens": 200, "cached_tokens": 800, "reasoning_tokens": 50})).unwrap();
    assert_eq!(
        mock::reply(&req).unwrap().usage,
        Some(
            json!({"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                    "prompt_tokens_details": {"cached_tokens": 800},
                    "completion_tokens_details": {"reasoning_tokens": 50}})
        )
    );
    let req = with(
        json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                          "prompt_tokens_details": {"cached_tokens": 4}}),
    )
    .unwrap();
    assert_eq!(
        mock::reply(&req).unwrap().usage,
        Some(
            json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                    "prompt_tokens_details": {"cached_tokens": 4}})
        )
    );
    let bad = [
        (
            json!({"prompt_tokens": 1}),
            "missing field `completion_tokens`",
        ),
        (
            json!({"prompt_tokens": -1, "completion_tokens": 1}),
            "non-negative integer",
        ),
        (
            json!({"prompt_tokens": 1.5, "completion_tokens": 1}),
            "non-negative integer",
        ),
        (
            json!({"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 3}),
            "must equal",
        ),
        (
            json!({"prompt_tokens": 1, "completion_tokens": 1, "cached_tokens": 2}),
            "cached tokens must not exceed",
        ),
        (
            json!({"prompt_tokens": 1, "completion_tokens": 1, "reasoning_tokens": 2}),
            "reasoning tokens must not exceed",
        ),
        (
            json!({"prompt_tokens": 1, "completion_tokens": 1, "input_tokens": 2}),
            "unknown field `input_tokens`",
        ),
        (
            json!({"prompt_tokens": 5, "completion_tokens": 1, "cached_tokens": 2, "prompt_tokens_details": {"cached_tokens": 2}}),
            "not both",
        ),
        (
            json!({"prompt_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": {"audio_tokens": 2}}),
            "unknown field `audio_tokens`",
        ),
        (json!("lots"), "must be a JSON object"),
    ];
    for (usage, needle) in bad {
        let e = with(usage.clone()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{usage}: {e}");
        assert!(e.message.contains(needle), "{usage}: {e}");
        assert!(e.message.contains("mock_usage"), "{usage}: {e}");
    }
    let e = mock::reply(&ChatRequest::user("m", "x")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

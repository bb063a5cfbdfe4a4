//! Google Gemini and Ollama mappings: exact request bodies, response and error parsing from
//! fixture bodies (text, tool calls, cached and thoughts usage, Ollama without
//! `prompt_eval_count`, blocked answers, malformed bodies, error bodies).

use std::path::PathBuf;

use llmring::ErrorKind;
use llmring::chat::{ChatRequest, ToolCall};
use llmring::cost;
use llmring::providers::{Endpoint, HttpRequest, Provider};
use serde_json::{Value, json};

const KEY: &str = "AIzaSy-test-SECRET-0123456789abcdef";

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn request(json: Value) -> ChatRequest {
    ChatRequest::from_json(&json.to_string()).expect("valid request")
}

fn build(provider: Provider, req: &ChatRequest, model: &str) -> HttpRequest {
    let key = (provider == Provider::Google).then(|| KEY.to_owned());
    provider
        .build_request(
            req,
            model,
            &Endpoint::new(format!("{}/", provider.default_base_url()), key),
        )
        .expect("request builds")
}

fn build_err(provider: Provider, req: &ChatRequest) -> llmring::Error {
    provider
        .build_request(req, "m", &Endpoint::new(provider.default_base_url(), None))
        .unwrap_err()
}

/// The same conversation tests/providers.rs uses for OpenAI and Anthropic.
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
                               "required": ["location"], "additionalProperties": false},
                "strict": true}},
            {"type": "function", "function": {"name": "get_time",
                "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": "required",
        "metadata": {"ticket": 7},
        "profile": "prod"
    }))
}

// ---------------------------------------------------------------- Google requests

#[test]
fn google_request_basic() {
    let req = request(json!({
        "model": "fast", "system": "Be brief.", "temperature": 0.5, "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "Hi", "name": "alice"},
            {"role": "assistant", "content": "Hello"},
            {"role": "system", "content": [{"type": "text", "text": "Mid-conversation note."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.JPG?size=2"}}
            ]}
        ],
        "mock_response": "unused"
    }));
    let http = build(Provider::Google, &req, "gemini-2.5-flash");
    assert_eq!(http.method, "POST");
    assert_eq!(
        http.url,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        http.headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let auth = http.auth.as_ref().unwrap();
    assert_eq!(auth.name, "x-goog-api-key");
    assert_eq!(auth.value.expose(), KEY);
    assert!(!format!("{http:?}").contains(KEY));
    assert!(!http.url.contains(KEY));
    assert_eq!(
        http.body,
        json!({
            "systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Mid-conversation note."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Hello"}]},
                {"role": "user", "parts": [
                    {"text": "What is this?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    {"fileData": {"fileUri": "https://x.test/a.JPG?size=2", "mimeType": "image/jpeg"}}
                ]}
            ],
            "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64}
        })
    );
    // A `models/` prefix is not doubled; no key, no auth header.
    let http = Provider::Google
        .build_request(
            &req,
            "models/gemini-2.0-flash",
            &Endpoint::new("http://127.0.0.1:9/v1beta", None),
        )
        .unwrap();
    assert_eq!(
        http.url,
        "http://127.0.0.1:9/v1beta/models/gemini-2.0-flash:generateContent"
    );
    assert!(http.auth.is_none());
}

#[test]
fn google_request_tools_and_results() {
    let http = build(Provider::Google, &tool_conversation(), "gemini-2.5-pro");
    assert_eq!(
        http.body,
        json!({
            "systemInstruction": {"parts": [{"text": "You are a weather bot."}, {"text": "Answer in French."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Weather and time in Paris?"}]},
                {"role": "model", "parts": [
                    {"text": "Let me check."},
                    {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}},
                    {"functionCall": {"name": "get_time", "args": {}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"content": "18C, sunny"}}},
                    {"functionResponse": {"name": "get_time", "response": {"content": "14:05"}}},
                    {"text": "Thanks. And tomorrow?"}
                ]}
            ],
            "generationConfig": {"temperature": 0.2},
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Current weather",
                 "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                "required": ["location"]}},
                {"name": "get_time"}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}
        })
    );
}

#[test]
fn google_tool_result_json_and_tool_choice() {
    let base = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "tool_calls": [{"id": "c9", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]},
            {"role": "tool", "tool_call_id": "c9", "content": "{\"rows\": [1, 2]}"}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup"}},
                  {"type": "function", "function": {"name": "other"}}]
    });
    let http = build(Provider::Google, &request(base.clone()), "m");
    assert_eq!(
        http.body["contents"][1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": 1}}}]})
    );
    assert_eq!(
        http.body["contents"][2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "lookup", "response": {"rows": [1, 2]}}}
        ]})
    );
    assert!(http.body.get("toolConfig").is_none());
    let cases = [
        (json!("auto"), json!({"mode": "AUTO"})),
        (json!("none"), json!({"mode": "NONE"})),
        (json!("required"), json!({"mode": "ANY"})),
        (
            json!({"type": "function", "function": {"name": "other"}}),
            json!({"mode": "ANY", "allowedFunctionNames": ["other"]}),
        ),
    ];
    for (choice, expected) in cases {
        let mut r = base.clone();
        r["tool_choice"] = choice;
        let http = build(Provider::Google, &request(r), "m");
        assert_eq!(
            http.body["toolConfig"],
            json!({"functionCallingConfig": expected})
        );
    }
}

#[test]
fn google_json_modes() {
    let mut r = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                       "response_format": {"type": "json_object"}});
    let http = build(Provider::Google, &request(r.clone()), "m");
    assert_eq!(
        http.body["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    r["response_format"] = json!({"type": "json_schema", "json_schema": {
        "name": "city", "strict": true,
        "schema": {"type": "object", "additionalProperties": false,
                   "properties": {"name": {"type": "string"},
                                  "population": {"type": ["integer", "null"]},
                                  "country": {"$ref": "#/$defs/country"}},
                   "required": ["name"],
                   "$defs": {"country": {"type": "string", "enum": ["FR", "DE"]}}}}});
    r["max_tokens"] = json!(100);
    let http = build(Provider::Google, &request(r.clone()), "m");
    assert_eq!(
        http.body["generationConfig"],
        json!({
            "maxOutputTokens": 100,
            "responseMimeType": "application/json",
            "responseSchema": {
                "type": "object",
                "properties": {"name": {"type": "string"},
                               "population": {"type": "integer", "nullable": true},
                               "country": {"type": "string", "enum": ["FR", "DE"]}},
                "required": ["name"]
            }
        })
    );
    // A json_schema without a schema is plain JSON mode.
    r["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "any"}});
    let http = build(Provider::Google, &request(r), "m");
    assert_eq!(
        http.body["generationConfig"],
        json!({"maxOutputTokens": 100, "responseMimeType": "application/json"})
    );
}

#[test]
fn google_request_errors() {
    let cases = [
        (
            json!({"model": "m", "messages": [
                {"role": "user", "content": "x"},
                {"role": "tool", "tool_call_id": "nope", "content": "r"}]}),
            "\"nope\"",
        ),
        (
            json!({"model": "m", "messages": [
                {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                    "function": {"name": "f", "arguments": "{oops"}}]}]}),
            "messages[0].tool_calls[0].function.arguments is not valid JSON",
        ),
        (
            json!({"model": "m", "messages": [
                {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                    "function": {"name": "f", "arguments": "[1]"}}]}]}),
            "must be a JSON object",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
            "input_audio",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "only system"}]}),
            "at least one user or assistant message",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                   "response_format": {"type": "json_schema", "json_schema": {"name": "n",
                       "schema": {"$ref": "#/$defs/n", "$defs": {"n": {"type": "object",
                           "properties": {"next": {"$ref": "#/$defs/n"}}}}}}}}),
            "recursive",
        ),
    ];
    for (json, needle) in cases {
        let e = build_err(Provider::Google, &request(json.clone()));
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{json}: {e}");
        assert!(e.message.contains(needle), "{json}: {e}");
        assert_eq!(e.details["provider"], json!("google"));
    }
}

// ---------------------------------------------------------------- Google responses

#[test]
fn google_parses_text() {
    let reply = Provider::Google
        .parse_response(&fixture("google/text.json"))
        .unwrap();
    assert_eq!(reply.response.content, "Hello! How can I help?");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    assert!(reply.response.tool_calls.is_empty());
    assert_eq!(reply.model.as_deref(), Some("gemini-2.0-flash"));
    assert_eq!(reply.id.as_deref(), Some("mQZtaJ3jEsqUkdUPk7ue8AQ"));
    let raw: Value = serde_json::from_slice(&fixture("google/text.json")).unwrap();
    assert_eq!(reply.response.usage.as_ref(), Some(&raw["usageMetadata"]));
}

#[test]
fn google_parses_function_calls() {
    let reply = Provider::Google
        .parse_response(&fixture("google/function_call.json"))
        .unwrap();
    assert_eq!(reply.response.content, "I'll check both.");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        reply.response.tool_calls,
        vec![
            ToolCall::function(
                "call_fc7x9QqB_0",
                "get_weather",
                r#"{"location":"Paris, France","unit":"celsius"}"#
            ),
            ToolCall::function("call_fc7x9QqB_1", "get_time", r#"{"tz":"Europe/Paris"}"#),
        ]
    );
}

#[test]
fn google_parses_cached_and_thoughts_usage_raw() {
    let reply = Provider::Google
        .parse_response(&fixture("google/thoughts_cached.json"))
        .unwrap();
    // The thought summary is not part of the answer.
    assert_eq!(
        reply.response.content,
        "Summary: the contract renews yearly unless cancelled."
    );
    assert_eq!(reply.response.finish_reason.as_deref(), Some("length"));
    let usage = reply.response.usage.unwrap();
    assert_eq!(usage["cachedContentTokenCount"], json!(14000));
    assert_eq!(usage["thoughtsTokenCount"], json!(1024));
    let u = cost::google_usage(&usage).unwrap().unwrap();
    assert_eq!(u.prompt_tokens, Some(15820));
    assert_eq!(u.cached_read_tokens, 14000);
    assert_eq!(u.completion_tokens, 12 + 1024);
    assert_eq!(u.reasoning_tokens, 1024);
}

#[test]
fn google_blocked_answers() {
    let reply = Provider::Google
        .parse_response(&fixture("google/safety.json"))
        .unwrap();
    assert_eq!(reply.response.content, "");
    assert_eq!(
        reply.response.finish_reason.as_deref(),
        Some("content_filter")
    );
    assert_eq!(reply.response.usage.unwrap()["promptTokenCount"], json!(11));

    let reply = Provider::Google
        .parse_response(&fixture("google/blocked_prompt.json"))
        .unwrap();
    assert_eq!(reply.response.content, "");
    assert_eq!(
        reply.response.finish_reason.as_deref(),
        Some("content_filter")
    );
    assert_eq!(reply.response.usage.unwrap()["promptTokenCount"], json!(7));
    assert_eq!(reply.id.as_deref(), Some("bLoCk001"));

    for (reason, expected) in [
        ("RECITATION", "content_filter"),
        ("OTHER", "OTHER"),
        ("MALFORMED_FUNCTION_CALL", "MALFORMED_FUNCTION_CALL"),
    ] {
        let body = json!({"candidates": [{"content": {"parts": [{"text": "a"}], "role": "model"},
                                          "finishReason": reason}]});
        let reply = Provider::Google
            .parse_response(body.to_string().as_bytes())
            .unwrap();
        assert_eq!(reply.response.finish_reason.as_deref(), Some(expected));
        assert_eq!(reply.response.usage, None);
    }
}

#[test]
fn google_malformed_bodies() {
    let full = fixture("google/text.json");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (full[..full.len() / 2].to_vec(), "truncated JSON"),
        (b"".to_vec(), "empty body"),
        (b"<html>oops</html>".to_vec(), "invalid JSON"),
        (b"[1]".to_vec(), "expected a JSON object"),
        (b"{}".to_vec(), "no `candidates`"),
        (br#"{"candidates": {}}"#.to_vec(), "not an array"),
        (
            br#"{"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]}"#
                .to_vec(),
            "has no `name`",
        ),
        (
            br#"{"error": {"code": 500, "message": "boom"}}"#.to_vec(),
            "boom",
        ),
    ];
    for (body, needle) in cases {
        let e = Provider::Google.parse_response(&body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider, "{needle}");
        assert_eq!(e.details["provider"], json!("google"));
        assert!(e.message.contains(needle), "{needle}: {e}");
        assert!(e.message.starts_with("google: "), "{e}");
    }
}

#[test]
fn google_error_bodies() {
    let e = Provider::Google.parse_error(400, &fixture("google/error_400.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, false));
    assert_eq!(
        e.message,
        "* GenerateContentRequest.contents: contents is not specified"
    );
    assert_eq!(e.error_type.as_deref(), Some("INVALID_ARGUMENT"));
    assert_eq!(e.code.as_deref(), Some("400"));

    let e = Provider::Google.parse_error(400, &fixture("google/error_400_api_key.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::Auth, false));
    assert!(e.message.starts_with("API key not valid"));

    let e = Provider::Google.parse_error(429, &fixture("google/error_429.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, true));
    assert_eq!(e.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));

    let e = Provider::Google.parse_error(503, &fixture("google/error_503_array.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, true));
    assert_eq!(
        e.message,
        "The model is overloaded. Please try again later."
    );
    let err = e.into_error();
    assert_eq!(
        err.message,
        "google returned HTTP 503: The model is overloaded. Please try again later."
    );
    assert_eq!(err.details["provider_error_type"], json!("UNAVAILABLE"));

    let e = Provider::Google.parse_error(502, &fixture("bad_gateway_502.html"));
    assert_eq!(e.message, "HTML page: 502 Bad Gateway");
}

// ---------------------------------------------------------------- Ollama requests

#[test]
fn ollama_request_basic() {
    let req = request(json!({
        "model": "local", "system": "Be brief.", "temperature": 0.7, "max_tokens": 32,
        "messages": [
            {"role": "user", "content": "Hi", "name": "alice"},
            {"role": "assistant", "content": "Hello"},
            {"role": "system", "content": "Mid-conversation note."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is "},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "text", "text": "this?"}
            ]}
        ]
    }));
    let http = build(Provider::Ollama, &req, "llama3.2");
    assert_eq!(http.url, "http://localhost:11434/api/chat");
    assert_eq!(
        http.headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    assert!(http.auth.is_none());
    assert_eq!(
        http.body,
        json!({
            "model": "llama3.2",
            "stream": false,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "system", "content": "Mid-conversation note."},
                {"role": "user", "content": "What is this?", "images": ["iVBORw0KGgo="]}
            ],
            "options": {"temperature": 0.7, "num_predict": 32}
        })
    );
    // An image by URL cannot be sent to Ollama.
    let e = build_err(
        Provider::Ollama,
        &request(
            json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}]}),
        ),
    );
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("data:"), "{e}");
}

#[test]
fn ollama_request_tools_and_results() {
    let http = build(Provider::Ollama, &tool_conversation(), "qwen3:8b");
    assert_eq!(
        http.body,
        json!({
            "model": "qwen3:8b",
            "stream": false,
            "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "Weather and time in Paris?"},
                {"role": "assistant", "content": "Let me check.", "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"location": "Paris"}}},
                    {"function": {"name": "get_time", "arguments": {}}}
                ]},
                {"role": "tool", "content": "18C, sunny", "tool_name": "get_weather"},
                {"role": "tool", "content": "14:05", "tool_name": "get_time"},
                {"role": "user", "content": "Thanks. And tomorrow?"}
            ],
            "tools": [
                {"type": "function", "function": {
                    "name": "get_weather", "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                   "required": ["location"], "additionalProperties": false}}},
                {"type": "function", "function": {"name": "get_time",
                    "parameters": {"type": "object", "properties": {}}}}
            ],
            "options": {"temperature": 0.2}
        })
    );
    // tool_choice: none sends no tools; a named function sends only that one.
    let mut r = serde_json::to_value(tool_conversation()).unwrap();
    r["tool_choice"] = json!("none");
    let http = build(Provider::Ollama, &request(r.clone()), "m");
    assert!(http.body.get("tools").is_none());
    r["tool_choice"] = json!({"type": "function", "function": {"name": "get_time"}});
    let http = build(Provider::Ollama, &request(r), "m");
    let tools = http.body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["function"]["name"], json!("get_time"));
}

#[test]
fn ollama_json_modes() {
    let mut r = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                       "response_format": {"type": "json_object"}});
    let http = build(Provider::Ollama, &request(r.clone()), "m");
    assert_eq!(http.body["format"], json!("json"));
    assert!(http.body.get("options").is_none());
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}},
                        "required": ["a"]});
    r["response_format"] =
        json!({"type": "json_schema", "json_schema": {"name": "n", "schema": schema}});
    let http = build(Provider::Ollama, &request(r.clone()), "m");
    assert_eq!(http.body["format"], schema);
    r["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "n"}});
    let http = build(Provider::Ollama, &request(r.clone()), "m");
    assert_eq!(http.body["format"], json!("json"));
    r["response_format"] = json!({"type": "text"});
    let http = build(Provider::Ollama, &request(r), "m");
    assert!(http.body.get("format").is_none());
}

// ---------------------------------------------------------------- Ollama responses

#[test]
fn ollama_parses_text_and_usage() {
    let reply = Provider::Ollama
        .parse_response(&fixture("ollama/text.json"))
        .unwrap();
    assert_eq!(reply.response.content, "Hello! How can I help you today?");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("stop"));
    assert_eq!(reply.model.as_deref(), Some("llama3.2"));
    assert_eq!(reply.id, None);
    let usage = reply.response.usage.unwrap();
    assert_eq!(usage, json!({"prompt_eval_count": 26, "eval_count": 10}));
    let u = cost::ollama_usage(&usage).unwrap().unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(26), 10));
}

#[test]
fn ollama_cached_prompt_keeps_the_count_absent() {
    let reply = Provider::Ollama
        .parse_response(&fixture("ollama/cached_prompt.json"))
        .unwrap();
    assert_eq!(reply.response.content, "Still here.");
    let usage = reply.response.usage.unwrap();
    assert_eq!(usage, json!({"eval_count": 4}));
    assert!(usage.get("prompt_eval_count").is_none());
    let u = cost::normalize_usage("ollama", &usage).unwrap().unwrap();
    assert_eq!(u.prompt_tokens, None, "never a silent zero");
    assert_eq!(u.completion_tokens, 4);
}

#[test]
fn ollama_parses_tool_calls_and_length() {
    let reply = Provider::Ollama
        .parse_response(&fixture("ollama/tool_calls.json"))
        .unwrap();
    assert_eq!(reply.response.content, "");
    assert_eq!(reply.response.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        reply.response.tool_calls,
        vec![
            ToolCall::function(
                "call_0",
                "get_weather",
                r#"{"location":"Paris, France","unit":"celsius"}"#
            ),
            ToolCall::function("call_1", "get_time", r#"{"tz":"Europe/Paris"}"#),
        ]
    );
    assert_eq!(
        reply.response.usage,
        Some(json!({"prompt_eval_count": 180, "eval_count": 42}))
    );

    let reply = Provider::Ollama
        .parse_response(&fixture("ollama/length.json"))
        .unwrap();
    assert_eq!(reply.response.finish_reason.as_deref(), Some("length"));
    assert_eq!(reply.response.content, "Once upon a");

    // No counts at all: no usage.
    let reply = Provider::Ollama
        .parse_response(
            br#"{"model":"m","message":{"role":"assistant","content":"x"},"done":true}"#,
        )
        .unwrap();
    assert_eq!(reply.response.usage, None);
    assert_eq!(reply.response.finish_reason, None);
}

#[test]
fn ollama_malformed_bodies_and_errors() {
    let full = fixture("ollama/text.json");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (full[..full.len() - 20].to_vec(), "truncated JSON"),
        (b"  ".to_vec(), "empty body"),
        (b"{}".to_vec(), "no `message`"),
        (
            br#"{"message": {"content": 5}}"#.to_vec(),
            "`message.content` is not a string",
        ),
        (
            br#"{"message": {"content": "", "tool_calls": [{"function": {}}]}}"#.to_vec(),
            "has no `name`",
        ),
        (br#"{"error": "out of memory"}"#.to_vec(), "out of memory"),
    ];
    for (body, needle) in cases {
        let e = Provider::Ollama.parse_response(&body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider, "{needle}");
        assert_eq!(e.details["provider"], json!("ollama"));
        assert!(e.message.contains(needle), "{needle}: {e}");
    }

    let e = Provider::Ollama.parse_error(404, &fixture("ollama/error_404.json"));
    assert_eq!((e.kind, e.retryable), (ErrorKind::Provider, false));
    assert_eq!(
        e.message,
        "model \"llama9\" not found, try pulling it first"
    );
    let e =
        Provider::Ollama.parse_error(500, br#"{"error":"llama runner process has terminated"}"#);
    assert!(e.retryable);
    assert_eq!(e.message, "llama runner process has terminated");
}

#[test]
fn every_provider_is_implemented() {
    for p in Provider::ALL {
        assert!(p.is_implemented(), "{p}");
        let req = ChatRequest::user("m", "hi");
        let http = p
            .build_request(&req, "m", &Endpoint::new(p.default_base_url(), None))
            .unwrap();
        assert_eq!(http.method, "POST");
    }
}

//! The client end to end against wiremock stubs of OpenAI and Anthropic on 127.0.0.1:
//! response JSON, exact costs for each usage shape with the fixture registry's prices,
//! signed receipts with the fixture lockfile's digest, the request each stub received, the
//! offline mock, strict cost mode, receipt filters and many threads on one client.
//!
//! Fixture prices (tests/fixtures/client/registry), dollars per million tokens:
//! - openai:gpt-stub: input 0.15, cached input 0.075, output 0.6
//! - openai:o4-stub: input 1.1, cached input 0.275, output 4.4, output thinking 8.8
//! - anthropic:claude-stub: input 3, output 15, cache read 0.3, cache write 5m 3.75,
//!   cache write 1h 6; above 200 000 prompt tokens input 6, output 22.5
//!
//! Failures, retries and fallback are in tests/client_errors.rs.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use llmring::ErrorKind;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn openai_stub(body: Value) -> Stub {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
    stub
}

fn anthropic_stub(body: Value) -> Stub {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
    stub
}

/// Checks what every successful call must satisfy: one stored receipt, byte for byte the one
/// embedded in the response, signed by `key`, with the fixture lockfile's digest and the
/// response's token counts and costs. Returns the receipt.
#[track_caller]
fn check_receipt(
    client: &llmring::client::Client,
    response: &Value,
    key: &llmring::receipt::keys::VerifyingKey,
) -> Value {
    let stored = client.receipts(None).unwrap();
    assert_eq!(stored.len(), 1, "one receipt per call");
    let receipt = parse(&stored[0]);
    assert_eq!(
        receipt, response["receipt"],
        "the response embeds the stored receipt"
    );
    assert_verifies(&stored[0], key);
    assert_verifies(&response["receipt"].to_string(), key);
    assert_eq!(receipt["lock_digest"], expected_lock_digest());
    assert!(
        receipt["signature"]
            .as_str()
            .unwrap()
            .starts_with("ed25519:")
    );
    let usage = &response["usage"];
    for (r, u) in [
        ("input_cost", "input_cost"),
        ("output_cost", "output_cost"),
        ("total_cost", "cost"),
    ] {
        assert_eq!(dec(&receipt[r]), dec(&usage[u]), "{r}");
    }
    assert_eq!(
        dec(&receipt["total_cost"]),
        dec(&receipt["input_cost"]) + dec(&receipt["output_cost"])
    );
    assert_eq!(
        response["usage"]["receipt_digest"].as_str().unwrap().len(),
        64
    );
    receipt
}

/// The single request a stub received, as JSON.
#[track_caller]
fn only_request(stub: &Stub) -> (wiremock::Request, Value) {
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "exactly one request");
    let r = requests.into_iter().next().unwrap();
    let body: Value = r.body_json().unwrap();
    (r, body)
}

fn header<'a>(r: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

// ------------------------------------------------------------------------------ OpenAI

#[test]
fn openai_plain_usage() {
    let stub = openai_stub(openai_body(
        "Hi there!",
        Some(json!({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500})),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let text = client
        .chat(&request("fast", json!({"temperature": 0.5})))
        .unwrap();
    let r = parse(&text);

    assert_eq!(r["content"], "Hi there!");
    assert_eq!(r["model"], "openai:gpt-stub");
    assert_eq!(r["alias"], "fast");
    assert_eq!(r["profile"], "default");
    assert_eq!(r["finish_reason"], "stop");
    assert_eq!(r["tool_calls"], json!([]));
    let u = &r["usage"];
    assert_eq!(u["prompt_tokens"], 1000);
    assert_eq!(u["completion_tokens"], 500);
    assert_eq!(u["total_tokens"], 1500);
    assert!(u.get("cached_tokens").is_none());
    assert!(u.get("reasoning_tokens").is_none());
    // 1000 × 0.15 / 1e6 and 500 × 0.6 / 1e6.
    assert_amount(&u["input_cost"], "0.00015");
    assert_amount(&u["output_cost"], "0.0003");
    assert_amount(&u["cost"], "0.00045");
    assert_eq!(u["cost_status"], "priced");
    assert_eq!(
        u["cost_breakdown"],
        json!([
            {"component": "input", "tokens": 1000, "dollars_per_million_tokens": 0.15,
             "cost": 0.00015},
            {"component": "output", "tokens": 500, "dollars_per_million_tokens": 0.6,
             "cost": 0.0003},
        ])
    );
    // Costs are written as their exact decimals, never in exponent form.
    assert!(text.contains("\"cost\":0.00045"), "{text}");

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["alias"], "fast");
    assert_eq!(receipt["profile"], "default");
    assert_eq!(receipt["provider"], "openai");
    assert_eq!(receipt["model"], "gpt-stub");
    assert_eq!(receipt["prompt_tokens"], 1000);
    assert_eq!(receipt["completion_tokens"], 500);
    assert_eq!(receipt["total_tokens"], 1500);
    assert_amount(&receipt["input_cost"], "0.00015");
    assert_amount(&receipt["output_cost"], "0.0003");
    assert_amount(&receipt["total_cost"], "0.00045");
    assert!(receipt.get("mock").is_none());
    assert!(receipt.get("cost_status").is_none());

    let (req, body) = only_request(&stub);
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/v1/chat/completions");
    assert_eq!(
        header(&req, "authorization").unwrap(),
        format!("Bearer {OPENAI_KEY}")
    );
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert_eq!(header(&req, "x-api-key"), None);
    assert_eq!(body["model"], "gpt-stub");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "Say hi"}])
    );
    assert_eq!(body["temperature"], 0.5);
}

#[test]
fn openai_cached_usage() {
    let stub = openai_stub(openai_body(
        "cached",
        Some(json!({
            "prompt_tokens": 2000, "completion_tokens": 300, "total_tokens": 2300,
            "prompt_tokens_details": {"cached_tokens": 1500, "audio_tokens": 0}
        })),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    let u = &r["usage"];
    assert_eq!(u["prompt_tokens"], 2000);
    assert_eq!(u["cached_tokens"], 1500);
    // prompt_tokens include the cached ones: 500 × 0.15 + 1500 × 0.075, then 300 × 0.6.
    assert_amount(&u["input_cost"], "0.0001875");
    assert_amount(&u["output_cost"], "0.00018");
    assert_amount(&u["cost"], "0.0003675");
    let lines = u["cost_breakdown"].as_array().unwrap();
    assert_eq!(lines[0]["component"], "input");
    assert_eq!(lines[0]["tokens"], 500);
    assert_amount(&lines[0]["cost"], "0.000075");
    assert_eq!(lines[1]["component"], "cache_read");
    assert_eq!(lines[1]["tokens"], 1500);
    assert_amount(&lines[1]["cost"], "0.0001125");

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["prompt_tokens"], 2000);
    assert_eq!(receipt["completion_tokens"], 300);
    assert_eq!(receipt["total_tokens"], 2300);
    assert_eq!(receipt["cached_tokens"], 1500);
    assert_amount(&receipt["input_cost"], "0.0001875");
    assert_amount(&receipt["total_cost"], "0.0003675");
}

#[test]
fn openai_reasoning_usage_priced_apart() {
    let stub = openai_stub(openai_body(
        "42",
        Some(json!({
            "prompt_tokens": 1000, "completion_tokens": 800, "total_tokens": 1800,
            "prompt_tokens_details": {"cached_tokens": 200},
            "completion_tokens_details": {"reasoning_tokens": 500}
        })),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let r = parse(
        &client
            .chat(&request("thinker", json!({"max_tokens": 900})))
            .unwrap(),
    );
    assert_eq!(r["model"], "openai:o4-stub");
    let u = &r["usage"];
    assert_eq!(u["reasoning_tokens"], 500);
    assert_eq!(u["cached_tokens"], 200);
    // 800 × 1.1 + 200 × 0.275 = 935 µ$; 300 × 4.4 + 500 × 8.8 = 5720 µ$.
    assert_amount(&u["input_cost"], "0.000935");
    assert_amount(&u["output_cost"], "0.00572");
    assert_amount(&u["cost"], "0.006655");
    let components: Vec<&str> = u["cost_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["component"].as_str().unwrap())
        .collect();
    assert_eq!(components, ["input", "cache_read", "output", "reasoning"]);

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["model"], "o4-stub");
    assert_eq!(receipt["reasoning_tokens"], 500);
    assert_eq!(receipt["cached_tokens"], 200);
    assert_amount(&receipt["output_cost"], "0.00572");
    assert_amount(&receipt["total_cost"], "0.006655");

    // o-family models take max_completion_tokens.
    let (_, body) = only_request(&stub);
    assert_eq!(body["model"], "o4-stub");
    assert_eq!(body["max_completion_tokens"], 900);
    assert!(body.get("max_tokens").is_none());
}

#[test]
fn openai_reasoning_usage_without_a_thinking_rate() {
    // gpt-stub has no thinking rate: reasoning tokens are output tokens, billed once.
    let stub = openai_stub(openai_body(
        "ok",
        Some(json!({
            "prompt_tokens": 100, "completion_tokens": 800, "total_tokens": 900,
            "completion_tokens_details": {"reasoning_tokens": 500}
        })),
    ));
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), json!({})));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    let u = &r["usage"];
    assert_eq!(u["reasoning_tokens"], 500);
    assert_amount(&u["input_cost"], "0.000015");
    assert_amount(&u["output_cost"], "0.00048");
    assert_amount(&u["cost"], "0.000495");
    // No signing key configured: the receipt is issued unsigned.
    let receipt = parse(&client.receipts(None).unwrap()[0]);
    assert!(receipt["signature"].is_null(), "{receipt}");
    assert_amount(&receipt["total_cost"], "0.000495");
}

#[test]
fn openai_missing_usage_still_gives_a_receipt() {
    let stub = openai_stub(openai_body("no usage here", None));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    assert_eq!(r["content"], "no usage here");
    let u = &r["usage"];
    assert_eq!(u["cost_status"], "no_usage");
    assert!(u["prompt_tokens"].is_null());
    assert!(u["total_tokens"].is_null());
    assert_amount(&u["cost"], "0");
    assert_eq!(u["cost_breakdown"], json!([]));

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["cost_status"], "no_usage");
    assert_eq!(receipt["prompt_tokens"], 0);
    assert_eq!(receipt["completion_tokens"], 0);
    assert_amount(&receipt["total_cost"], "0");
}

#[test]
fn openai_null_usage_is_no_usage() {
    let mut body = openai_body("null usage", None);
    body["usage"] = Value::Null;
    let stub = openai_stub(body);
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), json!({})));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    assert_eq!(r["usage"]["cost_status"], "no_usage");
    assert_eq!(client.receipts(None).unwrap().len(), 1);
}

// --------------------------------------------------------------------------- Anthropic

#[test]
fn anthropic_plain_usage() {
    let stub = anthropic_stub(anthropic_body(
        "Bonjour",
        json!({"input_tokens": 1000, "output_tokens": 200,
               "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &closed_port_url(),
        &stub.uri(),
        json!({"signing_key": secret}),
    ));
    let r = parse(
        &client
            .chat(&request("claude", json!({"system": "Be polite."})))
            .unwrap(),
    );
    assert_eq!(r["content"], "Bonjour");
    assert_eq!(r["model"], "anthropic:claude-stub");
    assert_eq!(r["finish_reason"], "stop");
    assert_eq!(r["tool_calls"], json!([]));
    let u = &r["usage"];
    assert_eq!(u["prompt_tokens"], 1000);
    assert_eq!(u["completion_tokens"], 200);
    assert_eq!(u["total_tokens"], 1200);
    assert_amount(&u["input_cost"], "0.003");
    assert_amount(&u["output_cost"], "0.003");
    assert_amount(&u["cost"], "0.006");
    assert_eq!(u["cost_status"], "priced");

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["provider"], "anthropic");
    assert_eq!(receipt["model"], "claude-stub");
    assert_eq!(receipt["alias"], "claude");
    assert_eq!(receipt["prompt_tokens"], 1000);
    assert_eq!(receipt["completion_tokens"], 200);
    assert_amount(&receipt["total_cost"], "0.006");

    let (req, body) = only_request(&stub);
    assert_eq!(req.url.path(), "/v1/messages");
    assert_eq!(header(&req, "x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(header(&req, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(header(&req, "authorization"), None);
    assert_eq!(body["model"], "claude-stub");
    assert_eq!(body["system"], "Be polite.");
    assert_eq!(body["max_tokens"], 4096);
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "Say hi"}])
    );
}

#[test]
fn anthropic_cache_read_and_write_usage() {
    let stub = anthropic_stub(anthropic_body(
        "cached",
        json!({
            "input_tokens": 100, "output_tokens": 50,
            "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 1000,
            "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600}
        }),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &closed_port_url(),
        &stub.uri(),
        json!({"signing_key": secret}),
    ));
    let r = parse(&client.chat(&request("claude", json!({}))).unwrap());
    let u = &r["usage"];
    // Anthropic's input_tokens exclude cache reads and writes: the prompt is their sum.
    assert_eq!(u["prompt_tokens"], 3100);
    assert_eq!(u["completion_tokens"], 50);
    assert_eq!(u["total_tokens"], 3150);
    assert_eq!(u["cached_tokens"], 2000);
    assert_eq!(u["cache_write_5m_tokens"], 400);
    assert_eq!(u["cache_write_1h_tokens"], 600);
    // 100 × 3 + 2000 × 0.3 + 400 × 3.75 + 600 × 6 = 6000 µ$; 50 × 15 = 750 µ$.
    assert_amount(&u["input_cost"], "0.006");
    assert_amount(&u["output_cost"], "0.00075");
    assert_amount(&u["cost"], "0.00675");
    let lines: Vec<(String, u64, Decimal)> = u["cost_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["component"].as_str().unwrap().to_owned(),
                l["tokens"].as_u64().unwrap(),
                dec(&l["cost"]),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("input".to_owned(), 100, d("0.0003")),
            ("cache_read".to_owned(), 2000, d("0.0006")),
            ("cache_write_5m".to_owned(), 400, d("0.0015")),
            ("cache_write_1h".to_owned(), 600, d("0.0036")),
            ("output".to_owned(), 50, d("0.00075")),
        ]
    );

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["prompt_tokens"], 3100);
    assert_eq!(receipt["cached_tokens"], 2000);
    assert_eq!(receipt["cache_write_5m_tokens"], 400);
    assert_eq!(receipt["cache_write_1h_tokens"], 600);
    assert_amount(&receipt["input_cost"], "0.006");
    assert_amount(&receipt["total_cost"], "0.00675");
}

#[test]
fn anthropic_long_context_prices_the_whole_request() {
    let stub = anthropic_stub(anthropic_body(
        "long",
        json!({"input_tokens": 250000, "output_tokens": 1000}),
    ));
    let client = new_client(&config(&closed_port_url(), &stub.uri(), json!({})));
    let r = parse(&client.chat(&request("claude", json!({}))).unwrap());
    let u = &r["usage"];
    assert_eq!(u["long_context"], true);
    // 250 000 × 6 and 1000 × 22.5.
    assert_amount(&u["input_cost"], "1.5");
    assert_amount(&u["output_cost"], "0.0225");
    assert_amount(&u["cost"], "1.5225");
}

#[test]
fn anthropic_tool_use_becomes_tool_calls() {
    let stub = anthropic_stub(json!({
        "id": "msg_tool",
        "type": "message",
        "role": "assistant",
        "model": "claude-stub",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
             "input": {"location": "Paris"}}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 472, "output_tokens": 91}
    }));
    let client = new_client(&config(&closed_port_url(), &stub.uri(), json!({})));
    let tools = json!([{"type": "function", "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]);
    let r = parse(
        &client
            .chat(&request(
                "claude",
                json!({"tools": tools, "tool_choice": "auto"}),
            ))
            .unwrap(),
    );
    assert_eq!(r["content"], "Checking.");
    assert_eq!(r["finish_reason"], "tool_calls");
    assert_eq!(
        r["tool_calls"],
        json!([{"id": "toolu_01", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}])
    );
    // 472 × 3 + 91 × 15 µ$.
    assert_amount(&r["usage"]["cost"], "0.002781");

    let (_, body) = only_request(&stub);
    assert_eq!(body["tools"][0]["name"], "get_weather");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(body["tool_choice"], json!({"type": "auto"}));
}

#[test]
fn openai_tool_calls_pass_through() {
    let stub = openai_stub(json!({
        "id": "chatcmpl-tools",
        "model": "gpt-stub",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }));
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), json!({})));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    assert_eq!(r["content"], "");
    assert_eq!(r["finish_reason"], "tool_calls");
    assert_eq!(r["tool_calls"][0]["function"]["name"], "lookup");
    assert_eq!(r["tool_calls"][0]["function"]["arguments"], "{\"q\":\"x\"}");
}

// -------------------------------------------------------------------------------- Mock

#[test]
fn mock_calls_no_network_and_says_so() {
    // Both providers point at a closed port: any network use would fail the call.
    let dead = closed_port_url();
    let (secret, public) = signing_key();
    let client = new_client(&config(&dead, &dead, json!({"signing_key": secret})));
    let r = parse(
        &client
            .chat(&request("fast", json!({"mock_response": "Hello mock"})))
            .unwrap(),
    );
    assert_eq!(r["content"], "Hello mock");
    assert_eq!(r["model"], "openai:gpt-stub");
    assert_eq!(r["finish_reason"], "stop");
    let u = &r["usage"];
    // Estimate: 3 priming + 4 per message + ceil(6 / 4) = 9 prompt tokens; ceil(10 / 4) = 3.
    assert_eq!(u["prompt_tokens"], 9);
    assert_eq!(u["completion_tokens"], 3);
    // 9 × 0.15 and 3 × 0.6 µ$.
    assert_amount(&u["input_cost"], "0.00000135");
    assert_amount(&u["output_cost"], "0.0000018");
    assert_amount(&u["cost"], "0.00000315");
    assert_eq!(u["cost_status"], "priced");

    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["mock"], true);
    assert_eq!(receipt["provider"], "openai");
    assert_eq!(receipt["model"], "gpt-stub");
    assert_eq!(receipt["alias"], "fast");
    assert_amount(&receipt["total_cost"], "0.00000315");
}

#[test]
fn mock_usage_is_respected_and_priced_with_the_resolved_model() {
    let dead = closed_port_url();
    let client = new_client(&config(&dead, &dead, json!({})));
    let r = parse(
        &client
            .chat(&request(
                "fast",
                json!({"mock_response": "x", "mock_usage":
                    {"prompt_tokens": 1000, "completion_tokens": 500, "cached_tokens": 200}}),
            ))
            .unwrap(),
    );
    let u = &r["usage"];
    assert_eq!(u["prompt_tokens"], 1000);
    assert_eq!(u["completion_tokens"], 500);
    assert_eq!(u["cached_tokens"], 200);
    // 800 × 0.15 + 200 × 0.075 = 135 µ$; 500 × 0.6 = 300 µ$.
    assert_amount(&u["input_cost"], "0.000135");
    assert_amount(&u["cost"], "0.000435");

    // An Anthropic alias is priced with the Anthropic model's rates.
    let r = parse(
        &client
            .chat(&request(
                "claude",
                json!({"mock_response": "x", "mock_usage":
                    {"prompt_tokens": 1000, "completion_tokens": 100}}),
            ))
            .unwrap(),
    );
    assert_eq!(r["model"], "anthropic:claude-stub");
    assert_amount(&r["usage"]["cost"], "0.0045");
    let receipts = client.receipts(None).unwrap();
    assert_eq!(receipts.len(), 2);
    let last = parse(&receipts[1]);
    assert_eq!(last["mock"], true);
    assert_eq!(last["provider"], "anthropic");
    assert_amount(&last["total_cost"], "0.0045");

    // Inconsistent mock usage is refused, with no receipt.
    let err = chat_err(
        &client,
        &request(
            "fast",
            json!({"mock_response": "x", "mock_usage": {"prompt_tokens": 1}}),
        ),
        ErrorKind::InvalidArgument,
    );
    assert!(err.message.contains("mock_usage"), "{err}");
    assert_eq!(client.receipts(None).unwrap().len(), 2);
}

#[test]
fn mock_fallback_alias_prices_the_first_candidate() {
    let dead = closed_port_url();
    let client = new_client(&config(&dead, &dead, json!({})));
    let r = parse(
        &client
            .chat(&request("fallback", json!({"mock_response": "m"})))
            .unwrap(),
    );
    assert_eq!(r["model"], "openai:gpt-stub");
    assert_eq!(r["alias"], "fallback");
}

// ------------------------------------------------------------------------- Strict cost

#[test]
fn strict_cost_refuses_an_unpriced_model_before_calling() {
    let stub = openai_stub(openai_body(
        "should not be asked",
        Some(json!({"prompt_tokens": 10, "completion_tokens": 10})),
    ));
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"strict_cost": true}),
    ));
    let err = chat_err(
        &client,
        &request("unpriced", json!({})),
        ErrorKind::CostUnknown,
    );
    assert_eq!(err.to_json()["code"], "LLMRING_COST_UNKNOWN");
    assert!(err.message.contains("gpt-not-in-registry"), "{err}");
    assert!(stub.requests().is_empty(), "no request may be sent");
    assert!(client.receipts(None).unwrap().is_empty());

    // The mock path is refused too.
    chat_err(
        &client,
        &request("unpriced", json!({"mock_response": "m"})),
        ErrorKind::CostUnknown,
    );
    assert!(client.receipts(None).unwrap().is_empty());

    // A priced model still works in strict mode.
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    assert_amount(&r["usage"]["cost"], "0.0000075");
}

#[test]
fn strict_cost_refuses_a_call_without_usage() {
    let stub = openai_stub(openai_body("no usage", None));
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"strict_cost": true}),
    ));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::CostUnknown);
    assert_eq!(err.to_json()["cost_status"], "no_usage");
    assert_eq!(stub.requests().len(), 1);
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn unpriced_model_without_strict_cost_is_zero_with_a_status() {
    let stub = openai_stub(openai_body(
        "free?",
        Some(json!({"prompt_tokens": 10, "completion_tokens": 10})),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let r = parse(&client.chat(&request("unpriced", json!({}))).unwrap());
    assert_eq!(r["model"], "openai:gpt-not-in-registry");
    let u = &r["usage"];
    assert_eq!(u["cost_status"], "model_not_in_registry");
    assert_eq!(u["prompt_tokens"], 10);
    assert_amount(&u["cost"], "0");
    let receipt = check_receipt(&client, &r, &public);
    assert_eq!(receipt["cost_status"], "model_not_in_registry");
    assert_eq!(receipt["prompt_tokens"], 10);
    assert_amount(&receipt["total_cost"], "0");
    assert_eq!(stub.requests().len(), 1);
}

// ----------------------------------------------------------------- calculate_cost, config

#[test]
fn calculate_cost_uses_the_client_registry() {
    let dead = closed_port_url();
    let client = new_client(&config(&dead, &dead, json!({})));
    let u = parse(
        &client
            .calculate_cost(
                "anthropic:claude-stub",
                r#"{"input_tokens":100,"output_tokens":50,"cache_read_input_tokens":2000,
                    "cache_creation_input_tokens":1000,
                    "cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600}}"#,
            )
            .unwrap(),
    );
    assert_amount(&u["cost"], "0.00675");
    let u = parse(
        &client
            .calculate_cost(
                "openai:gpt-stub",
                r#"{"prompt_tokens":2000,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1500}}"#,
            )
            .unwrap(),
    );
    assert_amount(&u["cost"], "0.0003675");
    let u = parse(
        &client
            .calculate_cost(
                "openai:nope",
                r#"{"prompt_tokens":1,"completion_tokens":1}"#,
            )
            .unwrap(),
    );
    assert_eq!(u["cost_status"], "model_not_in_registry");
    assert_eq!(
        client.calculate_cost("gpt-stub", "{}").unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        client
            .calculate_cost("openai:gpt-stub", "{bad")
            .unwrap_err()
            .kind,
        ErrorKind::InvalidJson
    );
    // Pricing adds no receipt.
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn config_and_request_errors() {
    let dead = closed_port_url();
    let err = llmring::client::Client::new(Some(&config(&dead, &dead, json!({"retries": 1}))))
        .err()
        .unwrap();
    assert_eq!(err.kind, ErrorKind::Config);
    assert_no_secret(&err);
    let err = llmring::client::Client::new(Some(&config(
        &dead,
        &dead,
        json!({"lockfile": fixture_dir().join("missing.lock")}),
    )))
    .err()
    .unwrap();
    assert_eq!(err.kind, ErrorKind::Config);

    let client = new_client(&config(&dead, &dead, json!({})));
    let err = chat_err(&client, &request("nope", json!({})), ErrorKind::Config);
    assert!(err.message.contains("fast"), "lists the aliases: {err}");
    chat_err(&client, "{", ErrorKind::InvalidJson);
    chat_err(
        &client,
        &request("fast", json!({"profile": "missing"})),
        ErrorKind::Config,
    );
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn config_debug_does_not_show_secrets() {
    // `Config` is public and derives Debug: it must not print the API keys or the signing
    // key, like every other Debug output of the library.
    let (secret, _) = signing_key();
    let dead = closed_port_url();
    let config = llmring::client::Config::from_json(Some(&config(
        &dead,
        &dead,
        json!({"signing_key": secret}),
    )))
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(OPENAI_KEY), "API key in Debug: {debug}");
    assert!(!debug.contains(ANTHROPIC_KEY), "API key in Debug: {debug}");
    assert!(!debug.contains(&secret), "signing key in Debug: {debug}");
}

// ------------------------------------------------------------------------ Receipt filters

#[test]
fn receipts_filters() {
    let dead = closed_port_url();
    let client = new_client(&config(&dead, &dead, json!({})));
    let mock = |model: &str, extra: Value| {
        let mut e = json!({"mock_response": "m"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        client.chat(&request(model, e)).unwrap();
    };
    let count = |filter: Value| client.receipts(Some(&filter.to_string())).unwrap().len();

    mock("fast", json!({}));
    mock("claude", json!({}));
    std::thread::sleep(Duration::from_millis(30));
    let middle = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    std::thread::sleep(Duration::from_millis(30));
    mock("fast", json!({}));
    mock("fast", json!({"profile": "other"}));
    mock("openai:o4-stub", json!({}));

    assert_eq!(client.receipts(None).unwrap().len(), 5);
    assert_eq!(client.receipts(Some("{}")).unwrap().len(), 5);
    assert_eq!(count(json!({"alias": "fast"})), 3);
    assert_eq!(count(json!({"alias": "openai:o4-stub"})), 1);
    assert_eq!(count(json!({"alias": "nothing"})), 0);
    assert_eq!(count(json!({"provider": "anthropic"})), 2);
    assert_eq!(count(json!({"provider": "openai"})), 3);
    assert_eq!(count(json!({"model": "gpt-stub"})), 2);
    assert_eq!(count(json!({"model": "claude-stub"})), 2);
    assert_eq!(count(json!({"profile": "other"})), 1);
    assert_eq!(count(json!({"alias": "fast", "provider": "anthropic"})), 1);
    assert_eq!(count(json!({"until": middle})), 2);
    assert_eq!(count(json!({"since": middle})), 3);
    assert_eq!(count(json!({"since": middle, "provider": "openai"})), 2);

    // since is inclusive, until exclusive, at the receipts' own timestamps.
    let all: Vec<Value> = client
        .receipts(None)
        .unwrap()
        .iter()
        .map(|r| parse(r))
        .collect();
    let first = all[0]["timestamp"].as_str().unwrap();
    let last = all[4]["timestamp"].as_str().unwrap();
    assert_eq!(count(json!({"since": first})), 5);
    assert!(count(json!({"since": last})) >= 1);
    assert!(count(json!({"until": last})) < 5);
    assert_eq!(count(json!({"until": first})), 0);
    assert_eq!(
        count(json!({"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"})),
        0
    );
    // Other time zones are understood.
    assert_eq!(count(json!({"since": "2000-01-01T00:00:00+02:00"})), 5);

    // Oldest first.
    let aliases: Vec<&str> = all.iter().map(|r| r["alias"].as_str().unwrap()).collect();
    assert_eq!(
        aliases,
        ["fast", "claude", "fast", "fast", "openai:o4-stub"]
    );

    for bad in [
        r#"{"aliases":"fast"}"#,
        r#"{"since":"yesterday"}"#,
        r#"{"alias":1}"#,
    ] {
        let err = client.receipts(Some(bad)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{bad}: {err}");
    }
    assert_eq!(
        client.receipts(Some("{")).unwrap_err().kind,
        ErrorKind::InvalidJson
    );
}

// ---------------------------------------------------------------------------- Concurrency

#[test]
fn many_threads_on_one_client_every_receipt_once() {
    const THREADS: usize = 16;
    const CALLS: usize = 200;
    let stub = openai_stub(openai_body(
        "concurrent",
        Some(json!({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500})),
    ));
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": secret}),
    ));
    let returned: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = &client;
                scope.spawn(move || {
                    (t..CALLS)
                        .step_by(THREADS)
                        .map(|n| {
                            let req = json!({"model": "fast",
                                "messages": [{"role": "user", "content": format!("call {n}")}]});
                            let r = parse(&client.chat(&req.to_string()).unwrap());
                            r["receipt"]["receipt_id"].as_str().unwrap().to_owned()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(returned.len(), CALLS);

    let stored = client.receipts(None).unwrap();
    assert_eq!(stored.len(), CALLS);
    let mut ids = HashSet::new();
    let mut total = Decimal::ZERO;
    let mut tokens = 0u64;
    for text in &stored {
        let r = parse(text);
        assert!(ids.insert(r["receipt_id"].as_str().unwrap().to_owned()));
        assert_verifies(text, &public);
        total += dec(&r["total_cost"]);
        tokens += r["total_tokens"].as_u64().unwrap();
    }
    let returned: HashSet<String> = returned.into_iter().collect();
    assert_eq!(
        returned, ids,
        "every returned receipt is stored exactly once"
    );
    // 200 × 0.00045, exactly.
    assert_eq!(total, d("0.09"));
    assert_eq!(tokens, 300_000);

    let requests = stub.requests();
    assert_eq!(requests.len(), CALLS);
    let prompts: HashSet<String> = requests
        .iter()
        .map(|r| {
            let b: Value = r.body_json().unwrap();
            b["messages"][0]["content"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(prompts.len(), CALLS, "every call sent its own request");
}

//! Client failures against stubs on 127.0.0.1: each failure class's error kind and details,
//! which failures are retried (and how many times, and how long `Retry-After` makes the
//! client wait), fallback to the alias's next model, no receipt for a failed call, and no API
//! key in any error JSON, message or Debug output.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use llmring::ErrorKind;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const OPENAI_PATH: &str = "/v1/chat/completions";
const ANTHROPIC_PATH: &str = "/v1/messages";

fn ok_openai() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(openai_body(
        "recovered",
        Some(json!({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500})),
    ))
}

fn ok_anthropic() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(anthropic_body(
        "from claude",
        json!({"input_tokens": 1000, "output_tokens": 200}),
    ))
}

fn openai_error(status: u16, message: &str, kind: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

/// A stub that answers every request on `p` with `response`.
fn stub_always(p: &str, response: ResponseTemplate) -> Stub {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(response),
    );
    stub
}

/// A stub that answers the first `n` requests with `first`, then `then`.
fn stub_then(p: &str, first: ResponseTemplate, n: u64, then: ResponseTemplate) -> Stub {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(first)
            .up_to_n_times(n)
            .with_priority(1),
    );
    stub.mount(
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(then)
            .with_priority(2),
    );
    stub
}

fn openai_client(stub: &Stub, extra: Value) -> llmring::client::Client {
    new_client(&config(&stub.openai_base(), &closed_port_url(), extra))
}

// -------------------------------------------------------------------------------- Auth

#[test]
fn openai_401_is_auth_and_not_retried() {
    // The server echoes the key it was sent, as OpenAI does: the error must not repeat it.
    let stub = stub_always(
        OPENAI_PATH,
        openai_error(
            401,
            &format!("Incorrect API key provided: {OPENAI_KEY}."),
            "invalid_request_error",
            "invalid_api_key",
        ),
    );
    let client = openai_client(&stub, json!({"max_retries": 3}));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Auth);
    let j = err.to_json();
    assert_eq!(j["code"], "LLMRING_AUTH");
    assert_eq!(j["provider"], "openai");
    assert_eq!(j["model"], "gpt-stub");
    assert_eq!(j["http_status"], 401);
    assert_eq!(j["provider_error_code"], "invalid_api_key");
    assert!(err.message.contains("Incorrect API key provided"), "{err}");
    assert!(err.message.contains("[redacted]"), "{err}");
    assert_eq!(stub.requests().len(), 1, "auth errors are not retried");
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn anthropic_401_is_auth_and_not_retried() {
    let stub = stub_always(
        ANTHROPIC_PATH,
        ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"}
        })),
    );
    let client = new_client(&config(&closed_port_url(), &stub.uri(), json!({})));
    let err = chat_err(&client, &request("claude", json!({})), ErrorKind::Auth);
    let j = err.to_json();
    assert_eq!(j["provider"], "anthropic");
    assert_eq!(j["model"], "claude-stub");
    assert_eq!(j["http_status"], 401);
    assert_eq!(stub.requests().len(), 1);
    assert!(client.receipts(None).unwrap().is_empty());
}

// ------------------------------------------------------------------------- Rate limits

#[test]
fn openai_429_honours_retry_after_then_succeeds() {
    let stub = stub_then(
        OPENAI_PATH,
        openai_error(429, "Rate limit reached", "requests", "rate_limit_exceeded")
            .insert_header("Retry-After", "1"),
        1,
        ok_openai(),
    );
    let client = openai_client(&stub, json!({"max_retries": 2, "retry_backoff_ms": 10}));
    let start = Instant::now();
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    let elapsed = start.elapsed();
    assert_eq!(r["content"], "recovered");
    assert_amount(&r["usage"]["cost"], "0.00045");
    assert_eq!(stub.requests().len(), 2);
    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured (waited {elapsed:?})"
    );
    assert!(elapsed < Duration::from_secs(4), "waited {elapsed:?}");
    assert_eq!(client.receipts(None).unwrap().len(), 1);
}

#[test]
fn anthropic_429_forever_is_rate_limited_after_the_retries() {
    let stub = stub_always(
        ANTHROPIC_PATH,
        ResponseTemplate::new(429).set_body_json(json!({
            "type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}
        })),
    );
    let client = new_client(&config(
        &closed_port_url(),
        &stub.uri(),
        json!({"max_retries": 2}),
    ));
    let err = chat_err(
        &client,
        &request("claude", json!({})),
        ErrorKind::RateLimited,
    );
    assert_eq!(err.to_json()["http_status"], 429);
    assert_eq!(stub.requests().len(), 3);
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn openai_insufficient_quota_is_not_retried() {
    let stub = stub_always(
        OPENAI_PATH,
        openai_error(
            429,
            "You exceeded your current quota",
            "insufficient_quota",
            "insufficient_quota",
        ),
    );
    let client = openai_client(&stub, json!({"max_retries": 3}));
    chat_err(&client, &request("fast", json!({})), ErrorKind::RateLimited);
    assert_eq!(stub.requests().len(), 1);
}

// ------------------------------------------------------------------------------- 5xx

#[test]
fn openai_500_then_200_is_retried() {
    let stub = stub_then(
        OPENAI_PATH,
        openai_error(
            500,
            "The server had an error",
            "server_error",
            "server_error",
        ),
        1,
        ok_openai(),
    );
    let (secret, public) = signing_key();
    let client = openai_client(&stub, json!({"max_retries": 2, "signing_key": secret}));
    let r = parse(&client.chat(&request("fast", json!({}))).unwrap());
    assert_eq!(r["content"], "recovered");
    assert_eq!(stub.requests().len(), 2);
    let receipts = client.receipts(None).unwrap();
    assert_eq!(receipts.len(), 1, "one receipt for one successful call");
    assert_verifies(&receipts[0], &public);
}

#[test]
fn openai_500_forever_is_a_provider_error_after_max_retries() {
    let stub = stub_always(
        OPENAI_PATH,
        openai_error(
            500,
            "The server had an error",
            "server_error",
            "server_error",
        ),
    );
    let client = openai_client(&stub, json!({"max_retries": 3, "retry_backoff_ms": 5}));
    let err = chat_err(
        &client,
        &request("openai:gpt-stub", json!({})),
        ErrorKind::Provider,
    );
    let j = err.to_json();
    assert_eq!(j["code"], "LLMRING_PROVIDER");
    assert_eq!(j["provider"], "openai");
    assert_eq!(j["model"], "gpt-stub");
    assert_eq!(j["http_status"], 500);
    assert_eq!(j["attempts"], 4);
    assert!(err.message.contains("500"), "{err}");
    assert!(err.message.contains("The server had an error"), "{err}");
    assert_eq!(stub.requests().len(), 4, "max_retries + 1 requests");
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn anthropic_529_overloaded_is_retried() {
    let stub = stub_then(
        ANTHROPIC_PATH,
        ResponseTemplate::new(529).set_body_json(json!({
            "type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}
        })),
        2,
        ok_anthropic(),
    );
    let client = new_client(&config(
        &closed_port_url(),
        &stub.uri(),
        json!({"max_retries": 2}),
    ));
    let r = parse(&client.chat(&request("claude", json!({}))).unwrap());
    assert_eq!(r["content"], "from claude");
    assert_eq!(stub.requests().len(), 3);
}

#[test]
fn max_retries_zero_sends_one_request() {
    let stub = stub_always(OPENAI_PATH, ResponseTemplate::new(503));
    let client = openai_client(&stub, json!({"max_retries": 0}));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    assert_eq!(err.to_json()["http_status"], 503);
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn a_400_is_not_retried() {
    let stub = stub_always(
        OPENAI_PATH,
        openai_error(400, "bad request", "invalid_request_error", "bad"),
    );
    let client = openai_client(&stub, json!({"max_retries": 3}));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    assert_eq!(err.to_json()["http_status"], 400);
    assert_eq!(stub.requests().len(), 1);
}

// -------------------------------------------------------------- Timeouts and networking

#[test]
fn a_slow_provider_is_a_timeout() {
    let stub = stub_always(OPENAI_PATH, ok_openai().set_delay(Duration::from_secs(3)));
    let client = openai_client(&stub, json!({"timeout_ms": 200, "max_retries": 1}));
    let start = Instant::now();
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Timeout);
    let elapsed = start.elapsed();
    let j = err.to_json();
    assert_eq!(j["code"], "LLMRING_TIMEOUT");
    assert_eq!(j["provider"], "openai");
    assert_eq!(j["model"], "gpt-stub");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert_eq!(stub.requests().len(), 2, "timeouts are retried");
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn connection_refused_is_network() {
    // The key is also put in the (unusable) base URL: messages quote URLs, never keys.
    let base = format!("{}/{OPENAI_KEY}/v1", closed_port_url());
    let client = new_client(&config(
        &base,
        &closed_port_url(),
        json!({"max_retries": 1}),
    ));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Network);
    let j = err.to_json();
    assert_eq!(j["code"], "LLMRING_NETWORK");
    assert_eq!(j["provider"], "openai");
    assert_eq!(j["model"], "gpt-stub");
    assert_eq!(j["attempts"], 2, "connection errors are retried");
    assert!(j.get("http_status").is_none());
    assert!(client.receipts(None).unwrap().is_empty());

    let client = new_client(&config(&closed_port_url(), &closed_port_url(), json!({})));
    let err = chat_err(&client, &request("claude", json!({})), ErrorKind::Network);
    assert_eq!(err.to_json()["provider"], "anthropic");
}

#[test]
fn malformed_json_body_is_a_provider_error() {
    let stub = stub_always(
        OPENAI_PATH,
        ResponseTemplate::new(200).set_body_raw("this is not {json", "application/json"),
    );
    let client = openai_client(&stub, json!({}));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    assert_eq!(err.to_json()["provider"], "openai");
    assert_eq!(err.to_json()["model"], "gpt-stub");
    assert!(err.message.contains("invalid JSON"), "{err}");
    assert_eq!(stub.requests().len(), 1);
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn truncated_json_body_is_a_provider_error() {
    let full = anthropic_body("cut", json!({"input_tokens": 1, "output_tokens": 1})).to_string();
    let cut = full[..full.len() / 2].to_owned();
    let stub = stub_always(
        ANTHROPIC_PATH,
        ResponseTemplate::new(200).set_body_raw(cut, "application/json"),
    );
    let client = new_client(&config(&closed_port_url(), &stub.uri(), json!({})));
    let err = chat_err(&client, &request("claude", json!({})), ErrorKind::Provider);
    assert_eq!(err.to_json()["provider"], "anthropic");
    assert!(err.message.contains("truncated JSON"), "{err}");
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn a_200_with_an_unexpected_shape_is_a_provider_error() {
    for body in [
        json!({"choices": []}),
        json!([1, 2]),
        json!({"error": {"message": "x"}}),
    ] {
        let stub = stub_always(OPENAI_PATH, ResponseTemplate::new(200).set_body_json(body));
        let client = openai_client(&stub, json!({}));
        chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
        assert!(client.receipts(None).unwrap().is_empty());
    }
    let stub = stub_always(OPENAI_PATH, ResponseTemplate::new(200));
    let client = openai_client(&stub, json!({}));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    assert!(err.message.contains("empty body"), "{err}");
}

/// A raw HTTP server on 127.0.0.1 that announces a longer body than it sends, then closes
/// the connection. Returns its base URL and the number of connections served.
fn cut_connection_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            // Read the request head and its body (Content-Length).
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if data.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"id\":\"chatcmpl-cut\",\"choi",
            );
            let _ = stream.flush();
            // Dropping the stream closes the connection mid-body.
        }
    });
    (url, served)
}

#[test]
fn a_connection_cut_mid_body_is_a_retried_network_error() {
    let (url, served) = cut_connection_server();
    let client = new_client(&config(
        &format!("{url}/v1"),
        &closed_port_url(),
        json!({"max_retries": 1}),
    ));
    let err = chat_err(&client, &request("fast", json!({})), ErrorKind::Network);
    let j = err.to_json();
    assert_eq!(j["provider"], "openai");
    assert_eq!(j["model"], "gpt-stub");
    assert_eq!(j["http_status"], 200);
    assert_eq!(served.load(Ordering::SeqCst), 2, "retried once");
    assert!(client.receipts(None).unwrap().is_empty());
}

// ---------------------------------------------------------------------------- Fallback

#[test]
fn fallback_uses_the_next_model_when_the_first_keeps_failing() {
    let openai = stub_always(
        OPENAI_PATH,
        openai_error(500, "boom", "server_error", "server_error"),
    );
    let anthropic = stub_always(ANTHROPIC_PATH, ok_anthropic());
    let (secret, public) = signing_key();
    let client = new_client(&config(
        &openai.openai_base(),
        &anthropic.uri(),
        json!({"max_retries": 1, "signing_key": secret}),
    ));
    let r = parse(&client.chat(&request("fallback", json!({}))).unwrap());
    assert_eq!(r["content"], "from claude");
    assert_eq!(r["model"], "anthropic:claude-stub");
    assert_eq!(r["alias"], "fallback");
    // 1000 × 3 + 200 × 15 µ$.
    assert_amount(&r["usage"]["cost"], "0.006");
    assert_eq!(openai.requests().len(), 2, "the first model with its retry");
    assert_eq!(anthropic.requests().len(), 1);

    let receipts = client.receipts(None).unwrap();
    assert_eq!(receipts.len(), 1, "failed attempts leave no receipt");
    let receipt = parse(&receipts[0]);
    assert_eq!(receipt["provider"], "anthropic");
    assert_eq!(receipt["model"], "claude-stub");
    assert_eq!(receipt["alias"], "fallback");
    assert_amount(&receipt["total_cost"], "0.006");
    assert_verifies(&receipts[0], &public);
}

#[test]
fn fallback_after_an_auth_error_and_a_timeout() {
    // An auth failure on the first model is not retried but the next model is tried.
    let openai = stub_always(
        OPENAI_PATH,
        openai_error(401, "bad key", "invalid_request_error", "invalid_api_key"),
    );
    let anthropic = stub_always(ANTHROPIC_PATH, ok_anthropic());
    let client = new_client(&config(
        &openai.openai_base(),
        &anthropic.uri(),
        json!({"max_retries": 2}),
    ));
    let r = parse(&client.chat(&request("fallback", json!({}))).unwrap());
    assert_eq!(r["model"], "anthropic:claude-stub");
    assert_eq!(openai.requests().len(), 1);

    // A first model that only times out.
    let slow = stub_always(OPENAI_PATH, ok_openai().set_delay(Duration::from_secs(3)));
    let anthropic = stub_always(ANTHROPIC_PATH, ok_anthropic());
    let client = new_client(&config(
        &slow.openai_base(),
        &anthropic.uri(),
        json!({"max_retries": 0, "timeout_ms": 300}),
    ));
    let r = parse(&client.chat(&request("fallback", json!({}))).unwrap());
    assert_eq!(r["model"], "anthropic:claude-stub");
}

#[test]
fn fallback_error_lists_what_was_tried() {
    let openai = stub_always(
        OPENAI_PATH,
        openai_error(500, "openai down", "server_error", "server_error"),
    );
    let anthropic = stub_always(
        ANTHROPIC_PATH,
        ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error",
                      "message": format!("invalid x-api-key {ANTHROPIC_KEY}")}
        })),
    );
    let client = new_client(&config(
        &openai.openai_base(),
        &anthropic.uri(),
        json!({"max_retries": 1}),
    ));
    // The last model's failure decides the kind.
    let err = chat_err(&client, &request("fallback", json!({})), ErrorKind::Auth);
    let j = err.to_json();
    assert_eq!(j["alias"], "fallback");
    assert_eq!(j["provider"], "anthropic");
    assert_eq!(j["model"], "claude-stub");
    assert_eq!(j["http_status"], 401);
    assert!(err.message.contains("2 model(s) tried"), "{err}");
    let tried = j["tried"].as_array().expect("tried is a list");
    assert_eq!(tried.len(), 2);
    assert_eq!(tried[0]["provider"], "openai");
    assert_eq!(tried[0]["model"], "gpt-stub");
    assert_eq!(tried[0]["http_status"], 500);
    assert_eq!(tried[0]["code"], "LLMRING_PROVIDER");
    assert_eq!(tried[1]["provider"], "anthropic");
    assert_eq!(tried[1]["model"], "claude-stub");
    assert_eq!(tried[1]["http_status"], 401);
    assert_eq!(tried[1]["code"], "LLMRING_AUTH");
    assert_eq!(openai.requests().len(), 2);
    assert_eq!(anthropic.requests().len(), 1);
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn a_failed_call_between_successes_adds_no_receipt() {
    let stub = stub_then(OPENAI_PATH, ok_openai(), 1, ResponseTemplate::new(500));
    let client = openai_client(&stub, json!({"max_retries": 0}));
    client.chat(&request("fast", json!({}))).unwrap();
    chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    chat_err(&client, &request("fast", json!({})), ErrorKind::Provider);
    assert_eq!(client.receipts(None).unwrap().len(), 1);
}

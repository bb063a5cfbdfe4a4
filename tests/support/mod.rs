//! Shared helpers of the client tests (`tests/client*.rs`): the fixture lockfile and
//! registry, wiremock stubs for OpenAI and Anthropic, client configuration JSON, and exact
//! decimal assertions. Keys and base URLs go through the configuration JSON, never the
//! process environment, so tests run in parallel.
#![allow(dead_code)]

pub mod fault_stub;

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::str::FromStr;

use llmring::client::Client;
use llmring::receipt::api;
use llmring::receipt::keys::{self, KeyFormat, VerifyingKey};
use llmring::{Error, ErrorKind};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::{Mock, MockServer, Request};

/// The OpenAI key configured in every test; no output may ever contain it.
pub const OPENAI_KEY: &str = "sk-openai-SECRET-7f3a9c1d2e";
/// The Anthropic key configured in every test; no output may ever contain it.
pub const ANTHROPIC_KEY: &str = "sk-ant-SECRET-51be02aa9f";

/// The Gemini key configured by [`config_all`]; no output may ever contain it.
pub const GOOGLE_KEY: &str = "AIza-SECRET-c0ffee42";

/// `tests/fixtures/client`.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/client")
}

pub fn lockfile_path() -> PathBuf {
    fixture_dir().join("llmring.lock")
}

pub fn registry_dir() -> PathBuf {
    fixture_dir().join("registry")
}

/// `sha256:` + hex SHA-256 of the fixture lockfile's bytes (what `sha256sum` prints).
pub fn expected_lock_digest() -> String {
    let bytes = std::fs::read(lockfile_path()).unwrap();
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// Runs a future to completion on a throwaway runtime (wiremock's API is async; its servers
/// run on their own threads).
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A wiremock server on 127.0.0.1.
pub struct Stub {
    pub server: MockServer,
}

impl Stub {
    pub fn start() -> Stub {
        Stub {
            server: block_on(MockServer::start()),
        }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The OpenAI base URL of this stub (`.../v1`, as the official SDK's).
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.uri())
    }

    pub fn mount(&self, mock: Mock) {
        block_on(mock.mount(&self.server));
    }

    pub fn requests(&self) -> Vec<Request> {
        block_on(self.server.received_requests()).expect("request recording is on")
    }
}

/// A `http://127.0.0.1:PORT` URL where nothing listens (the port was bound, then released).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A fresh signing key: its private text (for the configuration) and its public key.
pub fn signing_key() -> (String, VerifyingKey) {
    let key = keys::generate().unwrap();
    let text = keys::encode_private(&key, KeyFormat::Base64Url)
        .unwrap()
        .to_string();
    (text, key.verifying_key())
}

/// Configuration JSON: fixture lockfile and registry, both providers at the given base URLs
/// with the test keys, fast retries, then `extra`'s members on top.
pub fn config(openai_base: &str, anthropic_base: &str, extra: Value) -> String {
    let mut c = json!({
        "lockfile": lockfile_path(),
        // Set, so that a host LLMRING_PROFILE cannot change what the tests resolve.
        "profile": "default",
        "registry": {"dir": registry_dir()},
        "providers": {
            "openai": {"api_key": OPENAI_KEY, "base_url": openai_base},
            "anthropic": {"api_key": ANTHROPIC_KEY, "base_url": anthropic_base},
        },
        "timeout_ms": 5000,
        "max_retries": 2,
        "retry_backoff_ms": 10,
        // Each client keeps its own receipts: the counts the tests check are exact.
        "store": ":memory:",
    });
    for (k, v) in extra.as_object().expect("extra is an object") {
        c[k] = v.clone();
    }
    c.to_string()
}

/// Configuration JSON with all four providers at one stub (`uri`): OpenAI at `uri/v1`,
/// Anthropic and Ollama at `uri`, Google at `uri/v1beta`, then `extra`'s members on top.
pub fn config_all(uri: &str, extra: Value) -> String {
    let mut c: Value = serde_json::from_str(&config(&format!("{uri}/v1"), uri, json!({}))).unwrap();
    c["providers"]["google"] = json!({"api_key": GOOGLE_KEY, "base_url": format!("{uri}/v1beta")});
    c["providers"]["ollama"] = json!({"base_url": uri});
    for (k, v) in extra.as_object().expect("extra is an object") {
        c[k] = v.clone();
    }
    c.to_string()
}

pub fn new_client(config_json: &str) -> Client {
    Client::new(Some(config_json)).expect("client builds")
}

/// A chat request JSON with one user message.
pub fn request(model: &str, extra: Value) -> String {
    let mut r = json!({"model": model, "messages": [{"role": "user", "content": "Say hi"}]});
    for (k, v) in extra.as_object().expect("extra is an object") {
        r[k] = v.clone();
    }
    r.to_string()
}

pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An exact decimal from its text.
pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The exact decimal a JSON amount (number or decimal string) stands for.
pub fn dec(v: &Value) -> Decimal {
    llmring::cost::json::decimal_from_json(v, "amount")
        .unwrap_or_else(|e| panic!("not an amount: {v}: {e}"))
        .normalize()
}

/// Asserts that a JSON amount is exactly `expected` (a decimal literal).
#[track_caller]
pub fn assert_amount(v: &Value, expected: &str) {
    assert_eq!(dec(v), d(expected).normalize(), "amount {v} != {expected}");
}

/// An OpenAI chat completion body.
pub fn openai_body(content: &str, usage: Option<Value>) -> Value {
    let mut body = json!({
        "id": "chatcmpl-stub0001",
        "object": "chat.completion",
        "created": 1754000000,
        "model": "gpt-stub-2025-01-01",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "finish_reason": "stop"
        }],
    });
    if let Some(u) = usage {
        body["usage"] = u;
    }
    body
}

/// An Anthropic messages body with one text block.
pub fn anthropic_body(text: &str, usage: Value) -> Value {
    json!({
        "id": "msg_stub0001",
        "type": "message",
        "role": "assistant",
        "model": "claude-stub",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": usage,
    })
}

/// Asserts that the receipt JSON text verifies with `key`.
#[track_caller]
pub fn assert_verifies(receipt_json: &str, key: &VerifyingKey) {
    let v = api::verify(receipt_json, key).unwrap();
    assert!(
        v.valid,
        "receipt does not verify: {:?}: {receipt_json}",
        v.reason
    );
}

/// Asserts that no rendering of `err` contains either test key.
#[track_caller]
pub fn assert_no_secret(err: &Error) {
    let renderings = [
        err.to_json().to_string(),
        format!("{err:?}"),
        format!("{err:#?}"),
        err.to_string(),
    ];
    for text in renderings {
        for key in [OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY] {
            assert!(!text.contains(key), "the key leaks: {text}");
        }
        assert!(!text.contains("SECRET"), "part of a key leaks: {text}");
    }
}

/// The error of a chat that must fail with `kind`; checks that no key leaks.
#[track_caller]
pub fn chat_err(client: &Client, request_json: &str, kind: ErrorKind) -> Error {
    let err = client
        .chat(request_json)
        .expect_err("the chat call must fail");
    assert_eq!(err.kind, kind, "{}", err.to_json());
    assert_no_secret(&err);
    err
}

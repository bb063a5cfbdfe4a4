//! What a `llmring_chat` call adds over a raw HTTP POST of the same request to the same local
//! stub (p50 and p99, receipt signing included), and the throughput of the async API with
//! 100 calls in flight against a stub that waits 50 ms per request.
//!
//! Run: cargo bench --bench chat
//! Goals (BENCHMARKS.md): ≤ 150 µs added at p50; ≥ 1,500 calls/s with 100 in flight.

use std::ffi::{CStr, CString, c_char};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use llmring::client::Client;
use llmring::ffi::client::{llmring_chat, llmring_free, llmring_new, llmring_t};
use llmring::ffi::llmring_string_free;
use llmring::ffi::status::llmring_status_t;
use serde_json::json;
use wiremock::ResponseTemplate;

mod common;
use common::{percentile, post_stub};

const CALLS: usize = 3000;
const WARMUP: usize = 300;

fn body() -> serde_json::Value {
    json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hello! How can I help?"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
    })
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let route = "/v1/chat/completions";
    let stub = post_stub(
        &runtime,
        route,
        ResponseTemplate::new(200).set_body_json(body()),
    );
    let slow = post_stub(
        &runtime,
        route,
        ResponseTemplate::new(200)
            .set_body_json(body())
            .set_delay(Duration::from_millis(50)),
    );
    let key = llmring::receipt::keys::encode_private(
        &llmring::receipt::keys::generate().unwrap(),
        llmring::receipt::keys::KeyFormat::Hex,
    )
    .unwrap();
    let config = |base: &str| {
        json!({
            "providers": {"openai": {"api_key": "sk-bench", "base_url": format!("{base}/v1")}},
            "signing_key": key.as_str(),
            "store": ":memory:",
        })
        .to_string()
    };
    let request =
        r#"{"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}"#;

    // Raw POST: the same request body the provider mapping sends, same stub, reqwest.
    let raw_body = serde_json::to_vec(&json!({
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]
    }))
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", stub.uri());
    let raw_post = || {
        runtime.block_on(async {
            let response = http
                .post(&url)
                .header("authorization", "Bearer sk-bench")
                .header("content-type", "application/json")
                .body(raw_body.clone())
                .send()
                .await
                .unwrap();
            let bytes = response.bytes().await.unwrap();
            assert!(!bytes.is_empty());
        })
    };

    // llmring_chat through the C ABI.
    let config_c = CString::new(config(&stub.uri())).unwrap();
    let mut client: *mut llmring_t = std::ptr::null_mut();
    // SAFETY: valid strings and out-pointers.
    let status = unsafe { llmring_new(config_c.as_ptr(), &mut client, std::ptr::null_mut()) };
    assert_eq!(status, llmring_status_t::LLMRING_OK);
    let request_c = CString::new(request).unwrap();
    let chat = || {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: live client, valid strings and out-pointer.
        let status =
            unsafe { llmring_chat(client, request_c.as_ptr(), &mut out, std::ptr::null_mut()) };
        assert_eq!(status, llmring_status_t::LLMRING_OK);
        // SAFETY: returned by llmring, freed once.
        assert!(!unsafe { CStr::from_ptr(out) }.to_bytes().is_empty());
        unsafe { llmring_string_free(out) };
    };

    let mut raw = Vec::with_capacity(CALLS);
    let mut ours = Vec::with_capacity(CALLS);
    for i in 0..WARMUP + CALLS {
        // Interleaved, so both see the same machine state.
        let t = Instant::now();
        raw_post();
        let r = t.elapsed();
        let t = Instant::now();
        chat();
        let c = t.elapsed();
        if i >= WARMUP {
            raw.push(r);
            ours.push(c);
        }
    }
    // SAFETY: from llmring_new, freed once.
    unsafe { llmring_free(client) };
    raw.sort();
    ours.sort();
    println!("latency over {CALLS} sequential calls (after {WARMUP} warm-up), local stub:");
    for (name, p) in [("p50", 0.50), ("p99", 0.99)] {
        let (r, c) = (percentile(&raw, p), percentile(&ours, p));
        println!(
            "  {name}: raw POST {:>8.1} µs | llmring_chat {:>8.1} µs | added {:>7.1} µs",
            r.as_secs_f64() * 1e6,
            c.as_secs_f64() * 1e6,
            (c.as_secs_f64() - r.as_secs_f64()) * 1e6
        );
    }

    // Throughput: 100 calls in flight through the async API, stub waits 50 ms.
    let client = Client::new(Some(&config(&slow.uri()))).unwrap();
    let in_flight = 100;
    let total = 3000;
    let (tx, rx) = mpsc::channel::<bool>();
    let start_one = |tx: mpsc::Sender<bool>| {
        client
            .chat_async(request, Box::new(move |r| tx.send(r.is_ok()).unwrap_or(())))
            .unwrap();
    };
    // Warm the connection pool.
    for _ in 0..in_flight {
        start_one(tx.clone());
    }
    for _ in 0..in_flight {
        assert!(rx.recv().unwrap());
    }
    let t = Instant::now();
    for _ in 0..in_flight {
        start_one(tx.clone());
    }
    let mut done = 0;
    let mut started = in_flight;
    while done < total {
        assert!(rx.recv().unwrap(), "a call failed");
        done += 1;
        if started < total {
            start_one(tx.clone());
            started += 1;
        }
    }
    let elapsed = t.elapsed();
    println!(
        "throughput: {total} calls, {in_flight} in flight, stub waits 50 ms: {:.0} calls/s ({:.2} s)",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
}

//! What server mode adds to a call (the report queued durably in the outbox before the call
//! returns), and how fast the background task delivers reports to a local stub server.
//!
//! Run: cargo bench --bench server
//! Both clients use a file store in a temporary directory and offline mock calls, so the
//! difference is the outbox append (one more fsync) and the wake-up of the drain task.

use std::time::{Duration, Instant};

use llmring::client::Client;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

mod common;
use common::{percentile, post_stub};

const CALLS: usize = 500;
const WARMUP: usize = 50;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stub = post_stub(
        &runtime,
        "/api/v1/log",
        ResponseTemplate::new(200).set_body_json(json!({"log_id": "x"})),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str, server: Option<&str>| {
        let mut c = json!({"store": dir.path().join(name)});
        if let Some(url) = server {
            c["server"] = json!({"url": url, "api_key": "lk-bench"});
        }
        c.to_string()
    };
    let plain = Client::new(Some(&config("plain.jsonl", None))).unwrap();
    let served = Client::new(Some(&config("served.jsonl", Some(&stub.uri())))).unwrap();
    let request =
        r#"{"model":"fast","messages":[{"role":"user","content":"hi"}],"mock_response":"hello"}"#;

    let mut without = Vec::with_capacity(CALLS);
    let mut with = Vec::with_capacity(CALLS);
    let start = Instant::now();
    for i in 0..WARMUP + CALLS {
        let t = Instant::now();
        plain.chat(request).unwrap();
        let a = t.elapsed();
        let t = Instant::now();
        served.chat(request).unwrap();
        let b = t.elapsed();
        if i >= WARMUP {
            without.push(a);
            with.push(b);
        }
    }
    let sync: Value = serde_json::from_str(&served.sync(Duration::from_secs(60)).unwrap()).unwrap();
    let drained = start.elapsed();
    assert_eq!(sync["pending"], 0);
    without.sort();
    with.sort();
    println!("latency over {CALLS} sequential mock calls (after {WARMUP} warm-up), file store:");
    for (name, p) in [("p50", 0.50), ("p99", 0.99)] {
        let (a, b) = (percentile(&without, p), percentile(&with, p));
        println!(
            "  {name}: no server {:>8.1} µs | server mode {:>8.1} µs | added {:>7.1} µs",
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            (b.as_secs_f64() - a.as_secs_f64()) * 1e6
        );
    }
    println!(
        "  {} reports delivered by {:.2} s after the first call (both clients' calls included)",
        sync["sent"],
        drained.as_secs_f64()
    );

    // Delivery alone: a backlog queued while the server was away, then one sync.
    let backlog_dir = tempfile::tempdir().unwrap();
    let down = json!({
        "store": backlog_dir.path().join("r.jsonl"),
        "server": {"url": "http://127.0.0.1:9", "api_key": "lk-bench", "max_backoff_ms": 60000},
    });
    let client = Client::new(Some(&down.to_string())).unwrap();
    for _ in 0..CALLS {
        client.chat(request).unwrap();
    }
    drop(client);
    let mut up = down.clone();
    up["server"]["url"] = stub.uri().into();
    let client = Client::new(Some(&up.to_string())).unwrap();
    let t = Instant::now();
    let sync: Value =
        serde_json::from_str(&client.sync(Duration::from_secs(120)).unwrap()).unwrap();
    let took = t.elapsed();
    assert_eq!(sync["pending"], 0);
    println!(
        "  backlog of {CALLS} reports delivered in {:.2} s ({:.0} reports/s, one at a time, in order)",
        took.as_secs_f64(),
        CALLS as f64 / took.as_secs_f64()
    );
}

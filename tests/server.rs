//! Server mode against a stub llmring server (tests/support/stub_server.rs) on 127.0.0.1:
//! reporting, the outbox while the server is down, slow, failing or dropping connections,
//! a killed client process, refused keys, server receipts and their signatures, and that
//! the API key shows up nowhere but in the `X-API-Key` header. Every wait is on a condition
//! with a bounded timeout.

#[path = "support/stub_server.rs"]
mod stub_server;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use llmring::ErrorKind;
use llmring::client::Client;
use serde_json::{Value, json};
use stub_server::{Mode, StubServer, wait_until};
use support::parse;

/// The server API key of the tests; no output, file or error may contain it.
const KEY: &str = "lk-SECRET-server-5e1f0a77";
const WAIT: Duration = Duration::from_secs(20);

fn store_path(dir: &Path) -> PathBuf {
    dir.join("receipts.jsonl")
}

/// Client configuration: fixture lockfile and registry, the store in `dir`, the server at
/// `url` with `server_extra` on top of fast retries.
fn config(dir: &Path, url: &str, server_extra: Value) -> String {
    let mut server = json!({
        "url": url,
        "api_key": KEY,
        "timeout_ms": 2000,
        "retry_backoff_ms": 20,
        "max_backoff_ms": 200,
    });
    for (k, v) in server_extra.as_object().unwrap() {
        server[k] = v.clone();
    }
    json!({
        "lockfile": support::lockfile_path(),
        "profile": "default",
        "registry": {"dir": support::registry_dir()},
        "store": store_path(dir),
        "server": server,
    })
    .to_string()
}

/// One offline call; returns its response JSON.
fn chat(client: &Client, text: &str) -> Value {
    let request = support::request("fast", json!({"mock_response": text}));
    parse(&client.chat(&request).expect("the call succeeds locally"))
}

fn receipt_id(response: &Value) -> String {
    response["receipt"]["receipt_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn status(client: &Client) -> Value {
    parse(&client.server_status().unwrap())
}

/// Panics when the key is in `text`.
fn assert_no_key(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} contains the API key: {text}");
}

/// Every file in `dir` (store, outbox, server receipts, cached keys) is free of the key.
fn assert_no_key_in_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert_no_key(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

/// How many times the stub received a usage report with idempotency key `key`.
fn deliveries(stub: &StubServer, key: &str) -> usize {
    stub.requests()
        .iter()
        .filter(|r| r.path == "/api/v1/log" && r.header("idempotency-key") == Some(key))
        .count()
}

#[test]
fn each_call_is_reported_in_order_with_its_receipt_and_the_server_receipt_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let client = Client::new(Some(&config(
        dir.path(),
        &stub.url(),
        json!({"conversations": true}),
    )))
    .unwrap();
    let responses: Vec<Value> = (0..3)
        .map(|i| chat(&client, &format!("answer {i}")))
        .collect();
    let ids: Vec<String> = responses.iter().map(receipt_id).collect();
    // The background task reports without being asked.
    wait_until("three usage reports", WAIT, || stub.logged_keys() == ids);
    wait_until("three conversations", WAIT, || {
        stub.accepted("/api/v1/conversations/log").len() == 3
    });
    let sync = parse(&client.sync(Duration::from_secs(5)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(sync["sent"], 6, "{sync}");
    assert_eq!(sync["failed"], json!([]));
    assert_no_key("sync", &sync.to_string());

    for ((key, body), response) in stub.accepted("/api/v1/log").iter().zip(&responses) {
        let usage = &response["usage"];
        let receipt = &response["receipt"];
        assert_eq!(body["idempotency_key"], key.as_str());
        assert_eq!(body["local_receipt_id"], receipt["receipt_id"]);
        assert_eq!(body["id_at_origin"], receipt["receipt_id"]);
        assert_eq!(body["provider"], receipt["provider"]);
        assert_eq!(body["model"], receipt["model"]);
        assert_eq!(body["input_tokens"], usage["prompt_tokens"]);
        assert_eq!(body["output_tokens"], usage["completion_tokens"]);
        assert_eq!(body["cached_input_tokens"], 0);
        assert_eq!(body["alias"], "fast");
        assert_eq!(body["profile"], "default");
        assert_eq!(body["cost"], usage["cost"]);
        assert_eq!(body["origin"], "llmring-rs");
        assert!(body["latency_ms"].is_u64(), "{body}");
        assert_eq!(body["metadata"]["receipt_digest"], usage["receipt_digest"]);
    }
    for (i, (key, body)) in stub
        .accepted("/api/v1/conversations/log")
        .iter()
        .enumerate()
    {
        assert_eq!(key, &format!("{}:conversation", ids[i]));
        assert_eq!(body["messages"][0]["content"], "Say hi");
        assert_eq!(body["response"]["content"], format!("answer {i}"));
    }
    // The key travels in X-API-Key, and only there.
    let requests = stub.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.header("x-api-key"), Some(KEY), "{} {}", r.method, r.path);
        assert_no_key("a request body", &r.body);
        if r.method == "POST" {
            assert_eq!(
                r.header("idempotency-key"),
                r.json()["idempotency_key"].as_str()
            );
        }
    }

    // Server receipts: stored beside the local ones, linked, and they verify.
    let verify = parse(&client.verify_server_receipts().unwrap());
    assert_eq!(verify["server_receipts"], 6, "{verify}");
    assert_eq!(verify["valid"], 6, "{verify}");
    assert_eq!(verify["invalid"], 0);
    let lines = std::fs::read_to_string(dir.path().join("receipts.jsonl.server-receipts")).unwrap();
    let linked: Vec<String> = lines
        .lines()
        .map(parse)
        .filter(|l| l["kind"] == "usage")
        .map(|l| {
            assert_eq!(l["receipt"]["id_at_origin"], l["local_receipt_id"]);
            l["local_receipt_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(linked, ids);

    // Receipts and statistics from the server.
    let stats = parse(
        &client
            .server_stats(Some(r#"{"start_date":"2026-01-01","group_by":"day"}"#))
            .unwrap(),
    );
    assert_eq!(stats["summary"]["total_requests"], 3, "{stats}");
    assert!(stats["query"].as_str().unwrap().contains("group_by=day"));
    let receipts = parse(&client.server_receipts(Some(r#"{"limit":10}"#)).unwrap());
    assert_eq!(receipts["receipts"].as_array().unwrap().len(), 6);
    let bad = client
        .server_stats(Some(r#"{"colour":"red"}"#))
        .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidArgument);
    drop(client);
    assert_no_key_in_files(dir.path());
}

#[test]
fn while_the_server_is_down_or_failing_calls_succeed_and_every_report_arrives_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    stub.stop();
    let client = Client::new(Some(&config(dir.path(), &stub.url(), json!({})))).unwrap();
    let mut ids: Vec<String> = (0..5)
        .map(|i| receipt_id(&chat(&client, &format!("{i}"))))
        .collect();
    let sync = parse(&client.sync(Duration::from_millis(300)).unwrap());
    assert_eq!(sync["pending"], 5, "{sync}");
    assert_eq!(sync["error"]["code"], "LLMRING_NETWORK", "{sync}");
    assert_no_key("sync while down", &sync.to_string());
    assert!(stub.requests().is_empty());

    stub.resume();
    wait_until("the five reports after the server came back", WAIT, || {
        stub.logged_keys() == ids
    });

    // The server answers 500 for a while.
    stub.set_mode(Mode::Status(500));
    ids.extend((5..7).map(|i| receipt_id(&chat(&client, &format!("{i}")))));
    wait_until("a 500 seen by the client", WAIT, || {
        let s = status(&client);
        s["pending"] == 2 && s["error"]["http_status"] == 500
    });
    assert!(deliveries(&stub, &ids[5]) >= 1);
    stub.set_mode(Mode::Normal);
    wait_until("every report, in order", WAIT, || stub.logged_keys() == ids);
    let sync = parse(&client.sync(Duration::from_secs(5)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(sync["error"], Value::Null);
    assert_eq!(stub.logged_keys(), ids, "each report accepted exactly once");
    // Everything settled: the outbox is emptied.
    assert_eq!(
        std::fs::metadata(dir.path().join("receipts.jsonl.outbox"))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_report_whose_answer_was_lost_is_sent_again_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let client = Client::new(Some(&config(
        dir.path(),
        &stub.url(),
        json!({"timeout_ms": 1000}),
    )))
    .unwrap();
    // Dropped after the server processed it.
    stub.set_mode(Mode::DropAfterReceive);
    let first = receipt_id(&chat(&client, "dropped"));
    wait_until("the report sent again", WAIT, || {
        deliveries(&stub, &first) >= 2
    });
    stub.set_mode(Mode::Normal);
    let sync = parse(&client.sync(Duration::from_secs(10)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(stub.logged_keys(), vec![first.clone()]);

    // Slower than the client's timeout: the server processes it late, the client sends again.
    stub.set_mode(Mode::Delay(Duration::from_millis(2500)));
    let second = receipt_id(&chat(&client, "slow"));
    wait_until("the slow report sent again", WAIT, || {
        deliveries(&stub, &second) >= 2
    });
    stub.set_mode(Mode::Normal);
    let sync = parse(&client.sync(Duration::from_secs(10)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(stub.logged_keys(), vec![first.clone(), second.clone()]);
    // One server receipt per local receipt, whatever the number of deliveries.
    let verify = parse(&client.verify_server_receipts().unwrap());
    assert_eq!(verify["server_receipts"], 2, "{verify}");
    assert_eq!(verify["valid"], 2, "{verify}");
}

#[test]
fn a_refused_key_is_an_error_not_retried_and_its_reports_wait() {
    let dir = tempfile::tempdir().unwrap();
    const WRONG: &str = "lk-SECRET-wrong-90210";
    let stub = StubServer::start(KEY);
    let wrong = config(dir.path(), &stub.url(), json!({"api_key": WRONG}));
    let client = Client::new(Some(&wrong)).unwrap();
    let id = receipt_id(&chat(&client, "refused"));
    let err = client.sync(Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server, "{err}");
    assert!(err.message.contains("API key"), "{err}");
    let text = err.to_json().to_string();
    assert!(!text.contains(WRONG), "{text}");
    assert_eq!(err.details["sync"]["error"]["http_status"], 401, "{text}");
    assert_eq!(err.details["sync"]["pending"], 1, "{text}");
    // The C API gives the same as a status number.
    let status_code = llmring::ffi::status::llmring_status_t::from(err.kind);
    assert_eq!(status_code as i32, 19);
    // Not retried on its own: no new request while the client is idle.
    let seen = stub.requests().len();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(stub.requests().len(), seen, "retried in the background");
    let s = status(&client);
    assert_eq!(s["blocked"], true);
    assert_eq!(s["pending"], 1);
    drop(client);

    // Nothing was lost: with the right key, the report goes through.
    let client = Client::new(Some(&config(dir.path(), &stub.url(), json!({})))).unwrap();
    let sync = parse(&client.sync(Duration::from_secs(10)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(stub.logged_keys(), vec![id]);

    // A report the server will never take (422) is set aside, reported once, and does not
    // block the ones after it.
    stub.set_mode(Mode::Status(422));
    let refused = receipt_id(&chat(&client, "never"));
    let err = client.sync(Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(
        err.details["refused"][0]["key"],
        refused.as_str(),
        "{err:?}"
    );
    stub.set_mode(Mode::Normal);
    let after = receipt_id(&chat(&client, "after"));
    let sync = parse(&client.sync(Duration::from_secs(10)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(sync["failed"][0]["key"], refused.as_str(), "{sync}");
    assert_eq!(sync["failed"][0]["error"]["http_status"], 422, "{sync}");
    assert_eq!(stub.logged_keys().last(), Some(&after));
    assert_no_key_in_files(dir.path());
}

#[test]
fn a_server_receipt_with_a_bad_signature_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let cfg = config(dir.path(), &stub.url(), json!({}));
    let client = Client::new(Some(&cfg)).unwrap();
    let good = receipt_id(&chat(&client, "good"));
    client.sync(Duration::from_secs(10)).unwrap();
    let verify = parse(&client.verify_server_receipts().unwrap());
    assert_eq!(
        (verify["valid"].as_u64(), verify["invalid"].as_u64()),
        (Some(1), Some(0))
    );
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_llmring"))
            .args(args)
            .output()
            .unwrap()
    };
    let store = store_path(dir.path());
    let store = store.to_str().unwrap();
    let out = cli(&["verify", "--store", store]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("server receipts: 1 valid, 0 invalid"));

    stub.bad_signatures(true);
    let bad = receipt_id(&chat(&client, "bad"));
    client.sync(Duration::from_secs(10)).unwrap();
    let verify = parse(&client.verify_server_receipts().unwrap());
    assert_eq!(verify["valid"], 1, "{verify}");
    assert_eq!(verify["invalid"], 1, "{verify}");
    assert_eq!(verify["problems"][0]["local_receipt_id"], bad.as_str());
    assert_ne!(good, bad);
    // `llmring verify` flags it, with the cached keys and with keys fetched from the server.
    for args in [
        vec!["verify", "--store", store],
        vec!["verify", "--store", store, "--config", &cfg],
    ] {
        let out = cli(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains("server receipts: 1 valid, 1 invalid"),
            "{stdout}"
        );
        assert!(stdout.contains(&bad), "{stdout}");
        assert_no_key("verify output", &stdout);
        assert_no_key("verify errors", &String::from_utf8_lossy(&out.stderr));
    }
}

fn llmring_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_llmring"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn reports_pending_when_the_process_is_killed_arrive_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    stub.stop();
    let cfg = config(dir.path(), &stub.url(), json!({}));
    let outbox = dir.path().join("receipts.jsonl.outbox");
    let queued = || {
        std::fs::read_to_string(&outbox)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    for i in 0..2 {
        // `chat` waits (here: very long) for its report to reach the server after the call.
        let mut child = Command::new(env!("CARGO_BIN_EXE_llmring"))
            .args(["chat", "--config", &cfg, "--mock", &format!("answer {i}")])
            .args(["--sync-timeout-ms", "600000", &format!("hello {i}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("the report queued", WAIT, || queued() == i + 1);
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child is still sending"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let (store, _) = llmring::store::Store::open(store_path(dir.path())).unwrap();
    let ids: Vec<String> = store
        .select(&llmring::store::Filter::default())
        .unwrap()
        .iter()
        .map(|r| parse(r)["receipt_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(stub.requests().is_empty());

    stub.resume();
    let out = llmring_cli(&["sync", "--config", &cfg, "--timeout", "20"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pending 0, failed 0"), "{stdout}");
    assert_eq!(stub.logged_keys(), ids);
    assert_no_key("sync output", &stdout);
}

#[test]
fn the_api_key_is_in_no_cli_output_or_error() {
    let dir = tempfile::tempdir().unwrap();
    // The stub accepts another key: every request with ours is refused.
    let stub = StubServer::start("lk-other");
    let cfg = config(dir.path(), &stub.url(), json!({}));
    let outputs = [
        llmring_cli(&[
            "chat",
            "--config",
            &cfg,
            "--mock",
            "hi",
            "--sync-timeout-ms",
            "2000",
            "hello",
        ]),
        llmring_cli(&["sync", "--config", &cfg, "--timeout", "2"]),
        llmring_cli(&["sync", "--config", &cfg, "--timeout", "2", "--json"]),
        llmring_cli(&["stats", "--server", "--config", &cfg]),
        llmring_cli(&[
            "verify",
            "--store",
            store_path(dir.path()).to_str().unwrap(),
            "--config",
            &cfg,
        ]),
    ];
    for out in &outputs {
        assert_no_key("stdout", &String::from_utf8_lossy(&out.stdout));
        assert_no_key("stderr", &String::from_utf8_lossy(&out.stderr));
    }
    let sync_err = String::from_utf8_lossy(&outputs[1].stderr);
    assert_eq!(outputs[1].status.code(), Some(2), "{sync_err}");
    assert!(sync_err.contains("refused the API key"), "{sync_err}");
    assert!(String::from_utf8_lossy(&outputs[2].stdout).contains("\"pending\":1"));
    assert_eq!(outputs[3].status.code(), Some(2));
    // The key did go out, in its header.
    assert!(
        stub.requests()
            .iter()
            .any(|r| r.header("x-api-key") == Some(KEY))
    );
    assert_no_key_in_files(dir.path());

    // Plain HTTP to a host that is not loopback is refused, and says so without the key.
    let remote = config(dir.path(), "http://llmring.example.com", json!({}));
    let err = Client::new(Some(&remote)).err().expect("refused");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("https"), "{err}");
    assert_no_key("config error", &err.to_json().to_string());
}

#[test]
fn the_c_api_syncs_and_reads_the_server() {
    use llmring::ffi::client::{llmring_free, llmring_new, llmring_t};
    use llmring::ffi::llmring_string_free;
    use llmring::ffi::server::{llmring_server_stats, llmring_server_status, llmring_sync};
    use llmring::ffi::status::llmring_status_t;
    use std::ffi::{CStr, CString, c_char};

    fn take(s: *mut c_char) -> String {
        assert!(!s.is_null());
        // SAFETY: a string returned by llmring, freed right after.
        let text = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
        // SAFETY: returned by llmring, not freed before.
        unsafe { llmring_string_free(s) };
        text
    }

    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let cfg = CString::new(config(dir.path(), &stub.url(), json!({}))).unwrap();
    let mut client: *mut llmring_t = std::ptr::null_mut();
    let mut err: *mut c_char = std::ptr::null_mut();
    // SAFETY: valid pointers for the call.
    let st = unsafe { llmring_new(cfg.as_ptr(), &mut client, &mut err) };
    assert_eq!(st, llmring_status_t::LLMRING_OK);
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: live client, writable out-pointers.
    let st = unsafe { llmring_sync(client, 5000, &mut out, &mut err) };
    assert_eq!(st, llmring_status_t::LLMRING_OK);
    assert_eq!(parse(&take(out))["pending"], 0);
    // SAFETY: as above.
    let st = unsafe { llmring_server_status(client, &mut out, &mut err) };
    assert_eq!(st, llmring_status_t::LLMRING_OK);
    assert_eq!(parse(&take(out))["blocked"], false);
    let query = CString::new(r#"{"group_by":"month"}"#).unwrap();
    // SAFETY: as above.
    let st = unsafe { llmring_server_stats(client, query.as_ptr(), &mut out, &mut err) };
    assert_eq!(st, llmring_status_t::LLMRING_OK);
    assert_eq!(parse(&take(out))["summary"]["total_requests"], 0);
    // SAFETY: NULL client is refused, not dereferenced.
    let st = unsafe { llmring_sync(std::ptr::null(), 0, &mut out, &mut err) };
    assert_eq!(st, llmring_status_t::LLMRING_INVALID_ARGUMENT);
    take(err);
    // SAFETY: from llmring_new, freed once.
    unsafe { llmring_free(client) };
}

#[test]
fn streamed_calls_are_reported_and_a_memory_store_keeps_its_outbox_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let mut cfg: Value = parse(&config(dir.path(), &stub.url(), json!({})));
    cfg["store"] = ":memory:".into();
    let client = Client::new(Some(&cfg.to_string())).unwrap();
    let request = support::request("fast", json!({"mock_response": "streamed"}));
    let mut chunks = 0;
    let response = parse(
        &client
            .chat_stream(&request, |_| {
                chunks += 1;
                true
            })
            .unwrap(),
    );
    assert_eq!(chunks, 1);
    let id = receipt_id(&response);
    let sync = parse(&client.sync(Duration::from_secs(10)).unwrap());
    assert_eq!(sync["pending"], 0, "{sync}");
    assert_eq!(stub.logged_keys(), vec![id]);
    let verify = parse(&client.verify_server_receipts().unwrap());
    assert_eq!(verify["valid"], 1, "{verify}");
    // Nothing was written beside a memory store.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn clients_sharing_a_store_deliver_each_report_once_in_queue_order() {
    let dir = tempfile::tempdir().unwrap();
    let stub = StubServer::start(KEY);
    let cfg = config(dir.path(), &stub.url(), json!({}));
    // Two clients on one store stand for two processes: each has its own file handles, and
    // the drain lock is a file lock.
    let clients = [
        Client::new(Some(&cfg)).unwrap(),
        Client::new(Some(&cfg)).unwrap(),
    ];
    let per_client: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .map(|c| {
                s.spawn(move || {
                    (0..8)
                        .map(|i| receipt_id(&chat(c, &format!("{i}"))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ids: Vec<String> = per_client.concat();
    for c in &clients {
        let sync = parse(&c.sync(Duration::from_secs(10)).unwrap());
        assert_eq!(sync["pending"], 0, "{sync}");
    }
    let logged = stub.logged_keys();
    for id in &ids {
        assert_eq!(deliveries(&stub, id), 1, "{id} delivered more than once");
    }
    let mut sorted = logged.clone();
    sorted.sort();
    ids.sort();
    assert_eq!(sorted, ids);
    // In queue order: each client's reports arrive in the order of its calls.
    for mine in &per_client {
        let positions: Vec<usize> = mine
            .iter()
            .map(|id| logged.iter().position(|l| l == id).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
    let sent: u64 = clients
        .iter()
        .map(|c| status(c)["sent"].as_u64().unwrap())
        .sum();
    assert_eq!(sent, 16);
}

#[test]
fn clients_of_different_servers_sharing_a_store_each_deliver_their_own_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (StubServer::start(KEY), StubServer::start(KEY));
    let to_a = Client::new(Some(&config(dir.path(), &a.url(), json!({})))).unwrap();
    let to_b = Client::new(Some(&config(dir.path(), &b.url(), json!({})))).unwrap();
    let for_a: Vec<String> = (0..3)
        .map(|i| receipt_id(&chat(&to_a, &format!("a{i}"))))
        .collect();
    let for_b: Vec<String> = (0..2)
        .map(|i| receipt_id(&chat(&to_b, &format!("b{i}"))))
        .collect();
    for c in [&to_a, &to_b] {
        let sync = parse(&c.sync(Duration::from_secs(10)).unwrap());
        assert_eq!(sync["pending"], 0, "{sync}");
    }
    assert_eq!(a.logged_keys(), for_a);
    assert_eq!(b.logged_keys(), for_b);

    // The server section is checked like the rest of the configuration.
    let mut typo: Value = parse(&config(dir.path(), &a.url(), json!({})));
    typo["server"]["api-key"] = "x".into();
    let err = Client::new(Some(&typo.to_string())).err().expect("refused");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("api-key"), "{err}");
    assert_no_key("config error", &err.to_json().to_string());
}

//! The callback API: many calls in flight, each callback exactly once; cancellation of pending
//! calls; dropping a client with calls in flight completes them with `Cancelled`.

mod support;

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use llmring::ErrorKind;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn stub(delay: Duration) -> Stub {
    let stub = Stub::start();
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12});
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(openai_body("hi", Some(usage)))
                    .set_delay(delay),
            ),
    );
    stub
}

type Outcome = (u64, Result<String, llmring::Error>);

/// Starts `n` calls; returns their ids and the channel their callbacks report to.
fn start(client: &llmring::client::Client, n: usize) -> (Vec<u64>, mpsc::Receiver<Outcome>) {
    let (tx, rx) = mpsc::channel();
    let mut ids = Vec::new();
    for _ in 0..n {
        let tx = tx.clone();
        let (id_tx, id_rx) = std::sync::mpsc::channel::<u64>();
        let id = client
            .chat_async(
                &request("fast", json!({})),
                Box::new(move |result| {
                    // The id is sent right after chat_async returns; wait for it.
                    let id = id_rx.recv().unwrap();
                    tx.send((id, result)).unwrap();
                }),
            )
            .unwrap();
        id_tx.send(id).unwrap();
        ids.push(id);
    }
    (ids, rx)
}

/// Collects exactly one outcome per id (fails on a second callback or a missing one).
fn collect(
    ids: &[u64],
    rx: &mpsc::Receiver<Outcome>,
    within: Duration,
) -> HashMap<u64, Result<String, llmring::Error>> {
    let mut seen = HashMap::new();
    let deadline = Instant::now() + within;
    while seen.len() < ids.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let (id, result) = rx.recv_timeout(left).expect("every callback arrives");
        assert!(
            seen.insert(id, result).is_none(),
            "callback for {id} ran twice"
        );
    }
    // No extra callback arrives afterwards.
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    seen
}

#[test]
fn five_hundred_calls_in_flight_each_callback_once() {
    let stub = stub(Duration::from_millis(50));
    let (key, public) = signing_key();
    let client = new_client(&config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"signing_key": key}),
    ));
    let (ids, rx) = start(&client, 500);
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 500, "ids are unique");
    let outcomes = collect(&ids, &rx, Duration::from_secs(60));
    for (id, result) in &outcomes {
        let response = parse(result.as_ref().unwrap_or_else(|e| panic!("call {id}: {e}")));
        assert_eq!(response["content"], "hi");
        assert_verifies(&response["receipt"].to_string(), &public);
    }
    assert_eq!(client.receipts(None).unwrap().len(), 500);
    assert_eq!(stub.requests().len(), 500);
}

#[test]
fn cancelling_pending_calls() {
    let stub = stub(Duration::from_secs(30));
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), json!({})));
    let (ids, rx) = start(&client, 20);
    // Cancel half; cancelling twice or an unknown id does nothing.
    for id in ids.iter().step_by(2) {
        assert!(client.cancel(*id));
        assert!(!client.cancel(*id));
    }
    assert!(!client.cancel(999_999));
    let started = Instant::now();
    let cancelled: Vec<u64> = ids.iter().step_by(2).copied().collect();
    let outcomes = collect(&cancelled, &rx, Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(5));
    for result in outcomes.values() {
        assert_eq!(result.as_ref().unwrap_err().kind, ErrorKind::Cancelled);
    }
    // The others are still in flight; no receipt for any.
    assert!(client.receipts(None).unwrap().is_empty());
    drop(client);
}

#[test]
fn dropping_the_client_completes_calls_in_flight_with_cancelled() {
    let stub = stub(Duration::from_secs(30));
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), json!({})));
    let (ids, rx) = start(&client, 50);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(client);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop does not hang"
    );
    let outcomes = collect(&ids, &rx, Duration::from_secs(1));
    for result in outcomes.values() {
        assert_eq!(result.as_ref().unwrap_err().kind, ErrorKind::Cancelled);
    }
}

#[test]
fn bad_requests_fail_at_once_without_a_callback() {
    let client = new_client(&config(&closed_port_url(), &closed_port_url(), json!({})));
    let err = client
        .chat_async(
            "{not json",
            Box::new(|_| panic!("no callback for a bad request")),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidJson);
    // Provider errors come through the callback.
    let (tx, rx) = mpsc::channel();
    client
        .chat_async(
            &request("fast", json!({})),
            Box::new(move |r| tx.send(r).unwrap()),
        )
        .unwrap();
    let err = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network);
}

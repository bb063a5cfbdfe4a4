//! Budgets: concurrent calls cannot overspend, refused calls send nothing, spend survives a
//! restart and is shared through the store, unpriced calls are refused, soft thresholds warn.

mod support;

use std::sync::{Arc, Mutex};

use llmring::ErrorKind;
use llmring::client::Client;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// gpt-stub at 0.15 / 0.6 per million: 10 prompt + 50 completion tokens cost 0.0000315.
fn stub() -> Stub {
    let stub = Stub::start();
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60});
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(openai_body("hi", Some(usage)))
                    .set_delay(std::time::Duration::from_millis(20)),
            ),
    );
    stub
}

fn sum_of_receipts(client: &Client) -> Decimal {
    client
        .receipts(None)
        .unwrap()
        .iter()
        .map(|r| dec(&parse(r)["total_cost"]))
        .sum()
}

#[test]
fn two_hundred_concurrent_calls_never_overspend() {
    let stub = stub();
    let limit = d("0.0015"); // about 47 calls at their actual cost, fewer at their worst case
    let config = config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({"budgets": [{"limit_usd": "0.0015", "window": "day"}]}),
    );
    let client = Arc::new(new_client(&config));
    let request = request("fast", json!({"max_tokens": 50}));
    let outcomes: Vec<Result<String, llmring::Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|t| {
                let client = Arc::clone(&client);
                let request = request.clone();
                s.spawn(move || {
                    (0..200)
                        .filter(|i| i % 16 == t)
                        .map(|_| client.chat(&request))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(outcomes.len(), 200);
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    for e in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(e.kind, ErrorKind::BudgetExceeded, "{e}");
        assert!(e.details.contains_key("limit") && e.details.contains_key("reserved"));
    }
    assert!(ok > 0 && ok < 200, "{ok} calls succeeded");
    assert_eq!(stub.requests().len(), ok, "refused calls made no request");
    let spent = sum_of_receipts(&client);
    assert!(spent <= limit, "spent {spent} > limit {limit}");
    assert_eq!(spent, d("0.0000315") * Decimal::from(ok));
    let status = parse(&client.budget_status().unwrap());
    assert_eq!(dec(&status["budgets"][0]["spent"]), spent);
    assert_eq!(dec(&status["budgets"][0]["reserved"]), Decimal::ZERO);
}

fn mock_request(prompt: u64, completion: u64) -> String {
    request(
        "fast",
        json!({"mock_response": "ok", "mock_usage": {"prompt_tokens": prompt, "completion_tokens": completion}}),
    )
}

#[test]
fn spend_survives_a_restart_and_is_shared_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("receipts.jsonl");
    // 1000 + 1000 tokens cost 0.00015 + 0.0006 = 0.00075 per call; the limit fits exactly two,
    // so any spend by another process leaves no room for the second.
    let budget = json!({"budgets": [{"limit_usd": "0.0015", "window": "month"}], "store": store});
    let cfg = config(&closed_port_url(), &closed_port_url(), budget.clone());
    {
        let client = new_client(&cfg);
        client.chat(&mock_request(1000, 1000)).unwrap();
    }
    // Another client (a restart) sees the spend.
    let client = new_client(&cfg);
    let status = parse(&client.budget_status().unwrap());
    assert_eq!(status["budgets"][0]["spent"], json!(0.00075));
    // Another process appends to the same store: the CLI, with the same configuration.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_llmring"))
        .args([
            "chat", "--config", &cfg, "--model", "fast", "--mock", "ok", "hi", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let third = client.chat(&mock_request(1000, 1000)).unwrap_err();
    assert_eq!(third.kind, ErrorKind::BudgetExceeded, "{third}");
    let status = parse(&client.budget_status().unwrap());
    let spent = dec(&status["budgets"][0]["spent"]);
    assert!(
        spent > d("0.00075"),
        "the other process's call counts: {spent}"
    );
    assert!(spent <= d("0.0015"));
}

#[test]
fn unpriced_calls_under_a_budget_are_refused_unless_allowed() {
    let stub = stub();
    let budget = json!({"budgets": [{"limit_usd": 1}]});
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), budget));
    let err = client
        .chat(&request("unpriced", json!({"max_tokens": 10})))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CostUnknown, "{err}");
    assert!(err.message.contains("budget_allow_unpriced"), "{err}");
    assert!(stub.requests().is_empty());
    let allowed = json!({"budgets": [{"limit_usd": 1}], "budget_allow_unpriced": true});
    let client = new_client(&config(&stub.openai_base(), &closed_port_url(), allowed));
    let response = parse(
        &client
            .chat(&request("unpriced", json!({"max_tokens": 10})))
            .unwrap(),
    );
    assert_eq!(response["usage"]["cost_status"], "model_not_in_registry");
}

#[test]
fn soft_threshold_warns_in_the_response_and_the_callback() {
    let budget =
        json!({"budgets": [{"name": "small", "limit_usd": "0.001", "soft_threshold": 0.5}]});
    let client = new_client(&config(&closed_port_url(), &closed_port_url(), budget));
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&seen);
    client.on_budget_warning(Some(Box::new(move |w| {
        sink.lock().unwrap().push(w.budget.clone())
    })));
    let first = parse(&client.chat(&mock_request(1000, 500)).unwrap()); // 0.00045
    assert!(first.get("budget_warnings").is_none());
    let second = parse(&client.chat(&mock_request(1000, 500)).unwrap()); // 0.0009 >= 0.0005
    let warnings: &Value = &second["budget_warnings"];
    assert_eq!(warnings[0]["budget"], "small");
    assert_eq!(warnings[0]["spent"], json!(0.0009));
    assert_eq!(*seen.lock().unwrap(), vec!["small".to_owned()]);
}

#[test]
fn lockfile_profiles_carry_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("llmring.lock");
    let text = std::fs::read_to_string(lockfile_path()).unwrap()
        + "\n[[profiles.default.budgets]]\nname = \"default-total\"\nlimit_usd = \"0.0005\"\nalias = \"fast\"\n";
    std::fs::write(&lock, text).unwrap();
    let client = new_client(&config(
        &closed_port_url(),
        &closed_port_url(),
        json!({"lockfile": lock}),
    ));
    client.chat(&mock_request(1000, 500)).unwrap(); // 0.00045
    let err = client.chat(&mock_request(1000, 500)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BudgetExceeded);
    assert_eq!(err.details["budget"], "default-total");
    let status = parse(&client.budget_status().unwrap());
    assert_eq!(status["budgets"][0]["scope"]["profile"], "default");
}

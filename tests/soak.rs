//! Soak (issue 9): 16 threads chat through one client, plain and streamed, against a stub on
//! 127.0.0.1 that injects random faults (HTTP 500, resets before and in the middle of the
//! body, delays) chosen by a seeded RNG, into one durable store. Bounded in count
//! (`LLMRING_SOAK_CALLS`, default 2000) and in time (`LLMRING_SOAK_SECONDS`, default 120: no
//! call starts after that).
//!
//! Asserts: no crash; every call either succeeded with a receipt or failed with a network,
//! timeout or provider error; the store holds exactly one receipt per successful call (by
//! receipt_id) and nothing else, so failed calls left none; the store verifies (chain and
//! signatures); and the resident set size at the end is within [`RSS_GROWTH_BOUND`] of the
//! size after the warm-up. Prints the numbers (BENCHMARKS.md records a long run).

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use llmring::ErrorKind;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::fault_stub::{Fault, FaultStub};
use support::*;

const THREADS: usize = 16;
const SEED: u64 = 0x11_6d72_696e_6709;
/// The largest growth of VmRSS allowed from after the warm-up to the end. Allocator caches
/// and the connection pool settle during the warm-up; a leak of even 1 KiB per call shows
/// over a long run (LLMRING_SOAK_CALLS=20000 would grow by 20 MiB).
const RSS_GROWTH_BOUND: u64 = 16 * 1024 * 1024;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        _ => default,
    }
}

/// The fault for request `n`: the same for a given seed and request number.
fn fault(n: usize) -> Fault {
    let mut rng = SmallRng::seed_from_u64(SEED ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    match rng.random_range(0..100) {
        0..70 => Fault::Ok,
        70..80 => Fault::Status(500),
        80..86 => Fault::ResetMidBody,
        86..90 => Fault::ResetBeforeResponse,
        _ => Fault::Delay(Duration::from_millis(rng.random_range(5..40))),
    }
}

fn vm_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// What the calls did, by call number. Allocated and written in full before the run, so
/// that the bookkeeping itself does not grow the resident set while it is measured.
struct Tally {
    /// The receipt id (as a number) of each successful call; [`NONE`] for the others.
    receipts: Mutex<Vec<u128>>,
    failures: Mutex<BTreeMap<&'static str, u64>>,
}

const NONE: u128 = u128::MAX;

/// A UUID's 128 bits.
fn uuid_bits(text: &str) -> u128 {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    assert_eq!(hex.len(), 32, "not a UUID: {text}");
    u128::from_str_radix(&hex, 16).unwrap_or_else(|e| panic!("not a UUID: {text}: {e}"))
}

/// Runs calls `first..first + calls` over [`THREADS`] threads, until `deadline`.
fn run(
    client: &llmring::client::Client,
    tally: &Tally,
    first: usize,
    calls: usize,
    deadline: Instant,
) {
    let next = std::sync::atomic::AtomicUsize::new(first);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= first + calls || Instant::now() >= deadline {
                        return;
                    }
                    let body = request("fast", json!({"metadata": {"call": i}}));
                    let result = if i % 4 == 3 {
                        client.chat_stream(&body, |_| true)
                    } else {
                        client.chat(&body)
                    };
                    match result {
                        Ok(text) => {
                            let response = parse(&text);
                            let id = response["receipt"]["receipt_id"].as_str();
                            let id = uuid_bits(id.expect("a receipt"));
                            assert_ne!(id, NONE);
                            tally.receipts.lock().unwrap()[i] = id;
                        }
                        Err(e) => {
                            assert_no_secret(&e);
                            let kind = match e.kind {
                                ErrorKind::Network => "network",
                                ErrorKind::Timeout => "timeout",
                                ErrorKind::Provider => "provider",
                                _ => panic!("unexpected failure: {}", e.to_json()),
                            };
                            *tally.failures.lock().unwrap().entry(kind).or_default() += 1;
                        }
                    }
                }
            });
        }
    });
}

#[test]
fn soak_sixteen_threads_one_client_random_faults() {
    let calls = env_number("LLMRING_SOAK_CALLS", 2000) as usize;
    let seconds = env_number("LLMRING_SOAK_SECONDS", 120);
    let warmup = (calls / 10).max(THREADS * 2);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("receipts.jsonl");
    let (key_text, key) = signing_key();
    let stub = FaultStub::start(Box::new(fault));
    let config = config(
        &stub.openai_base(),
        &closed_port_url(),
        json!({
            "store": store, "signing_key": key_text,
            "timeout_ms": 2000, "max_retries": 1, "retry_backoff_ms": 1,
        }),
    );
    let client = new_client(&config);

    let tally = Tally {
        receipts: Mutex::new(vec![NONE; warmup + calls]),
        failures: Mutex::default(),
    };
    // The warm-up, then the calls in ten phases, with VmRSS after each (a leak grows it
    // phase after phase; allocator caches level off).
    run(&client, &tally, 0, warmup, deadline);
    let rss_warm = vm_rss_bytes();
    let mut rss = Vec::new();
    let phases = 10;
    for phase in 0..phases {
        let (start, end) = (calls * phase / phases, calls * (phase + 1) / phases);
        run(&client, &tally, warmup + start, end - start, deadline);
        rss.push(vm_rss_bytes() / 1024);
    }
    let rss_end = vm_rss_bytes();
    let elapsed = started.elapsed();
    let receipts: Vec<u128> = tally
        .receipts
        .into_inner()
        .unwrap()
        .into_iter()
        .filter(|id| *id != NONE)
        .collect();
    let failures = tally.failures.into_inner().unwrap();
    let failed: u64 = failures.values().sum();
    let done = receipts.len() as u64 + failed;
    println!(
        "soak: {done} calls ({} ok, {failed} failed: {failures:?}) by {THREADS} threads, \
         {} requests served, in {:.1} s; VmRSS after the warm-up {} KiB, after each tenth \
         {rss:?} KiB",
        receipts.len(),
        stub.requests(),
        elapsed.as_secs_f64(),
        rss_warm / 1024,
    );
    assert!(
        done > warmup as u64,
        "the time bound cut the run short: {done} calls"
    );
    assert!(
        !receipts.is_empty() && failed > 0,
        "the faults and the successes both happened"
    );

    // Exactly one receipt per successful call, none for a failed one.
    let unique: HashSet<&u128> = receipts.iter().collect();
    assert_eq!(
        unique.len(),
        receipts.len(),
        "a receipt id was returned twice"
    );
    let stored = client.receipts(None).unwrap();
    assert_eq!(
        stored.len(),
        receipts.len(),
        "one stored receipt per successful call"
    );
    let stored_ids: HashSet<u128> = stored
        .iter()
        .map(|text| uuid_bits(parse(text)["receipt_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        stored_ids.len(),
        receipts.len(),
        "a receipt was stored twice"
    );
    assert!(
        receipts.iter().all(|id| stored_ids.contains(id)),
        "a successful call's receipt is missing from the store"
    );

    let options = llmring::store::VerifyOptions {
        keys: vec![key],
        require_signed: true,
        ..Default::default()
    };
    let report = client.store().verify(&options).unwrap();
    assert!(
        report.ok(),
        "the store does not verify: {}",
        report.to_json()
    );
    assert_eq!(report.signatures_valid, receipts.len() as u64);

    assert!(
        rss_end <= rss_warm + RSS_GROWTH_BOUND,
        "VmRSS grew from {rss_warm} to {rss_end} bytes after the warm-up"
    );
}

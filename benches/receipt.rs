//! Issuing and verifying one receipt, beside the bare Ed25519 sign and verify of the same
//! bytes, measured in the same run. Goal (BENCHMARKS.md): issue ≤ 1.25 × bare sign and
//! verify ≤ 1.25 × bare verify.
//!
//! Run: cargo bench --bench receipt

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer;
use llmring::receipt::canonical::{self, Omit};
use llmring::receipt::{self, api, json, keys};
use serde_json::json;
use std::hint::black_box;

fn input() -> serde_json::Value {
    json!({
        "alias": "fast", "profile": "default",
        "lock_digest": format!("sha256:{}", "ab".repeat(32)),
        "provider": "openai", "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 150, "completion_tokens": 300},
        "costs": {"input_cost": "0.0000225", "output_cost": "0.00018"}
    })
}

fn bench(c: &mut Criterion) {
    let key = keys::generate().unwrap();
    let public = key.verifying_key();
    let input = receipt::ReceiptInput::from_value(input()).unwrap();
    let signed = receipt::generate(input.clone())
        .unwrap()
        .issue(Some(&key))
        .unwrap()
        .json;
    let bytes = canonical::jcs(&json::parse_strict(&signed).unwrap(), Omit::Signature).unwrap();
    let signature = key.sign(&bytes);

    let mut group = c.benchmark_group("receipt");
    group.bench_function("bare_sign", |b| b.iter(|| key.sign(black_box(&bytes))));
    group.bench_function("issue", |b| {
        b.iter(|| {
            let mut r = receipt::generate(black_box(input.clone())).unwrap();
            r.issue(Some(&key)).unwrap()
        })
    });
    group.bench_function("bare_verify", |b| {
        b.iter(|| public.verify_strict(black_box(&bytes), &signature).unwrap())
    });
    group.bench_function("verify", |b| {
        b.iter(|| assert!(api::verify(black_box(&signed), &public).unwrap().valid))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

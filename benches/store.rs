//! The receipt store at scale (issue #5): with a store of 1,000,000 signed receipts, the
//! speed (receipts/s) and peak RSS of statistics, CSV export, and full verification batched
//! and one by one (same store, same run); then durable appends from 8 threads with group
//! commit against one fsync per receipt.
//!
//! Run: cargo bench --bench store
//!
//! Each phase runs in a child process (this binary again, with `--phase`), which reports its
//! own peak RSS (`VmHWM` of /proc/self/status, Linux). `LLMRING_BENCH_RECEIPTS` sets another
//! store size, `LLMRING_BENCH_APPENDS` another append count (default 2,000 per mode).
//!
//! Setup: 8,192 distinct receipts (5 aliases, 4 providers, 3 profiles, 365 days) are issued
//! and signed (real Ed25519 signatures with one key), then written over and over with the
//! library's record writer (each line with its own `seq` and `prev`, so the hash chain is
//! that of a real store) up to the store size. Signing a million receipts would only make
//! the setup slower: every phase reads, parses and checks each line as it comes.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use llmring::export::{self, Format};
use llmring::receipt::keys::SigningKey;
use llmring::receipt::{ReceiptInput, generate};
use llmring::stats::{self, GroupBy};
use llmring::store::verify::{self, VerifyOptions};
use llmring::store::{FileStore, FileStoreOptions, Filter, Store, record};
use serde_json::json;

const POOL: usize = 8192;
const THREADS: usize = 8;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// `POOL` distinct signed receipts.
fn pool(n: usize) -> Vec<String> {
    const ALIASES: [&str; 5] = ["fast", "smart", "cheap", "vision", "long"];
    const MODELS: [(&str, &str); 4] = [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-3-5-haiku"),
        ("google", "gemini-2.0-flash"),
        ("ollama", "llama3.2"),
    ];
    const PROFILES: [&str; 3] = ["default", "prod", "dev"];
    let key = key();
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00.000Z").unwrap();
    (0..n)
        .map(|i| {
            let (provider, model) = MODELS[i % MODELS.len()];
            let input = ReceiptInput::from_value(json!({
                "alias": ALIASES[i % ALIASES.len()],
                "profile": PROFILES[i % PROFILES.len()],
                "lock_digest": format!("sha256:{}", "ab".repeat(32)),
                "provider": provider,
                "model": model,
                "usage": {"prompt_tokens": 100 + i % 900, "completion_tokens": 50 + i % 1500},
                "costs": {
                    "input_cost": format!("0.{:07}", 150 + i % 9000),
                    "output_cost": format!("0.{:06}", 120 + i % 90000),
                },
            }))
            .unwrap();
            let mut r = generate(input).unwrap();
            let t = start
                + chrono::Duration::seconds((i as i64 * 3851) % (365 * 86400))
                + chrono::Duration::milliseconds(i as i64 % 1000);
            r.timestamp = t
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            r.issue(Some(&key)).unwrap().json
        })
        .collect()
}

/// Writes a store of `n` records cycling through `receipts`.
fn build_store(path: &Path, receipts: &[String], n: u64) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(1024);
    let mut prev = record::GENESIS.to_owned();
    for seq in 1..=n {
        line.clear();
        record::write_line(
            &mut line,
            seq,
            &prev,
            &receipts[(seq as usize - 1) % receipts.len()],
        );
        prev = record::line_digest(&line[..line.len() - 1]);
        out.write_all(&line).unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();
}

/// Peak resident set of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs one phase in this process; prints `RESULT <receipts> <seconds> <peak KiB>`.
fn phase(name: &str, path: &Path) {
    let options = VerifyOptions::with_keys(vec![key().verifying_key()]);
    let started = Instant::now();
    let n = match name {
        "stats" => {
            let (store, _) = Store::open(path).unwrap();
            let s = stats::compute(store.iter(Filter::default()).unwrap(), &GroupBy::ALL).unwrap();
            assert!(s.group(GroupBy::Day).len() > 300);
            s.total.requests
        }
        "csv" => {
            let (store, _) = Store::open(path).unwrap();
            let out = path.with_extension("csv");
            let n =
                export::export_to_path(store.iter(Filter::default()).unwrap(), Format::Csv, &out)
                    .unwrap();
            std::fs::remove_file(out).unwrap();
            n
        }
        "verify-batched" | "verify-one-by-one" => {
            let batch = if name == "verify-batched" {
                verify::BATCH
            } else {
                1
            };
            let report = verify::verify_path_batched(path, &options, batch, &mut |_| {}).unwrap();
            assert!(report.ok(), "{:?}", report.first_problem());
            assert_eq!(report.signatures_valid, report.records);
            report.records
        }
        "appends-group-commit" | "appends-fsync-each" => {
            let group_commit = name == "appends-group-commit";
            let (store, _) = FileStore::open_with(path, FileStoreOptions { group_commit }).unwrap();
            let store = Arc::new(store);
            let total = count("LLMRING_BENCH_APPENDS", 2000);
            let receipts = Arc::new(pool(64));
            let started = Instant::now();
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let store = Arc::clone(&store);
                    let receipts = Arc::clone(&receipts);
                    std::thread::spawn(move || {
                        let mine =
                            total / THREADS as u64 + u64::from((t as u64) < total % THREADS as u64);
                        for i in 0..mine {
                            store
                                .append(receipts[(i as usize + t) % receipts.len()].clone())
                                .unwrap();
                        }
                        mine
                    })
                })
                .collect();
            let n: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "RESULT {n} {secs} {} fsyncs={}",
                vm_hwm_kib(),
                store.sync_count()
            );
            return;
        }
        other => panic!("unknown phase {other}"),
    };
    let secs = started.elapsed().as_secs_f64();
    println!("RESULT {n} {secs} {}", vm_hwm_kib());
}

struct Measured {
    name: &'static str,
    receipts: u64,
    secs: f64,
    peak_kib: u64,
    note: String,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.receipts as f64 / self.secs
    }
}

fn run_child(name: &'static str, path: &Path) -> Measured {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--phase", name])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "phase {name} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("phase {name} printed no result: {stdout}"));
    let mut f = line.split_whitespace();
    let m = Measured {
        name,
        receipts: f.next().unwrap().parse().unwrap(),
        secs: f.next().unwrap().parse().unwrap(),
        peak_kib: f.next().unwrap().parse().unwrap(),
        note: f.collect::<Vec<_>>().join(" "),
    };
    eprintln!(
        "{:<22} {:>9} receipts in {:>8.2} s: {:>10.0} receipts/s, peak RSS {:>6.1} MiB {}",
        m.name,
        m.receipts,
        m.secs,
        m.rate(),
        m.peak_kib as f64 / 1024.0,
        m.note
    );
    m
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        phase(&args[i + 1], &PathBuf::from(&args[i + 2]));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let n = count("LLMRING_BENCH_RECEIPTS", 1_000_000);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("receipts.jsonl");

    let started = Instant::now();
    let receipts = pool(POOL.min(n as usize).max(1));
    let signed = started.elapsed().as_secs_f64();
    build_store(&path, &receipts, n);
    drop(receipts);
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "store: {n} receipts, {:.0} MiB, in {:.1} s ({POOL} signed in {signed:.1} s); {}",
        size as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64(),
        path.display()
    );

    let results: Vec<Measured> = ["stats", "csv", "verify-batched", "verify-one-by-one"]
        .into_iter()
        .map(|p| run_child(p, &path))
        .collect();
    std::fs::remove_file(&path).unwrap();
    let appends: Vec<Measured> = ["appends-group-commit", "appends-fsync-each"]
        .into_iter()
        .map(|p| {
            let path = dir.path().join(format!("{p}.jsonl"));
            let m = run_child(p, &path);
            std::fs::remove_file(&path).unwrap();
            m
        })
        .collect();

    let mib = |m: &Measured| m.peak_kib as f64 / 1024.0;
    let yes = |b: bool| if b { "met" } else { "MISSED" };
    println!("\n| phase | receipts | time (s) | receipts/s | peak RSS (MiB) |");
    println!("|---|---:|---:|---:|---:|");
    for m in results.iter().chain(&appends) {
        println!(
            "| {}{} | {} | {:.2} | {:.0} | {:.1} |",
            m.name,
            if m.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", m.note)
            },
            m.receipts,
            m.secs,
            m.rate(),
            mib(m)
        );
    }
    let [stats, csv, batched, one] = &results[..] else {
        unreachable!()
    };
    let speedup = batched.rate() / one.rate();
    println!();
    println!(
        "- stats ≥ 500k receipts/s: {:.0}/s, {}",
        stats.rate(),
        yes(stats.rate() >= 500_000.0)
    );
    println!(
        "- CSV export ≥ 250k receipts/s: {:.0}/s, {}",
        csv.rate(),
        yes(csv.rate() >= 250_000.0)
    );
    let peak = results.iter().map(mib).fold(0.0, f64::max);
    println!(
        "- peak RSS < 64 MiB each: at most {peak:.1} MiB, {}",
        yes(peak < 64.0)
    );
    println!(
        "- batched verification ≥ 1.5× one by one: {speedup:.2}×, {}",
        yes(speedup >= 1.5)
    );
    println!(
        "- appends from {THREADS} threads: group commit {:.0}/s, one fsync each {:.0}/s ({:.1}×)",
        appends[0].rate(),
        appends[1].rate(),
        appends[0].rate() / appends[1].rate()
    );
}

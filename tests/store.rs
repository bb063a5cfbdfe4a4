//! The durable receipt store: format, durability, repair, locking, group commit, tamper
//! evidence, streaming.

#[path = "fixtures/store/common.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::{Spec, id_of, key, lines, other_key, receipt, signed, write_lines};
use llmring::ErrorKind;
use llmring::store::verify::{self, VerifyOptions};
use llmring::store::{FileStore, Filter, ProblemKind, Store, record};

// ---- a per-thread allocation counter, to show that iteration streams ----

struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let n = c.get() + delta;
        c.set(n);
        let _ = PEAK.try_with(|p| {
            if n > p.get() {
                p.set(n)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---- helpers ----

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("receipts.jsonl");
    (dir, path)
}

fn store_with(path: &Path, n: usize) -> (FileStore, Vec<String>) {
    let (store, repair) = FileStore::open(path).unwrap();
    assert!(repair.is_none());
    let receipts: Vec<String> = (0..n).map(|i| signed(&format!("alias{i}"))).collect();
    for (i, r) in receipts.iter().enumerate() {
        let a = store.append(r.clone()).unwrap();
        assert_eq!(a.seq, i as u64 + 1);
    }
    (store, receipts)
}

fn all(store: &FileStore) -> Vec<String> {
    store
        .iter(Filter::default())
        .unwrap()
        .map(|r| r.unwrap().json)
        .collect()
}

fn with_key() -> VerifyOptions {
    VerifyOptions::with_keys(vec![key().verifying_key()])
}

// ---- format, append, reopen ----

#[test]
fn append_reopen_iterate() {
    let (_dir, path) = tmp();
    let (store, receipts) = store_with(&path, 3);
    assert_eq!(all(&store), receipts);
    drop(store);

    let (store, repair) = FileStore::open(&path).unwrap();
    assert!(repair.is_none());
    let records: Vec<_> = store
        .iter(Filter::default())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 3);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(r.line, i as u64 + 1);
        assert_eq!(r.json, receipts[i]);
        assert_eq!(r.view.alias, format!("alias{i}"));
    }
    assert_eq!(records[0].offset, 0);
    assert!(records[1].offset > 0);

    // The documented format: JSON Lines, seq from 1, prev = sha256 of the previous line.
    let raw = lines(&path);
    assert_eq!(raw.len(), 3);
    let mut prev = record::GENESIS.to_owned();
    for (i, line) in raw.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["seq"], i as u64 + 1);
        assert_eq!(v["prev"], prev.as_str());
        assert_eq!(v["receipt"].to_string(), receipts[i]);
        assert_eq!(
            llmring::receipt::to_json(&v["receipt"]).unwrap(),
            receipts[i]
        );
        prev = record::line_digest(line);
    }
    assert_eq!(store.head().unwrap().digest, prev);
    assert_eq!(store.head().unwrap().seq, 3);

    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.records, 3);
    assert_eq!(report.signatures_valid, 3);
    assert_eq!(report.head, prev);
}

#[test]
fn durable_once_append_returns() {
    let (_dir, path) = tmp();
    let (writer, _) = FileStore::open(&path).unwrap();
    for i in 0..5 {
        let r = signed(&format!("a{i}"));
        writer.append(r.clone()).unwrap();
        // A new handle (as another process would) sees it at once.
        let (reader, _) = FileStore::open(&path).unwrap();
        assert_eq!(all(&reader).last(), Some(&r));
        let read_only: Vec<_> = llmring::store::file::read_path(&path, Filter::default())
            .unwrap()
            .map(|r| r.unwrap().json)
            .collect();
        assert_eq!(read_only.len(), i + 1);
    }
}

#[test]
fn refuses_what_is_not_a_receipt_and_writes_nothing() {
    let (_dir, path) = tmp();
    let (store, _) = store_with(&path, 1);
    let before = std::fs::read(&path).unwrap();
    for bad in [
        "not json".to_owned(),
        "{}".to_owned(),
        "{\"a\":\n1}".to_owned(),
        format!(" {}", signed("x")),
    ] {
        let e = store.append(bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn memory_store_through_the_same_interface() {
    let store = Store::memory();
    assert!(store.path().is_none());
    let a = store.append(signed("m1")).unwrap();
    let b = store.append(signed("m2")).unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    let got: Vec<_> = store
        .iter(Filter::default())
        .unwrap()
        .map(|r| r.unwrap().view.alias)
        .collect();
    assert_eq!(got, ["m1", "m2"]);
    let report = store.verify(&with_key()).unwrap();
    assert!(report.ok());
    assert_eq!(report.signatures_valid, 2);
    let (mem, _) = Store::from_spec(Some(":memory:")).unwrap();
    assert!(matches!(mem, Store::Memory(_)));
}

#[test]
fn store_from_a_path_spec() {
    let (_dir, path) = tmp();
    let (store, _) = Store::from_spec(Some(path.to_str().unwrap())).unwrap();
    store.append(signed("p")).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(store.select(&Filter::default()).unwrap().len(), 1);
    assert!(
        llmring::store::default_path()
            .unwrap()
            .ends_with("llmring/receipts.jsonl")
    );
}

// ---- filters ----

#[test]
fn filters_since_until_and_fields() {
    let (_dir, path) = tmp();
    let (store, _) = FileStore::open(&path).unwrap();
    let days = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"];
    for (i, d) in days.iter().enumerate() {
        let ts = format!("{d}T00:00:00.000Z");
        let r = receipt(
            &Spec {
                timestamp: &ts,
                provider: if i % 2 == 0 { "openai" } else { "anthropic" },
                ..Spec::default()
            },
            Some(&key()),
        );
        store.append(r).unwrap();
    }
    let count = |f: &str| {
        store
            .iter(Filter::from_json(Some(f)).unwrap())
            .unwrap()
            .map(|r| r.unwrap().view.timestamp[..10].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        count(r#"{"since":"2025-01-02T00:00:00Z","until":"2025-01-04T00:00:00Z"}"#),
        ["2025-01-02", "2025-01-03"]
    );
    assert_eq!(count(r#"{"since":"2025-01-03T00:00:00Z"}"#).len(), 2);
    assert_eq!(count(r#"{"until":"2025-01-01T00:00:00Z"}"#).len(), 0);
    assert_eq!(
        count(r#"{"provider":"anthropic"}"#),
        ["2025-01-02", "2025-01-04"]
    );
    assert!(Filter::from_json(Some(r#"{"since":"yesterday"}"#)).is_err());
}

// ---- repair ----

#[test]
fn torn_last_line_is_repaired_on_open_and_reported() {
    let (_dir, path) = tmp();
    let (store, receipts) = store_with(&path, 3);
    drop(store);
    let good_len = std::fs::metadata(&path).unwrap().len();
    let torn = b"{\"seq\":4,\"prev\":\"00ab";
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(torn)
        .unwrap();

    // Verification (read-only) reports it, with its place.
    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert!(!report.ok());
    assert_eq!(report.torn_tail, Some(good_len));
    let p = report.first_problem().unwrap();
    assert_eq!(
        (p.kind, p.line, p.offset),
        (ProblemKind::TornTail, 4, good_len)
    );
    // Reading skips it: it was never a receipt whose append returned.
    let n = llmring::store::file::read_path(&path, Filter::default())
        .unwrap()
        .count();
    assert_eq!(n, 3);

    let (store, repair) = FileStore::open(&path).unwrap();
    let repair = repair.expect("a repair is reported");
    assert_eq!(repair.offset, good_len);
    assert_eq!(repair.removed_bytes, torn.len() as u64);
    assert_eq!(repair.last_seq, 3);
    assert_eq!(
        std::fs::read(repair.saved_to.as_ref().unwrap()).unwrap(),
        torn
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
    assert_eq!(all(&store), receipts);
    let a = store.append(signed("after")).unwrap();
    assert_eq!(a.seq, 4);
    assert!(verify::verify_path(&path, &with_key()).unwrap().ok());
}

#[test]
fn unreadable_last_line_is_repaired() {
    let (_dir, path) = tmp();
    let (store, receipts) = store_with(&path, 2);
    drop(store);
    let good_len = std::fs::metadata(&path).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"\0\0\0\0\0\0\n").unwrap();
    drop(f);
    let (store, repair) = FileStore::open(&path).unwrap();
    let repair = repair.unwrap();
    assert_eq!(repair.offset, good_len);
    assert_eq!(repair.last_seq, 2);
    assert_eq!(all(&store), receipts);
    assert!(store.take_repairs().is_empty());
}

#[test]
fn torn_record_left_by_another_writer_is_repaired_by_the_next_append() {
    let (_dir, path) = tmp();
    let (store, _) = store_with(&path, 2);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"seq\":3,")
        .unwrap();
    assert_eq!(store.append(signed("next")).unwrap().seq, 3);
    let repairs = store.take_repairs();
    assert_eq!(repairs.len(), 1);
    assert!(verify::verify_path(&path, &with_key()).unwrap().ok());
}

#[test]
fn bad_middle_line_is_an_error_with_its_place_and_nothing_is_dropped() {
    let (_dir, path) = tmp();
    let (store, _) = store_with(&path, 4);
    drop(store);
    let mut l = lines(&path);
    let offset: u64 = (l[0].len() + 1) as u64;
    l[1] = b"{\"seq\":2,garbage".to_vec();
    write_lines(&path, &l);
    let before = std::fs::read(&path).unwrap();

    let (store, repair) = FileStore::open(&path).unwrap();
    assert!(repair.is_none());
    let mut it = store.iter(Filter::default()).unwrap();
    assert!(it.next().unwrap().is_ok());
    let e = it.next().unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Store);
    assert!(e.message.contains("line 2"), "{e}");
    assert!(e.message.contains(&format!("byte offset {offset}")), "{e}");
    assert_eq!(e.details["line"], 2);
    assert_eq!(e.details["offset"], offset);
    assert!(it.next().is_none(), "the stream stops at a bad record");

    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert_eq!(report.bad_records, 1);
    let p = report.first_problem().unwrap();
    assert_eq!(
        (p.kind, p.line, p.offset),
        (ProblemKind::BadRecord, 2, offset)
    );
    // Line 3 chained to what line 2 was: the change shows there too. Every line is counted.
    assert_eq!(report.records, 4);
    assert_eq!(report.chain_breaks, 1);
    assert_eq!(report.problems[1].line, 3);

    // Appending still works and the file keeps every byte it had.
    store.append(signed("more")).unwrap();
    assert!(std::fs::read(&path).unwrap().starts_with(&before));
}

// ---- tamper evidence ----

fn tampered(edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = tmp();
    let (store, _) = store_with(&path, 5);
    drop(store);
    let mut l = lines(&path);
    edit(&mut l);
    write_lines(&path, &l);
    (dir, path)
}

fn problems(path: &Path, options: &VerifyOptions) -> Vec<(ProblemKind, u64)> {
    let report = verify::verify_path(path, options).unwrap();
    assert!(!report.ok());
    report.problems.iter().map(|p| (p.kind, p.line)).collect()
}

fn replace(line: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(line.to_vec()).unwrap();
    assert!(s.contains(from), "{s}");
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn verify_finds_a_changed_field() {
    let (_d, path) =
        tampered(|l| l[2] = replace(&l[2], "\"total_tokens\":300", "\"total_tokens\":30"));
    assert_eq!(
        problems(&path, &with_key()),
        [
            (ProblemKind::SignatureInvalid, 3),
            (ProblemKind::ChainBreak, 4)
        ]
    );
    // Without a key the chain alone still finds it, one line later.
    assert_eq!(
        problems(&path, &VerifyOptions::default()),
        [(ProblemKind::ChainBreak, 4)]
    );
    let report = verify::verify_path(&path, &VerifyOptions::default()).unwrap();
    let p = report.first_problem().unwrap();
    assert_eq!(p.seq, Some(4));
    assert!(p.message.contains("line 3 was changed"), "{}", p.message);
}

#[test]
fn verify_finds_a_changed_signature() {
    let (_d, path) = tampered(|l| {
        let other = signed("alias1");
        let v: serde_json::Value = serde_json::from_str(&other).unwrap();
        let sig = v["signature"].as_str().unwrap().to_owned();
        let line: serde_json::Value = serde_json::from_slice(&l[1]).unwrap();
        let old = line["receipt"]["signature"].as_str().unwrap().to_owned();
        l[1] = replace(&l[1], &old, &sig);
    });
    assert_eq!(
        problems(&path, &with_key()),
        [
            (ProblemKind::SignatureInvalid, 2),
            (ProblemKind::ChainBreak, 3)
        ]
    );
}

#[test]
fn verify_finds_a_deleted_record() {
    let (_d, path) = tampered(|l| {
        l.remove(2);
    });
    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert_eq!(report.chain_breaks, 1);
    let p = report.first_problem().unwrap();
    assert_eq!(
        (p.kind, p.line, p.seq),
        (ProblemKind::ChainBreak, 3, Some(4))
    );
    assert!(
        p.message.contains("seq is 4 where 3 was expected"),
        "{}",
        p.message
    );
    assert_eq!(report.signatures_valid, 4);
}

#[test]
fn verify_finds_a_deleted_first_record() {
    let (_d, path) = tampered(|l| {
        l.remove(0);
    });
    assert_eq!(problems(&path, &with_key()), [(ProblemKind::ChainBreak, 1)]);
}

#[test]
fn verify_finds_an_inserted_record() {
    // A copy of record 2 inserted after it, and a forged record that chains correctly.
    let (_d, path) = tampered(|l| {
        let copy = l[1].clone();
        l.insert(2, copy);
    });
    assert_eq!(problems(&path, &with_key()), [(ProblemKind::ChainBreak, 3)]);

    let (_d2, path2) = tampered(|l| {
        let mut forged = Vec::new();
        record::write_line(
            &mut forged,
            3,
            &record::line_digest(&l[1]),
            &signed("forged"),
        );
        forged.pop();
        l.insert(2, forged);
    });
    assert_eq!(
        problems(&path2, &with_key()),
        [(ProblemKind::ChainBreak, 4)]
    );
    // Signed with a key we do not trust: the signature problem points at it.
    let (_d3, path3) = tampered(|l| {
        let mut forged = Vec::new();
        let r = receipt(&Spec::default(), Some(&other_key()));
        record::write_line(&mut forged, 3, &record::line_digest(&l[1]), &r);
        forged.pop();
        l.insert(2, forged);
    });
    assert_eq!(
        problems(&path3, &with_key()),
        [
            (ProblemKind::SignatureInvalid, 3),
            (ProblemKind::ChainBreak, 4)
        ]
    );
}

#[test]
fn verify_finds_reordered_records() {
    let (_d, path) = tampered(|l| l.swap(1, 2));
    let got = problems(&path, &with_key());
    assert_eq!(got[0], (ProblemKind::ChainBreak, 2));
    assert!(got.iter().all(|(k, _)| *k == ProblemKind::ChainBreak));
}

#[test]
fn verify_finds_a_flipped_byte() {
    let (_d, path) = tmp();
    let (store, _) = store_with(&path, 5);
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    let l = lines(&path);
    let at = l[0].len() + 1 + l[1].len() / 2; // the middle of line 2
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let got = problems(&path, &with_key());
    assert_eq!(got.first().map(|p| p.1), Some(2), "{got:?}");
    assert!(got.contains(&(ProblemKind::ChainBreak, 3)), "{got:?}");
}

#[test]
fn verify_with_a_wrong_key_and_unsigned_receipts() {
    let (_dir, path) = tmp();
    let (store, _) = FileStore::open(&path).unwrap();
    store.append(signed("s")).unwrap();
    store.append(receipt(&Spec::default(), None)).unwrap();
    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert!(report.ok());
    assert_eq!((report.signatures_valid, report.unsigned), (1, 1));
    let strict = VerifyOptions {
        require_signed: true,
        ..with_key()
    };
    assert_eq!(problems(&path, &strict), [(ProblemKind::Unsigned, 2)]);
    let wrong = VerifyOptions::with_keys(vec![other_key().verifying_key()]);
    let report = verify::verify_path(&path, &wrong).unwrap();
    assert_eq!(report.signatures_invalid, 1);
    let opts = VerifyOptions::from_json(Some(r#"{"public_keys":[]}"#)).unwrap();
    let report = verify::verify_path(&path, &opts).unwrap();
    assert_eq!(report.signatures_unchecked, 1);
    assert!(report.to_json()["ok"].as_bool().unwrap());
}

// ---- concurrency ----

const CHILD_ENV: &str = "LLMRING_STORE_TEST_CHILD";

/// Not a test by itself: the body of the child processes spawned by the tests below.
/// `path;count;tag;mode` — appends `count` receipts with aliases `tag-i`, printing
/// `APPENDED <receipt_id>` after each append returned. Mode `loop` appends until killed.
#[test]
fn child_process_helper() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split(';').collect();
    let (store, _) = FileStore::open(parts[0]).unwrap();
    let count: usize = parts[1].parse().unwrap();
    let out = std::io::stdout();
    let mut i = 0;
    while parts[3] == "loop" || i < count {
        let r = receipt(
            &Spec {
                alias: &format!("{}-{i}", parts[2]),
                ..Spec::default()
            },
            None,
        );
        let id = id_of(&r);
        store.append(r).unwrap();
        let mut out = out.lock();
        writeln!(out, "APPENDED {id}").unwrap();
        out.flush().unwrap();
        i += 1;
    }
}

fn spawn_child(path: &Path, count: usize, tag: &str, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_helper",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{};{count};{tag};{mode}", path.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn ids_in_store(path: &Path) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for r in llmring::store::file::read_path(path, Filter::default()).unwrap() {
        *ids.entry(r.unwrap().view.receipt_id).or_insert(0) += 1;
    }
    ids
}

#[test]
fn two_processes_and_eight_threads_append_at_once() {
    let (_dir, path) = tmp();
    FileStore::open(&path).unwrap();
    let children: Vec<_> = (0..2)
        .map(|p| spawn_child(&path, 40, &format!("proc{p}"), "count"))
        .collect();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each thread its own handle (its own lock), as separate processes would.
                let (store, _) = FileStore::open(&path).unwrap();
                (0..25)
                    .map(|i| {
                        let r = signed(&format!("thread{t}-{i}"));
                        let id = id_of(&r);
                        store.append(r).unwrap();
                        id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut expected: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let ids: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_once("APPENDED ").map(|(_, id)| id.trim()))
            .map(str::to_owned)
            .collect();
        assert_eq!(ids.len(), 40);
        expected.extend(ids);
    }
    let ids = ids_in_store(&path);
    assert_eq!(ids.len(), expected.len());
    assert_eq!(expected.len(), 8 * 25 + 2 * 40);
    for id in &expected {
        assert_eq!(ids.get(id), Some(&1), "{id}");
    }
    let report = verify::verify_path(&path, &VerifyOptions::default()).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.records, expected.len() as u64);
    assert_eq!(report.last_seq, expected.len() as u64);
}

#[test]
fn many_threads_through_one_handle_share_fsyncs() {
    let (_dir, path) = tmp();
    let (store, _) = FileStore::open(&path).unwrap();
    let store = Arc::new(store);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                (0..20)
                    .map(|i| {
                        let r = signed(&format!("g{t}-{i}"));
                        let id = id_of(&r);
                        let a = store.append(r).unwrap();
                        assert!(a.seq >= 1 && a.digest.is_some());
                        id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let expected: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let ids = ids_in_store(&path);
    assert_eq!(ids.len(), 320);
    assert!(expected.iter().all(|id| ids.get(id) == Some(&1)));
    assert!(store.sync_count() <= 320);
    eprintln!("320 appends from 16 threads: {} fsyncs", store.sync_count());
    assert!(verify::verify_path(&path, &with_key()).unwrap().ok());
}

#[cfg(unix)]
#[test]
fn appends_that_returned_survive_sigkill() {
    let (_dir, path) = tmp();
    FileStore::open(&path).unwrap();
    let mut returned: Vec<String> = Vec::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..6 {
        let mut child = spawn_child(&path, 0, &format!("kill{round}"), "loop");
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let stop_after = 3 + (seed >> 33) % 20;
        let mut line = String::new();
        let mut seen = 0;
        while seen < stop_after {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some((_, id)) = line.trim().split_once("APPENDED ") {
                returned.push(id.to_owned());
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, maybe in the middle of an append
        // Whatever the child printed before it died was also returned.
        for l in reader.lines() {
            if let Some((_, id)) = l.unwrap().trim().split_once("APPENDED ") {
                returned.push(id.to_owned());
            }
        }
        child.wait().unwrap();
        let (_store, _repair) = FileStore::open(&path).unwrap();
        let report = verify::verify_path(&path, &VerifyOptions::default()).unwrap();
        assert!(report.ok(), "round {round}: {:?}", report.problems);
        let ids = ids_in_store(&path);
        for id in &returned {
            assert_eq!(ids.get(id), Some(&1), "round {round}: {id} lost");
        }
    }
}

// ---- streaming ----

#[test]
fn iterating_a_large_store_streams_in_bounded_memory() {
    const N: u64 = 100_000;
    let (_dir, path) = tmp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let template = receipt(&Spec::default(), None);
    let id = id_of(&template);
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut prev = record::GENESIS.to_owned();
        let mut line = Vec::new();
        for seq in 1..=N {
            line.clear();
            let r = template.replace(&id, &format!("{seq:036}"));
            record::write_line(&mut line, seq, &prev, &r);
            prev = record::line_digest(&line[..line.len() - 1]);
            out.write_all(&line).unwrap();
        }
    }
    let file_len = std::fs::metadata(&path).unwrap().len();
    assert!(file_len > 30_000_000, "{file_len}");
    let (store, repair) = FileStore::open(&path).unwrap();
    assert!(repair.is_none());

    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let mut n = 0u64;
    let mut tokens = 0u64;
    for r in store.iter(Filter::default()).unwrap() {
        let r = r.unwrap();
        n += 1;
        assert_eq!(r.seq, n);
        tokens += r.view.total_tokens;
    }
    let peak = PEAK.with(Cell::get) - base;
    assert_eq!(n, N);
    assert_eq!(tokens, 300 * N);
    assert!(
        peak < 2 * 1024 * 1024,
        "iterating a {file_len}-byte store allocated up to {peak} bytes at once"
    );
}

// ---- batched signature checks ----

/// Writes a store file whose chain is intact, from receipt texts, with the library's record
/// writer (so only the signatures are in question).
fn write_store(path: &Path, receipts: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = Vec::new();
    let mut prev = record::GENESIS.to_owned();
    for (i, r) in receipts.iter().enumerate() {
        let start = out.len();
        record::write_line(&mut out, i as u64 + 1, &prev, r);
        prev = record::line_digest(&out[start..out.len() - 1]);
    }
    std::fs::write(path, out).unwrap();
}

/// A receipt signed the way the reference Python signer signs: over its legacy bytes, the
/// signature in plain standard base64.
fn legacy_signed(alias: &str) -> String {
    use base64::Engine;
    use ed25519_dalek::Signer;
    use llmring::receipt::canonical::{self, Omit};
    let unsigned = receipt(
        &Spec {
            alias,
            ..Spec::default()
        },
        None,
    );
    let mut value: serde_json::Value = serde_json::from_str(&unsigned).unwrap();
    let legacy = canonical::python_legacy(&value, Omit::Signature).unwrap();
    let jcs = canonical::jcs(&value, Omit::Signature).unwrap();
    assert_ne!(
        legacy, jcs,
        "the test needs bytes that differ between the forms"
    );
    let signature = key().sign(&legacy);
    value["signature"] = base64::engine::general_purpose::STANDARD
        .encode(signature.to_bytes())
        .into();
    String::from_utf8(canonical::jcs(&value, Omit::Nothing).unwrap()).unwrap()
}

/// The signature of one receipt moved onto another: well formed (64 bytes), not valid.
fn with_foreign_signature(target: &str, donor: &str) -> String {
    let mut t: serde_json::Value = serde_json::from_str(target).unwrap();
    let d: serde_json::Value = serde_json::from_str(donor).unwrap();
    t["signature"] = d["signature"].clone();
    t.to_string()
}

#[test]
fn a_batch_with_one_bad_signature_reports_exactly_that_record() {
    let (_dir, path) = tmp();
    // 150 receipts: two full batches of 64 and a partial one; line 70 (second batch) and
    // line 150 (the partial batch) carry another receipt's signature.
    let mut receipts: Vec<String> = (0..150).map(|i| signed(&format!("a{i}"))).collect();
    receipts[69] = with_foreign_signature(&receipts[69], &receipts[0]);
    receipts[149] = with_foreign_signature(&receipts[149], &receipts[1]);
    write_store(&path, &receipts);

    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| (p.kind, p.line))
            .collect::<Vec<_>>(),
        [
            (ProblemKind::SignatureInvalid, 70),
            (ProblemKind::SignatureInvalid, 150)
        ]
    );
    assert_eq!(
        (report.signatures_valid, report.signatures_invalid),
        (148, 2)
    );
    assert_eq!(report.chain_breaks, 0);
    assert_eq!(
        report.problems[0].receipt_id.as_deref(),
        Some(id_of(&receipts[69]).as_str())
    );
    // The same report one by one, and with several keys (the right one second).
    let one_by_one = verify::verify_path_batched(&path, &with_key(), 1, &mut |_| {}).unwrap();
    assert_eq!(one_by_one, report);
    let two_keys =
        VerifyOptions::with_keys(vec![other_key().verifying_key(), key().verifying_key()]);
    let report2 = verify::verify_path(&path, &two_keys).unwrap();
    assert_eq!(report2, report);

    // The memory store's verifier batches too.
    let memory = verify::verify_receipts(receipts.iter().map(String::as_str), &with_key());
    assert_eq!(
        memory
            .problems
            .iter()
            .map(|p| (p.kind, p.line))
            .collect::<Vec<_>>(),
        [
            (ProblemKind::SignatureInvalid, 70),
            (ProblemKind::SignatureInvalid, 150)
        ]
    );
    assert_eq!(memory.signatures_valid, 148);
}

#[test]
fn batched_problems_stay_in_file_order() {
    let (_dir, path) = tmp();
    let mut receipts: Vec<String> = (0..40).map(|i| signed(&format!("a{i}"))).collect();
    receipts[4] = with_foreign_signature(&receipts[4], &receipts[0]);
    receipts[20] = receipt(&Spec::default(), None);
    write_store(&path, &receipts);
    // Swapped lines 30 and 31: chain breaks there, after the signature problems before.
    let mut raw = lines(&path);
    raw.swap(29, 30);
    write_lines(&path, &raw);
    let strict = VerifyOptions {
        require_signed: true,
        ..with_key()
    };
    let got = problems(&path, &strict);
    let one_by_one = verify::verify_path_batched(&path, &strict, 1, &mut |_| {}).unwrap();
    assert_eq!(
        got,
        one_by_one
            .problems
            .iter()
            .map(|p| (p.kind, p.line))
            .collect::<Vec<_>>()
    );
    assert_eq!(got[0], (ProblemKind::SignatureInvalid, 5));
    assert_eq!(got[1], (ProblemKind::Unsigned, 21));
    assert!(got[2..].iter().all(|p| p.0 == ProblemKind::ChainBreak));
    let mut sorted = got.clone();
    sorted.sort_by_key(|p| p.1);
    assert_eq!(got, sorted);
}

#[test]
fn legacy_signed_receipts_verify_in_a_store() {
    let (_dir, path) = tmp();
    // Mixed: runs of legacy-signed receipts among receipts signed over RFC 8785 bytes.
    let receipts: Vec<String> = (0..200)
        .map(|i| {
            if (i / 50) % 2 == 1 || i % 7 == 0 {
                legacy_signed(&format!("café{i}"))
            } else {
                signed(&format!("a{i}"))
            }
        })
        .collect();
    write_store(&path, &receipts);
    let report = verify::verify_path(&path, &with_key()).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.signatures_valid, 200);
    // Through the store handle too, and with the key second of two.
    let (store, _) = Store::open(&path).unwrap();
    let two_keys =
        VerifyOptions::with_keys(vec![other_key().verifying_key(), key().verifying_key()]);
    let report = store.verify(&two_keys).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.signatures_valid, 200);
    // A legacy-signed receipt with a foreign signature is still caught, alone.
    let mut bad = receipts.clone();
    bad[120] = with_foreign_signature(&bad[120], &bad[60]);
    write_store(&path, &bad);
    assert_eq!(
        problems(&path, &with_key()),
        [(ProblemKind::SignatureInvalid, 121)]
    );
}

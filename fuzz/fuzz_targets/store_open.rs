//! Opening a store file with arbitrary content (in a fresh temporary directory): it must
//! error or repair, never panic. When it opens, every record can be read (each as a record or
//! an error), verification reports, a new receipt appends, and the store then reopens with
//! nothing left to repair, its last record the new receipt.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use llmring::receipt::api;
use llmring::store::{FileStore, Filter, VerifyOptions, verify};

fn receipt() -> &'static str {
    static RECEIPT: OnceLock<String> = OnceLock::new();
    RECEIPT.get_or_init(|| {
        let input = r#"{"alias":"fast","profile":"default","lock_digest":"sha256:00",
            "provider":"openai","model":"gpt-4o-mini",
            "usage":{"prompt_tokens":10,"completion_tokens":5},
            "costs":{"input_cost":"0.0000015","output_cost":"0.000003"}}"#;
        api::generate(input, None).expect("a valid receipt input")
    })
}

fn scratch() -> tempfile::TempDir {
    // Appends fsync: a RAM file system keeps that cheap when there is one.
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("llmring-fuzz")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("a temporary directory")
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let path = dir.path().join("receipts.jsonl");
    std::fs::write(&path, data).expect("writing the store file");
    let Ok((store, _repair)) = FileStore::open(&path) else {
        return;
    };
    if let Ok(records) = store.iter(Filter::default()) {
        for record in records {
            let _ = record;
        }
    }
    let _ = verify::verify_path(&path, &VerifyOptions::default());
    let head = store.head().expect("the head of an open store");
    let appended = store
        .append(receipt().to_owned())
        .expect("appending to an opened store");
    assert_eq!(appended.seq, head.seq + 1);
    drop(store);
    let (store, repair) = FileStore::open(&path).expect("reopening after an append");
    assert_eq!(repair, None, "a store just appended to needed a repair");
    assert_eq!(
        store.head().expect("head after reopening").seq,
        appended.seq
    );
});

//! Reading store record lines (`store::record::parse_line`) and the receipt fields the store
//! reads (`ReceiptView::parse`), and receipt filters: never panic; a line that parses is
//! exactly what `write_line` writes for its parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::store::record::{line_digest, parse_line, write_line};
use llmring::store::{Filter, ReceiptView};
use llmring_fuzz::{fields, text};

fuzz_target!(|data: &[u8]| {
    let parts = fields(data, 2);
    let line = parts[0];
    let filter = Filter::from_json(Some(&text(parts[1]))).unwrap_or_default();
    let _ = line_digest(line);
    if let Ok(record) = parse_line(line) {
        let mut written = Vec::new();
        write_line(&mut written, record.seq, record.prev, record.receipt);
        assert_eq!(
            written.strip_suffix(b"\n"),
            Some(line),
            "parse_line/write_line differ"
        );
        if let Ok(view) = ReceiptView::parse(record.receipt) {
            let _ = filter.matches_view(&view);
            let _ = filter.matches(&view.fields());
        }
    }
    if let Ok(view) = ReceiptView::parse(&text(line)) {
        let _ = filter.matches_view(&view);
    }
});

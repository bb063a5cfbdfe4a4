//! Export (JSON and CSV) and the compliance report.

#[path = "fixtures/store/common.rs"]
mod common;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use common::{Spec, id_of, key, other_key, receipt, signed};
use llmring::export::report::{self, write_report};
use llmring::export::{self, ExportOptions, Format};
use llmring::receipt::model::FIELDS;
use llmring::store::{Filter, Store};
use rust_decimal::Decimal;
use serde_json::Value;

fn file_store(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path().join("receipts.jsonl")).unwrap().0
}

#[test]
fn json_export_round_trip_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir);
    let mut originals = Vec::new();
    for i in 0..5 {
        let r = signed(&format!("a{i}"));
        originals.push(r.clone());
        store.append(r).unwrap();
    }
    originals.push(receipt(&Spec::default(), None));
    store.append(originals[5].clone()).unwrap();

    let out = dir.path().join("export.json");
    let opts =
        ExportOptions::from_json(&format!(r#"{{"format":"json","output":{:?}}}"#, out)).unwrap();
    assert_eq!(export::export(&store, &opts).unwrap(), 6);
    let text = std::fs::read_to_string(&out).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    DateTime::parse_from_rfc3339(doc["exported_at"].as_str().unwrap()).unwrap();
    let receipts = doc["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 6);
    let public = key().verifying_key();
    for (r, original) in receipts.iter().zip(&originals) {
        // Same receipt, every field, and the signed ones verify again.
        assert_eq!(&llmring::receipt::to_json(r).unwrap(), original);
        for f in FIELDS.iter().filter(|f| **f != "signature") {
            assert!(r.get(*f).is_some(), "{f}");
        }
    }
    for r in &receipts[..5] {
        let text = r.to_string();
        assert!(llmring::receipt::api::verify(&text, &public).unwrap().valid);
    }
    assert!(receipts[5].get("signature").is_none());
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn json_export_of_nothing_is_valid_json() {
    let mut out = Vec::new();
    let n = export::write_json(
        Store::memory().iter(Filter::default()).unwrap(),
        &mut out,
        Utc::now(),
    )
    .unwrap();
    assert_eq!(n, 0);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["receipts"], Value::Array(vec![]));
}

const TRICKY: [&str; 12] = [
    "plain",
    "with, comma",
    "with \"quotes\"",
    "line\nbreak",
    "crlf\r\nline",
    "unicodé ✓ 日本",
    "=SUM(A1:A9)",
    "+1",
    "-2+3",
    "@cmd",
    "\ttabbed",
    "'=already quoted",
];

#[test]
fn csv_header_quoting_and_formula_injection() {
    let store = Store::memory();
    for alias in TRICKY {
        store.append(signed(alias)).unwrap();
    }
    let mut out = Vec::new();
    let n = export::write_csv(store.iter(Filter::default()).unwrap(), &mut out).unwrap();
    assert_eq!(n, TRICKY.len() as u64);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with(
        "receipt_id,timestamp,alias,profile,lock_digest,provider,model,prompt_tokens,\
         completion_tokens,total_tokens,input_cost,output_cost,total_cost,signature,extra\n"
    ));
    assert!(text.contains("\"with, comma\""));
    assert!(text.contains("\"with \"\"quotes\"\"\""));
    // No cell starts a formula.
    let mut reader = csv::ReaderBuilder::new().from_reader(&out[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, export::csv_header());
    let originals: Vec<Value> = store
        .select(&Filter::default())
        .unwrap()
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    let mut rows = 0;
    for (row, original) in reader.records().zip(&originals) {
        let row = row.unwrap();
        rows += 1;
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula-looking cell {cell:?}"
            );
        }
        // Every cell reads back exactly (after the documented unneutralize).
        for (i, f) in FIELDS.iter().enumerate() {
            let cell = export::unneutralize(&row[i]);
            match &original[*f] {
                Value::String(s) => assert_eq!(cell, s),
                Value::Number(_) if f.ends_with("_cost") => assert_eq!(
                    Decimal::from_str(cell).unwrap(),
                    llmring::cost::json::decimal_from_json(&original[*f], f).unwrap()
                ),
                Value::Number(n) => assert_eq!(cell, n.to_string()),
                other => panic!("{f}: {other}"),
            }
        }
        assert_eq!(&row[14], "");
    }
    assert_eq!(rows, TRICKY.len());
    assert_eq!(export::neutralize("=1"), "'=1");
    assert_eq!(export::neutralize("0.5"), "0.5");
    assert_eq!(export::unneutralize("'x"), "'x");
}

#[test]
fn csv_costs_are_exact_decimals_and_extra_members_kept() {
    let mut r = llmring::receipt::generate(
        llmring::receipt::ReceiptInput::from_value(serde_json::json!({
            "alias": "a", "profile": "p", "lock_digest": "sha256:0", "provider": "openai",
            "model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 2},
            "costs": {"input_cost": "0.0000001", "output_cost": "0.0000225"},
            "extra": {"cached_tokens": 5},
        }))
        .unwrap(),
    )
    .unwrap();
    let json = r.issue(None).unwrap().json;
    let store = Store::memory();
    store.append(json).unwrap();
    let mut out = Vec::new();
    export::write_csv(store.iter(Filter::default()).unwrap(), &mut out).unwrap();
    let mut reader = csv::Reader::from_reader(&out[..]);
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[10], "0.0000001");
    assert_eq!(&row[11], "0.0000225");
    assert_eq!(&row[12], "0.0000226");
    assert_eq!(&row[13], "");
    assert_eq!(&row[14], r#"{"cached_tokens":5}"#);
}

#[test]
fn a_failed_export_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    std::fs::write(&target, "previous export").unwrap();
    let store = file_store(&dir);
    store.append(signed("ok")).unwrap();
    store.append(signed("ok2")).unwrap();
    let path = store.path().unwrap().to_owned();
    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    std::fs::write(&path, format!("{first}\nbroken\n{first}\n")).unwrap();
    let e = export::export_to_path(store.iter(Filter::default()).unwrap(), Format::Csv, &target)
        .unwrap_err();
    assert!(e.message.contains("line 2"), "{e}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous export");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only the store and the old export: {names:?}"
    );
    assert!(ExportOptions::from_json(r#"{"format":"xml","output":"x"}"#).is_err());
    assert!(ExportOptions::from_json(r#"{"format":"csv"}"#).is_err());
}

#[test]
fn compliance_report_verifies_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir);
    let (key, other_key) = (key(), other_key());
    let mk = |ts: &str, model: &str, profile: &str, k| {
        receipt(
            &Spec {
                timestamp: ts,
                model,
                profile,
                ..Spec::default()
            },
            k,
        )
    };
    let good = mk("2025-02-01T00:00:00Z", "gpt-4o", "prod", Some(&key));
    let wrong = mk("2025-02-02T00:00:00Z", "gpt-4o", "dev", Some(&other_key));
    let unsigned = mk("2025-02-03T00:00:00Z", "gpt-4o-mini", "prod", None);
    let outside = mk("2025-03-05T00:00:00Z", "gpt-4o", "prod", Some(&key));
    for r in [&good, &wrong, &unsigned, &outside] {
        store.append(r.clone()).unwrap();
    }
    let period = Filter::from_json(Some(
        r#"{"since":"2025-02-01T00:00:00Z","until":"2025-03-01T00:00:00Z"}"#,
    ))
    .unwrap();
    let path = dir.path().join("report.json");
    let summary = report::report_to_path(&store, &period, &[key.verifying_key()], &path).unwrap();
    assert_eq!(summary.receipts, 3);
    assert_eq!(
        (
            summary.signatures_valid,
            summary.signatures_invalid,
            summary.unsigned
        ),
        (1, 1, 1)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["period"]["start"], "2025-02-01T00:00:00Z");
    assert_eq!(doc["period"]["end"], "2025-03-01T00:00:00Z");
    assert_eq!(doc["summary"]["total_requests"], 3);
    assert_eq!(doc["summary"]["total_tokens"], 900);
    assert_eq!(doc["summary"]["total_cost"], serde_json::json!(0.000405));
    assert_eq!(doc["by_model"]["openai:gpt-4o"]["requests"], 2);
    assert_eq!(doc["by_profile"]["prod"]["requests"], 2);
    let rs = doc["receipts"].as_array().unwrap();
    let valid: Vec<&Value> = rs.iter().map(|r| &r["signature_valid"]).collect();
    assert_eq!(
        valid,
        [&Value::Bool(true), &Value::Bool(false), &Value::Bool(false)]
    );
    assert_eq!(rs[0]["id"], id_of(&good).as_str());
    assert_eq!(rs[0]["model"], "openai:gpt-4o");
    assert_eq!(rs[0]["tokens"], 300);
    assert_eq!(rs[0]["cost"], serde_json::json!(0.000135));

    // Without a key: not checked (null), never "a signature is present".
    let mut out = Vec::new();
    let s = write_report(store.iter(period.clone()).unwrap(), &mut out, &period, &[]).unwrap();
    assert_eq!(s.unchecked, 3);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        doc["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["signature_valid"].is_null())
    );
}

//! The compliance report for a date range, as in the reference, written in one streaming
//! pass (memory grows with the number of models and profiles, not receipts):
//!
//! ```text
//! {
//!   "period": {"start": RFC3339 | null, "end": RFC3339 | null},
//!   "generated_at": RFC3339,
//!   "receipts": [
//!     {"id", "timestamp", "model": "provider:model", "tokens", "cost", "signature_valid"},
//!     ...
//!   ],
//!   "summary": {"total_requests", "total_tokens", "total_cost", "prompt_tokens",
//!               "completion_tokens", "input_cost", "output_cost",
//!               "signatures": {"valid", "invalid", "unsigned", "unchecked"}},
//!   "by_model": {"provider:model": {"requests", "tokens", "cost"}},
//!   "by_profile": {"profile": {"requests", "tokens", "cost"}}
//! }
//! ```
//!
//! `receipts` comes before `summary` so that the list can be written as it is read (member
//! order in a JSON object carries no meaning). The period is `since` (inclusive) to `until`
//! (exclusive) of the filter. `signature_valid` is the result of verifying the receipt's
//! signature with the given public key(s): `true` or `false`, `false` for an unsigned
//! receipt; `null` when no key is given (not checked), never just "a signature is present".
//! Amounts are as in [`crate::stats`].

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::receipt::sign;
use crate::stats::{GroupBy, Stats, Totals, amount_json, count_json};
use crate::store::{Filter, Record, Store};

/// Counts of a written report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSummary {
    pub receipts: u64,
    pub signatures_valid: u64,
    pub signatures_invalid: u64,
    pub unsigned: u64,
    pub unchecked: u64,
}

fn write_error(e: std::io::Error) -> Error {
    Error::store(format!("report: cannot write: {e}"))
}

/// Writes the report over `records` (only those `period` matches are included; pass the
/// records of `store.iter(period.clone())`). `keys`: the public keys signatures are
/// verified with (valid when any verifies).
pub fn write_report<W: Write>(
    records: impl IntoIterator<Item = Result<Record>>,
    out: W,
    period: &Filter,
    keys: &[VerifyingKey],
) -> Result<ReportSummary> {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let head = json!({"start": time(period.since()), "end": time(period.until())});
    write!(
        out,
        "{{\n  \"period\": {head},\n  \"generated_at\": \"{}\",\n  \"receipts\": [",
        Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
    )
    .map_err(write_error)?;
    let mut stats = Stats::grouped_by(&[GroupBy::Model, GroupBy::Profile]);
    let mut summary = ReportSummary::default();
    for r in records {
        let r = r?;
        if !period.matches_view(&r.view) {
            continue;
        }
        stats.add(&r.view)?;
        let valid = signature_valid(&r, keys)?;
        match (valid, &r.view.signature) {
            (None, _) => summary.unchecked += 1,
            (Some(_), None) => summary.unsigned += 1,
            (Some(true), Some(_)) => summary.signatures_valid += 1,
            (Some(false), Some(_)) => summary.signatures_invalid += 1,
        }
        let v = &r.view;
        let entry = json!({
            "id": v.receipt_id,
            "timestamp": v.timestamp,
            "model": format!("{}:{}", v.provider, v.model),
            "tokens": v.total_tokens,
            "cost": amount_json(v.total_cost),
            "signature_valid": valid,
        });
        let sep = if summary.receipts == 0 {
            "\n    "
        } else {
            ",\n    "
        };
        write!(out, "{sep}{}", text(&entry)).map_err(write_error)?;
        summary.receipts += 1;
    }
    if summary.receipts > 0 {
        out.write_all(b"\n  ").map_err(write_error)?;
    }
    let t = &stats.total;
    let totals = json!({
        "total_requests": t.requests,
        "total_tokens": count_json(t.total_tokens),
        "total_cost": amount_json(t.total_cost),
        "prompt_tokens": count_json(t.prompt_tokens),
        "completion_tokens": count_json(t.completion_tokens),
        "input_cost": amount_json(t.input_cost),
        "output_cost": amount_json(t.output_cost),
        "signatures": {
            "valid": summary.signatures_valid,
            "invalid": summary.signatures_invalid,
            "unsigned": summary.unsigned,
            "unchecked": summary.unchecked,
        },
    });
    let group = |g: GroupBy| -> Value {
        let m: Map<String, Value> = stats
            .group(g)
            .iter()
            .map(|(k, t): (&String, &Totals)| {
                (
                    k.clone(),
                    json!({
                        "requests": t.requests,
                        "tokens": count_json(t.total_tokens),
                        "cost": amount_json(t.total_cost),
                    }),
                )
            })
            .collect();
        Value::Object(m)
    };
    write!(
        out,
        "],\n  \"summary\": {},\n  \"by_model\": {},\n  \"by_profile\": {}\n}}\n",
        text(&totals),
        text(&group(GroupBy::Model)),
        text(&group(GroupBy::Profile))
    )
    .map_err(write_error)?;
    out.flush().map_err(write_error)?;
    Ok(summary)
}

/// A value as canonical JSON, so amounts print as their exact decimals (0.0000024, not 2.4e-6).
fn text(value: &Value) -> String {
    crate::receipt::to_json(value).unwrap_or_else(|_| value.to_string())
}

/// `Some(valid)` when keys are given (an unsigned receipt is `Some(false)`), `None` when not.
fn signature_valid(r: &Record, keys: &[VerifyingKey]) -> Result<Option<bool>> {
    if keys.is_empty() {
        return Ok(None);
    }
    if r.view.signature.is_none() {
        return Ok(Some(false));
    }
    let value: Value = serde_json::from_str(&r.json)
        .map_err(|e| Error::store(format!("report: receipt at seq {}: {e}", r.seq)))?;
    for key in keys {
        if sign::verify(&value, key)?.valid {
            return Ok(Some(true));
        }
    }
    Ok(Some(false))
}

/// Writes the report for `period` from a store to `path` (temporary file, fsync, rename).
pub fn report_to_path(
    store: &Store,
    period: &Filter,
    keys: &[VerifyingKey],
    path: &Path,
) -> Result<ReportSummary> {
    let records = store.iter(period.clone())?;
    super::write_atomically(path, |out| write_report(records, out, period, keys))
}

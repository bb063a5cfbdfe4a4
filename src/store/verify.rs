//! Verifying a store: the hash chain (finds changed, deleted, inserted and reordered records
//! and says where) and every receipt's signature, streaming the file in bounded memory.
//!
//! How each kind of tampering shows (N is a 1-based line):
//! - a record at line N changed (any byte, its signature included): its signature no longer
//!   verifies (line N, when a key is given) and line N+1's `prev` no longer matches
//!   (a chain break at line N+1). The last record has no successor: only its signature, or
//!   a head digest kept elsewhere ([`VerifyReport::head`]), protects it.
//! - a record deleted at line N: line N holds the next record, whose `seq` and `prev` do not
//!   follow line N-1 (a chain break at line N).
//! - a record inserted at line N: a chain break at line N (or, if the inserted line was
//!   forged to chain, at line N+1).
//! - records swapped: a chain break at the first of them.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::receipt::sign;
use crate::store::file::{LineReader, snapshot_len};
use crate::store::record::{self, GENESIS};
use crate::store::view::ReceiptView;

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Public keys; a signature is valid when it verifies with any of them. With none,
    /// signatures are not checked (counted as `signatures_unchecked`).
    pub keys: Vec<VerifyingKey>,
    /// Count unsigned receipts as problems (only with keys).
    pub require_signed: bool,
    /// How many problems to list in the report (all are counted). Default 100.
    pub max_problems: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            keys: Vec::new(),
            require_signed: false,
            max_problems: 100,
        }
    }
}

impl VerifyOptions {
    /// With these public keys.
    pub fn with_keys(keys: Vec<VerifyingKey>) -> Self {
        VerifyOptions {
            keys,
            ..VerifyOptions::default()
        }
    }

    /// Reads `{"public_key": KEY?, "public_keys": [KEY]?, "require_signed": bool?,
    /// "max_problems": n?}` (keys in any text form [`crate::receipt::keys::parse_public`]
    /// reads); `None`, empty text and `{}` give the defaults.
    pub fn from_json(text: Option<&str>) -> Result<VerifyOptions> {
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            public_key: Option<String>,
            #[serde(default)]
            public_keys: Vec<String>,
            #[serde(default)]
            require_signed: bool,
            max_problems: Option<usize>,
        }
        let raw: Raw = match text.filter(|t| !t.trim().is_empty()) {
            None => Raw::default(),
            Some(t) => serde_json::from_value(crate::receipt::json::parse_strict(t)?)
                .map_err(|e| Error::invalid_argument(format!("verify options: {e}")))?,
        };
        let keys = raw
            .public_key
            .iter()
            .chain(&raw.public_keys)
            .map(|k| crate::receipt::keys::parse_public(k))
            .collect::<Result<Vec<_>>>()?;
        Ok(VerifyOptions {
            keys,
            require_signed: raw.require_signed,
            max_problems: raw.max_problems.unwrap_or(100),
        })
    }
}

/// The kind of a problem found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A line that is not a record (or whose receipt is not readable).
    BadRecord,
    /// A record whose `seq` or `prev` does not follow the line before it.
    ChainBreak,
    /// A signature that does not verify with any given key.
    SignatureInvalid,
    /// An unsigned receipt while `require_signed` is on.
    Unsigned,
    /// A last line without end of line (a crash mid-append, not yet repaired by opening the
    /// store for writing).
    TornTail,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::BadRecord => "bad_record",
            ProblemKind::ChainBreak => "chain_break",
            ProblemKind::SignatureInvalid => "signature_invalid",
            ProblemKind::Unsigned => "unsigned",
            ProblemKind::TornTail => "torn_tail",
        }
    }
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// 1-based line of the file (for the memory store: the position from 1).
    pub line: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// The record's `seq`, when readable.
    pub seq: Option<u64>,
    pub receipt_id: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.name(),
            "line": self.line,
            "offset": self.offset,
            "seq": self.seq,
            "receipt_id": self.receipt_id,
            "message": self.message,
        })
    }
}

/// The result of verifying a store. `ok` when no problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Lines read (records, readable or not; a torn tail not included).
    pub records: u64,
    pub signatures_valid: u64,
    pub signatures_invalid: u64,
    pub unsigned: u64,
    /// Signed receipts not checked because no key was given.
    pub signatures_unchecked: u64,
    pub chain_breaks: u64,
    pub bad_records: u64,
    /// Byte offset of a torn last line, if any.
    pub torn_tail: Option<u64>,
    /// `seq` of the last readable record (0: none).
    pub last_seq: u64,
    /// Digest of the last line (the store's head; [`record::GENESIS`] when empty). Keep it
    /// elsewhere to detect a later change to the last record or a truncation.
    pub head: String,
    /// The first problems found (at most `max_problems`), in file order.
    pub problems: Vec<Problem>,
    /// How many problems in all.
    pub problem_count: u64,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }

    /// The first problem, if any.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }

    /// The report as JSON (the shape `llmring_verify_store` returns):
    /// `{"ok","records","signatures":{"valid","invalid","unsigned","unchecked"},
    /// "chain_breaks","bad_records","torn_tail","last_seq","head","problem_count",
    /// "first_problem","problems":[{"kind","line","offset","seq","receipt_id","message"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.ok(),
            "records": self.records,
            "signatures": {
                "valid": self.signatures_valid,
                "invalid": self.signatures_invalid,
                "unsigned": self.unsigned,
                "unchecked": self.signatures_unchecked,
            },
            "chain_breaks": self.chain_breaks,
            "bad_records": self.bad_records,
            "torn_tail": self.torn_tail,
            "last_seq": self.last_seq,
            "head": self.head,
            "problem_count": self.problem_count,
            "first_problem": self.first_problem().map(Problem::to_json),
            "problems": self.problems.iter().map(Problem::to_json).collect::<Vec<_>>(),
        })
    }

    fn problem(&mut self, max: usize, p: Problem) {
        self.problem_count += 1;
        if self.problems.len() < max {
            self.problems.push(p);
        }
    }
}

/// Progress of a long verification: bytes read of the total.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub records: u64,
}

/// Verifies the store file at `path` without writing to it: up to its length at the time of
/// the call (taken under a shared lock, so no append is half-written).
pub fn verify_path(path: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    verify_path_with_progress(path, options, &mut |_| {})
}

/// [`verify_path`], calling `progress` every 4096 records and at the end.
pub fn verify_path_with_progress(
    path: &Path,
    options: &VerifyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport> {
    let total = snapshot_len(path)?;
    let mut reader = LineReader::open(path, total)?;
    let mut report = VerifyReport {
        head: GENESIS.to_owned(),
        ..VerifyReport::default()
    };
    let max = options.max_problems;
    let mut prev_digest = GENESIS.to_owned();
    let mut expected_seq: u64 = 1;
    while let Some(raw) = reader.next_line()? {
        let (line, offset) = (raw.line, raw.offset);
        if !raw.complete {
            report.torn_tail = Some(offset);
            report.problem(
                max,
                Problem {
                    kind: ProblemKind::TornTail,
                    line,
                    offset,
                    seq: None,
                    receipt_id: None,
                    message: format!(
                        "line {line} (byte offset {offset}) is a torn last record (no end of \
                         line): a crash mid-append; opening the store for writing removes it"
                    ),
                },
            );
            break;
        }
        report.records += 1;
        let digest = record::line_digest(raw.bytes);
        let parts = match record::parse_line(raw.bytes) {
            Ok(p) => p,
            Err(why) => {
                report.bad_records += 1;
                report.problem(
                    max,
                    Problem {
                        kind: ProblemKind::BadRecord,
                        line,
                        offset,
                        seq: None,
                        receipt_id: None,
                        message: format!(
                            "line {line} (byte offset {offset}) is not a record: {why}"
                        ),
                    },
                );
                prev_digest = digest;
                expected_seq += 1;
                continue;
            }
        };
        let seq = parts.seq;
        if parts.prev != prev_digest || seq != expected_seq {
            let mut why = Vec::new();
            if seq != expected_seq {
                why.push(format!(
                    "its seq is {seq} where {expected_seq} was expected"
                ));
            }
            if parts.prev != prev_digest {
                why.push(if line == 1 {
                    "its prev is not the genesis value".to_owned()
                } else {
                    format!("its prev does not match the digest of line {}", line - 1)
                });
            }
            let cause = if line == 1 {
                "records were removed or inserted at the start".to_owned()
            } else {
                format!(
                    "line {} was changed, or records were removed, inserted or reordered \
                     between lines {} and {line}",
                    line - 1,
                    line - 1
                )
            };
            report.chain_breaks += 1;
            report.problem(
                max,
                Problem {
                    kind: ProblemKind::ChainBreak,
                    line,
                    offset,
                    seq: Some(seq),
                    receipt_id: None,
                    message: format!(
                        "chain break at line {line} (seq {seq}, byte offset {offset}): {}; {cause}",
                        why.join(" and ")
                    ),
                },
            );
        }
        prev_digest = digest;
        expected_seq = seq.saturating_add(1);
        report.last_seq = seq;
        check_receipt(&mut report, options, parts.receipt, line, offset, Some(seq));
        if report.records % 4096 == 0 {
            progress(Progress {
                bytes_done: offset,
                bytes_total: total,
                records: report.records,
            });
        }
    }
    report.head = prev_digest;
    progress(Progress {
        bytes_done: total,
        bytes_total: total,
        records: report.records,
    });
    Ok(report)
}

/// Verifies receipts given as JSON texts (the memory store): signatures only, no chain.
pub fn verify_receipts<'a>(
    receipts: impl IntoIterator<Item = &'a str>,
    options: &VerifyOptions,
) -> VerifyReport {
    let mut report = VerifyReport::default();
    for (i, json) in receipts.into_iter().enumerate() {
        report.records += 1;
        report.last_seq = i as u64 + 1;
        check_receipt(&mut report, options, json, i as u64 + 1, 0, None);
    }
    report
}

fn check_receipt(
    report: &mut VerifyReport,
    options: &VerifyOptions,
    json: &str,
    line: u64,
    offset: u64,
    seq: Option<u64>,
) {
    let max = options.max_problems;
    let value: Value = match serde_json::from_str(json)
        .map_err(|e| e.to_string())
        .and_then(|v: Value| ReceiptView::parse(json).map(|_| v).map_err(|e| e.message))
    {
        Ok(v) => v,
        Err(why) => {
            report.bad_records += 1;
            report.problem(
                max,
                Problem {
                    kind: ProblemKind::BadRecord,
                    line,
                    offset,
                    seq,
                    receipt_id: None,
                    message: format!(
                        "line {line} (byte offset {offset}): the receipt is not readable: {why}"
                    ),
                },
            );
            return;
        }
    };
    let id = value["receipt_id"].as_str().map(str::to_owned);
    let signed = !matches!(value.get("signature"), None | Some(Value::Null));
    if !signed {
        report.unsigned += 1;
        if options.require_signed && !options.keys.is_empty() {
            report.problem(
                max,
                Problem {
                    kind: ProblemKind::Unsigned,
                    line,
                    offset,
                    seq,
                    message: format!(
                        "line {line} (byte offset {offset}): receipt {} is not signed",
                        id.as_deref().unwrap_or("?")
                    ),
                    receipt_id: id,
                },
            );
        }
        return;
    }
    if options.keys.is_empty() {
        report.signatures_unchecked += 1;
        return;
    }
    let mut reason = None;
    for key in &options.keys {
        match sign::verify(&value, key) {
            Ok(v) if v.valid => {
                report.signatures_valid += 1;
                return;
            }
            Ok(v) => reason = v.reason,
            Err(e) => reason = Some(e.message),
        }
    }
    report.signatures_invalid += 1;
    report.problem(
        max,
        Problem {
            kind: ProblemKind::SignatureInvalid,
            line,
            offset,
            seq,
            message: format!(
                "line {line} (byte offset {offset}): the signature of receipt {} is not valid: {}",
                id.as_deref().unwrap_or("?"),
                reason.unwrap_or_default()
            ),
            receipt_id: id,
        },
    );
}

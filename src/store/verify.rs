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
//!
//! # Batched signature checks
//!
//! Signatures are checked [`BATCH`] at a time with `ed25519_dalek::verify_batch` (one
//! multi-scalar multiplication for the batch, about twice as fast per signature as one by
//! one). A batch holds only receipts whose signature decodes to 64 bytes and whose signed
//! bytes are known, each with the key (and signed form, RFC 8785 or the Python signer's) that
//! verified the last receipt checked one by one. When a batch fails, each of its receipts is
//! checked again one by one, exactly as without batching ([`sign::verify`] with every key,
//! both signed forms), so each bad signature is reported at its own line; every problem is
//! listed in file order.
//!
//! What a batch accepts is what `verify_strict` accepts, with one exception: a signature whose
//! `R` carries a small-order component (which `verify_strict` rejects) may pass the batch
//! equation. Only the holder of the signing key can make such a signature, over bytes they
//! chose to sign, so it is not a forgery. Receipts whose `R` is itself of small order or not
//! canonically encoded, and keys of small order, are never batched, so `verify_strict` rejects
//! them as before. The hash chain still shows any change to a record's bytes, signature
//! included, but the last one's.

use std::path::Path;
use std::sync::OnceLock;

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::receipt::canonical::{self, Omit, SIGNATURE_FIELD};
use crate::receipt::sign::{self, SignedForm};
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

/// How many signatures are checked at once by [`verify_path`] and [`verify_receipts`].
pub const BATCH: usize = 64;

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
    verify_path_batched(path, options, BATCH, progress)
}

/// [`verify_path_with_progress`] checking signatures `batch` at a time (0 or 1: one by one,
/// every signature with [`sign::verify`]). The report is the same whatever the batch size.
pub fn verify_path_batched(
    path: &Path,
    options: &VerifyOptions,
    batch: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport> {
    let total = snapshot_len(path)?;
    let mut reader = LineReader::open(path, total)?;
    let mut report = VerifyReport {
        head: GENESIS.to_owned(),
        ..VerifyReport::default()
    };
    let mut sigs = Signatures::new(options, batch);
    let mut prev_digest = GENESIS.to_owned();
    let mut expected_seq: u64 = 1;
    while let Some(raw) = reader.next_line()? {
        let (line, offset) = (raw.line, raw.offset);
        if !raw.complete {
            report.torn_tail = Some(offset);
            sigs.problem(
                &mut report,
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
                sigs.problem(
                    &mut report,
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
            sigs.problem(
                &mut report,
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
        sigs.check(&mut report, parts.receipt, line, offset, Some(seq));
        if report.records % 4096 == 0 {
            progress(Progress {
                bytes_done: offset,
                bytes_total: total,
                records: report.records,
            });
        }
    }
    sigs.flush(&mut report);
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
    let mut sigs = Signatures::new(options, BATCH);
    for (i, json) in receipts.into_iter().enumerate() {
        report.records += 1;
        report.last_seq = i as u64 + 1;
        sigs.check(&mut report, json, i as u64 + 1, 0, None);
    }
    sigs.flush(&mut report);
    report
}

/// A receipt waiting in a batch.
struct Pending {
    line: u64,
    offset: u64,
    seq: Option<u64>,
    id: Option<String>,
    value: Value,
    /// The bytes the hinted form gives.
    message: Vec<u8>,
    signature: Signature,
}

/// The signature checks of one verification: the batch being filled and the key and form
/// that verified the last receipt checked one by one.
struct Signatures<'o> {
    options: &'o VerifyOptions,
    batch: usize,
    pending: Vec<Pending>,
    key: usize,
    form: SignedForm,
    /// Keys of small order (never batched).
    weak: Vec<bool>,
}

impl<'o> Signatures<'o> {
    fn new(options: &'o VerifyOptions, batch: usize) -> Self {
        Signatures {
            options,
            batch,
            pending: Vec::with_capacity(batch.min(1024)),
            key: 0,
            form: SignedForm::Jcs,
            weak: options.keys.iter().map(VerifyingKey::is_weak).collect(),
        }
    }

    /// Records a problem found outside the signature checks, after those of the receipts
    /// before it (so the problems stay in file order).
    fn problem(&mut self, report: &mut VerifyReport, p: Problem) {
        self.flush(report);
        report.problem(self.options.max_problems, p);
    }

    fn check(
        &mut self,
        report: &mut VerifyReport,
        json: &str,
        line: u64,
        offset: u64,
        seq: Option<u64>,
    ) {
        let options = self.options;
        let value: Value = match serde_json::from_str(json)
            .map_err(|e| e.to_string())
            .and_then(|v: Value| ReceiptView::parse(json).map(|_| v).map_err(|e| e.message))
        {
            Ok(v) => v,
            Err(why) => {
                report.bad_records += 1;
                self.problem(
                    report,
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
        let signed = !matches!(value.get(SIGNATURE_FIELD), None | Some(Value::Null));
        if !signed {
            report.unsigned += 1;
            if options.require_signed && !options.keys.is_empty() {
                self.problem(
                    report,
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
        if self.batch > 1 {
            if let Some((message, signature)) = self.batchable(&value) {
                self.pending.push(Pending {
                    line,
                    offset,
                    seq,
                    id,
                    value,
                    message,
                    signature,
                });
                if self.pending.len() >= self.batch {
                    self.flush(report);
                }
                return;
            }
            // Checked now: the problem it may give comes after those of the batch.
            self.flush(report);
        }
        self.one_by_one(report, &value, id, line, offset, seq);
    }

    /// The signed bytes (in the hinted form) and signature of a receipt that may go in a
    /// batch with the hinted key.
    fn batchable(&self, value: &Value) -> Option<(Vec<u8>, Signature)> {
        if self.weak[self.key] {
            return None;
        }
        let signature = sign::decode_signature(value.get(SIGNATURE_FIELD)?.as_str()?)?;
        if !batchable_r(signature.r_bytes()) {
            return None;
        }
        let message = match self.form {
            SignedForm::Jcs => canonical::jcs(value, Omit::Signature).ok()?,
            SignedForm::PythonLegacy => canonical::python_legacy(value, Omit::Signature).ok()?,
        };
        Some((message, signature))
    }

    /// Checks the batch waiting; when it fails, each of its receipts one by one.
    fn flush(&mut self, report: &mut VerifyReport) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let passed = pending.len() > 1 && {
            let messages: Vec<&[u8]> = pending.iter().map(|p| p.message.as_slice()).collect();
            let signatures: Vec<Signature> = pending.iter().map(|p| p.signature).collect();
            let keys = vec![self.options.keys[self.key]; pending.len()];
            ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
        };
        if passed {
            report.signatures_valid += pending.len() as u64;
        } else {
            for p in &pending {
                self.one_by_one(report, &p.value, p.id.clone(), p.line, p.offset, p.seq);
            }
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// Checks one receipt's signature with each key in turn ([`sign::verify`]).
    fn one_by_one(
        &mut self,
        report: &mut VerifyReport,
        value: &Value,
        id: Option<String>,
        line: u64,
        offset: u64,
        seq: Option<u64>,
    ) {
        let mut reason = None;
        for (k, key) in self.options.keys.iter().enumerate() {
            match sign::verify(value, key) {
                Ok(v) if v.valid => {
                    report.signatures_valid += 1;
                    self.key = k;
                    self.form = v.form.unwrap_or(SignedForm::Jcs);
                    return;
                }
                Ok(v) => reason = v.reason,
                Err(e) => reason = Some(e.message),
            }
        }
        report.signatures_invalid += 1;
        report.problem(
            self.options.max_problems,
            Problem {
                kind: ProblemKind::SignatureInvalid,
                line,
                offset,
                seq,
                message: format!(
                    "line {line} (byte offset {offset}): the signature of receipt {} is not \
                     valid: {}",
                    id.as_deref().unwrap_or("?"),
                    reason.unwrap_or_default()
                ),
                receipt_id: id,
            },
        );
    }
}

/// Whether a signature's `R` may be batched: canonically encoded (y below 2^255-19) and not
/// of small order (`verify_strict` rejects both; the batch equation would not).
fn batchable_r(r: &[u8; 32]) -> bool {
    let y_too_big = r[31] & 0x7f == 0x7f && r[1..31].iter().all(|&b| b == 0xff) && r[0] >= 0xed;
    !y_too_big && !small_order_encodings().contains(r)
}

/// The encodings of the eight points of small order, with either sign bit (decompression
/// accepts a set sign bit with x = 0).
fn small_order_encodings() -> &'static [[u8; 32]] {
    static ENCODINGS: OnceLock<Vec<[u8; 32]>> = OnceLock::new();
    ENCODINGS.get_or_init(|| {
        curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .flat_map(|p| {
                let bytes = p.compress().to_bytes();
                let mut flipped = bytes;
                flipped[31] ^= 0x80;
                [bytes, flipped]
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    #[test]
    fn small_order_and_non_canonical_r_are_not_batched() {
        for p in curve25519_dalek::constants::EIGHT_TORSION {
            assert!(!batchable_r(&p.compress().to_bytes()));
        }
        // Identity with the sign bit set: decompresses, small order.
        let mut id = [0u8; 32];
        id[0] = 1;
        id[31] = 0x80;
        assert!(CompressedEdwardsY(id).decompress().is_some());
        assert!(!batchable_r(&id));
        // y = p (non-canonical 0).
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!batchable_r(&p));
        let base = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert!(batchable_r(&base));
    }
}

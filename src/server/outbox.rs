//! The outbox: reports waiting for the server, in three journals beside the receipt store.
//!
//! - `<store>.outbox`: every report queued, in order (appended before the call returns);
//! - `<store>.outbox-settled`: one line per report the server took (`sent`) or refused for
//!   good (`failed`), written only by the process holding the drain lock;
//! - `<store>.outbox-failed`: refused reports kept after the first two are emptied.
//!
//! Pending = queued and not settled. One process at a time drains (`<store>.outbox.lock`,
//! an exclusive file lock, tried without waiting); it sends pending reports in order and
//! settles each after the server answered. A process killed between the answer and the
//! settlement sends that report again: its idempotency key lets the server see it once.
//! When every queued report is settled, the drainer empties the journals (moving refused
//! ones to `outbox-failed` first) under their locks.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::journal::Journal;
use crate::error::{Error, Result};
use crate::store::file::io_error;

/// One report: a request body for one server endpoint, with its idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The idempotency key (the local receipt id, plus `:conversation` for a conversation).
    pub key: String,
    /// `usage` or `conversation`.
    pub kind: String,
    /// The endpoint path (`/api/v1/log`, `/api/v1/conversations/log`).
    pub path: String,
    /// The receipt the report is about.
    pub local_receipt_id: String,
    /// The server it is for (its base URL): clients configured for another server that
    /// share the store leave it alone.
    #[serde(default)]
    pub server: String,
    pub body: Value,
}

#[derive(Debug)]
pub struct Outbox {
    queued: Journal,
    settled: Journal,
    failed: Journal,
    lock_path: Option<PathBuf>,
}

/// A journal's path beside the store file: `<store><suffix>`.
pub fn beside(store: &Path, suffix: &str) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Outbox {
    /// The outbox of the store at `store` (`None`: a memory store, a memory outbox).
    pub fn open(store: Option<&Path>) -> Outbox {
        match store {
            Some(p) => Outbox {
                queued: Journal::File(beside(p, ".outbox")),
                settled: Journal::File(beside(p, ".outbox-settled")),
                failed: Journal::File(beside(p, ".outbox-failed")),
                lock_path: Some(beside(p, ".outbox.lock")),
            },
            None => Outbox {
                queued: Journal::memory(),
                settled: Journal::memory(),
                failed: Journal::memory(),
                lock_path: None,
            },
        }
    }

    /// Queues reports durably (fsynced) and in order.
    pub fn push(&self, reports: &[Report]) -> Result<()> {
        let values = reports
            .iter()
            .map(|r| serde_json::to_value(r).map_err(|e| Error::internal(format!("report: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        self.queued.append(&values)
    }

    /// The reports not settled yet, oldest first.
    pub fn pending(&self) -> Result<Vec<Report>> {
        let lines = self.settled.read()?;
        let settled = settled_keys(&lines);
        self.queued
            .read()?
            .into_iter()
            .map(|v| {
                serde_json::from_value::<Report>(v)
                    .map_err(|e| Error::store(format!("outbox: a report cannot be read: {e}")))
            })
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |r| !settled.contains_key(r.key.as_str()))
            })
            .collect()
    }

    /// Records that the server took the report.
    pub fn settle_sent(&self, key: &str) -> Result<()> {
        self.settled
            .append(&[json!({"key": key, "outcome": "sent", "at": now()})])
    }

    /// Records that the server refused the report for good.
    pub fn settle_failed(&self, report: &Report, error: &Error) -> Result<()> {
        self.settled.append(&[failed_line(report, error)])
    }

    /// Every report refused for good (kept until the files are removed by hand).
    pub fn failed(&self) -> Result<Vec<Value>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let settled = self.settled.read()?;
        for line in self.failed.read()?.into_iter().chain(settled) {
            if line["outcome"] == "failed" {
                let key = line["key"].as_str().unwrap_or_default().to_owned();
                if seen.insert(key) {
                    out.push(line);
                }
            }
        }
        Ok(out)
    }

    /// Removes settled reports from the journals (caller holds the drain lock, so nothing
    /// settles meanwhile; appends wait on the outbox's own lock). Refused reports are copied
    /// to `outbox-failed` first; a crash part-way leaves settlements of reports already
    /// removed, which are harmless, or refused reports copied twice, which are read once.
    /// Runs when nothing is pending or at least `threshold` reports are settled.
    pub fn compact(&self, threshold: usize) -> Result<()> {
        let settled_lines = self.settled.read()?;
        if settled_lines.is_empty() {
            return Ok(());
        }
        let settled = settled_keys(&settled_lines);
        if settled.len() < threshold && !self.pending()?.is_empty() {
            return Ok(());
        }
        let failed: Vec<Value> = settled_lines
            .iter()
            .filter(|l| l["outcome"] == "failed")
            .cloned()
            .collect();
        if !failed.is_empty() {
            self.failed.append(&failed)?;
        }
        self.queued
            .retain(|q| q["key"].as_str().is_none_or(|k| !settled.contains_key(k)))?;
        let queued: HashSet<String> = self
            .queued
            .read()?
            .iter()
            .filter_map(|q| q["key"].as_str().map(str::to_owned))
            .collect();
        // What stays queued is unsettled; settlements of removed reports go.
        self.settled
            .retain(|l| l["key"].as_str().is_some_and(|k| queued.contains(k)))?;
        Ok(())
    }

    /// The drain lock file's path (`None` for a memory outbox).
    pub fn lock_path(&self) -> Option<&Path> {
        self.lock_path.as_deref()
    }

    /// The drain lock file, opened (not locked): `None` for a memory outbox.
    pub fn drain_lock(&self) -> Result<Option<fd_lock::RwLock<File>>> {
        let Some(path) = &self.lock_path else {
            return Ok(None);
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(path, "cannot open", e))?;
        Ok(Some(fd_lock::RwLock::new(file)))
    }
}

fn failed_line(report: &Report, error: &Error) -> Value {
    json!({
        "key": report.key,
        "outcome": "failed",
        "kind": report.kind,
        "local_receipt_id": report.local_receipt_id,
        "error": error.to_json(),
        "at": now(),
    })
}

fn settled_keys(lines: &[Value]) -> HashMap<&str, &Value> {
    lines
        .iter()
        .filter_map(|l| l["key"].as_str().map(|k| (k, l)))
        .collect()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(key: &str) -> Report {
        Report {
            key: key.into(),
            kind: "usage".into(),
            path: "/api/v1/log".into(),
            local_receipt_id: key.into(),
            server: "https://s".into(),
            body: json!({"n": key}),
        }
    }

    #[test]
    fn pending_settled_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("receipts.jsonl");
        let outbox = Outbox::open(Some(&store));
        outbox.push(&[report("a"), report("b")]).unwrap();
        outbox.push(&[report("c")]).unwrap();
        let keys = |o: &Outbox| -> Vec<String> {
            o.pending().unwrap().into_iter().map(|r| r.key).collect()
        };
        assert_eq!(keys(&outbox), ["a", "b", "c"]);
        outbox.settle_sent("a").unwrap();
        let refused = Error::new(crate::ErrorKind::Server, "HTTP 422");
        outbox.settle_failed(&report("b"), &refused).unwrap();
        // A second process sees the same state.
        let other = Outbox::open(Some(&store));
        assert_eq!(keys(&other), ["c"]);
        let lines = |suffix: &str| {
            std::fs::read_to_string(beside(&store, suffix))
                .unwrap()
                .lines()
                .count()
        };
        outbox.compact(100).unwrap();
        assert_eq!(lines(".outbox"), 3, "below the threshold with c pending");
        outbox.compact(1).unwrap();
        assert_eq!(
            keys(&outbox),
            ["c"],
            "nothing is dropped while c is pending"
        );
        assert_eq!((lines(".outbox"), lines(".outbox-settled")), (1, 0));
        assert_eq!(outbox.failed().unwrap().len(), 1);
        outbox.settle_sent("c").unwrap();
        outbox.compact(100).unwrap();
        assert!(keys(&outbox).is_empty());
        assert_eq!(
            std::fs::metadata(beside(&store, ".outbox")).unwrap().len(),
            0
        );
        let failed = outbox.failed().unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["key"], "b");
        assert_eq!(failed[0]["error"]["message"], "HTTP 422");
    }
}

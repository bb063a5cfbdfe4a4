//! Where receipts are kept: a durable, append-only file ([`FileStore`], the default) or
//! memory only ([`MemoryStore`]), both behind [`Store`].
//!
//! # The file format (version 1)
//!
//! JSON Lines (UTF-8): one record per line, each line ending with `\n`, nothing else in the
//! file. Each line is exactly
//!
//! ```text
//! {"seq":<N>,"prev":"<64 hex>","receipt":<receipt>}
//! ```
//!
//! - `seq`: 1 for the first line, then +1 per line.
//! - `prev`: lower-case hex SHA-256 of the previous line's bytes (without its `\n`); for the
//!   first line, [`record::GENESIS`] (64 zeros). This hash chain makes a changed, deleted,
//!   inserted or reordered record visible ([`verify`]).
//! - `receipt`: the receipt's canonical JSON (RFC 8785) exactly as issued, `signature`
//!   included, so it verifies as it stands.
//!
//! The members are written in this order and layout (no spaces); readers of this library
//! accept nothing else, so a line rewritten by another tool is reported, not trusted. Any
//! JSON Lines tool reads the file: `jq -c .receipt receipts.jsonl`,
//! `jq -s 'map(.receipt.total_cost) | add' receipts.jsonl`.
//!
//! Default location: [`default_path`], `<data dir>/llmring/receipts.jsonl` (Linux:
//! `$XDG_DATA_HOME` or `~/.local/share`; macOS: `~/Library/Application Support`; Windows:
//! `%APPDATA%`).
//!
//! # Writing
//!
//! - Every append takes an exclusive lock on the file (`flock`/`LockFileEx`, via `fd-lock`),
//!   re-reads the end of the file for the last `seq` and digest (another process may have
//!   appended), writes, `fdatasync`s, and unlocks. Processes and threads (each with its own
//!   handle or sharing one) append to one file without interleaving, and the chain stays
//!   linear.
//! - Group commit: appends through one handle queue up while a write is in flight; the next
//!   writer writes the whole queue at once with one fsync. [`FileStore::append`] returns
//!   only once its record is fsynced, so a crash at any moment loses no receipt whose append
//!   returned.
//! - Repair: a crash mid-append can leave a torn last line (no `\n`, or an unreadable last
//!   line). Opening the store, appending and iterating through a [`FileStore`] remove it
//!   under the lock (saving its bytes to `<store>.torn-<offset>-<nanos>` first) and report
//!   it ([`RepairReport`]). Only the last line is ever removed: a bad line in the middle is
//!   an error of iteration ([`Records`]) and a problem in [`verify`], with its line and byte
//!   offset, and is never skipped.
//!
//! # Reading
//!
//! [`Records`] streams the file with a buffered reader (memory bounded by the longest
//! record), up to its length when the iteration started; statistics
//! ([`crate::stats`]), export ([`crate::export`]) and [`verify`] consume it.

pub mod file;
mod filter;
pub mod record;
pub mod verify;
mod view;

pub use file::{Appended, FileStore, FileStoreOptions, Head, Record, Records, RepairReport};
pub use filter::{Fields, Filter};
pub use verify::{Problem, ProblemKind, VerifyOptions, VerifyReport};
pub use view::ReceiptView;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The store spec meaning "memory only".
pub const MEMORY: &str = ":memory:";

/// The default store file: `<user data dir>/llmring/receipts.jsonl`.
pub fn default_path() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("llmring").join("receipts.jsonl"))
        .ok_or_else(|| Error::store("no user data directory is known here; configure a store path"))
}

/// A receipt store: a durable file or memory only, one interface for both.
#[derive(Debug)]
pub enum Store {
    Memory(MemoryStore),
    File(FileStore),
}

impl Store {
    /// A memory-only store.
    pub fn memory() -> Store {
        Store::Memory(MemoryStore::default())
    }

    /// Opens the file store at `path` (created when missing); see [`FileStore::open`].
    pub fn open(path: impl Into<PathBuf>) -> Result<(Store, Option<RepairReport>)> {
        let (store, repair) = FileStore::open(path)?;
        Ok((Store::File(store), repair))
    }

    /// From a configuration value: `None` gives the file at [`default_path`], `":memory:"`
    /// memory only, anything else a file path.
    pub fn from_spec(spec: Option<&str>) -> Result<(Store, Option<RepairReport>)> {
        match spec {
            Some(MEMORY) => Ok((Store::memory(), None)),
            Some("") => Err(Error::config("store: an empty path")),
            Some(path) => Store::open(path),
            None => Store::open(default_path()?),
        }
    }

    /// The file's path (`None` for memory).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Store::Memory(_) => None,
            Store::File(f) => Some(f.path()),
        }
    }

    /// Appends a receipt (its canonical JSON text); returns once it is durable (file store).
    /// Errors: `InvalidArgument` when the text is not a receipt on one line, `Store` when it
    /// cannot be written.
    pub fn append(&self, receipt_json: String) -> Result<Appended> {
        match self {
            Store::File(f) => f.append(receipt_json),
            Store::Memory(m) => {
                let view = ReceiptView::parse(&receipt_json)?;
                let seq = m.push(receipt_json, view.fields());
                Ok(Appended { seq, digest: None })
            }
        }
    }

    /// Streams the receipts matching `filter`, oldest first.
    pub fn iter(&self, filter: Filter) -> Result<Records> {
        match self {
            Store::File(f) => f.iter(filter),
            Store::Memory(m) => Ok(Records::memory(m.select(&Filter::default()), filter)),
        }
    }

    /// The records after `position` (0 at first, then the position this returned), and the
    /// new position: a byte offset in the file, a count in memory. For readers that follow
    /// the store as it grows (budgets).
    pub fn iter_from(&self, position: u64) -> Result<(Records, u64)> {
        match self {
            Store::File(f) => f.iter_from(position),
            Store::Memory(m) => {
                let all = m.select(&Filter::default());
                let end = all.len() as u64;
                let rest = all.into_iter().skip(position as usize).collect();
                Ok((Records::memory(rest, Filter::default()), end))
            }
        }
    }

    /// The receipts matching `filter` as JSON texts, oldest first (collected: prefer
    /// [`Store::iter`] for large stores).
    pub fn select(&self, filter: &Filter) -> Result<Vec<String>> {
        match self {
            Store::Memory(m) => Ok(m.select(filter)),
            Store::File(f) => f.iter(filter.clone())?.map(|r| r.map(|r| r.json)).collect(),
        }
    }

    /// Verifies the chain (file store) and the signatures.
    pub fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        match self {
            Store::File(f) => verify::verify_path(f.path(), options),
            Store::Memory(m) => {
                let all = m.select(&Filter::default());
                Ok(verify::verify_receipts(
                    all.iter().map(String::as_str),
                    options,
                ))
            }
        }
    }
}

/// The receipts a client issued, as canonical JSON text with the fields used for filtering.
#[derive(Debug, Default)]
pub struct MemoryStore {
    receipts: Mutex<Vec<Stored>>,
}

/// One stored receipt.
#[derive(Debug, Clone)]
pub struct Stored {
    pub json: String,
    pub fields: filter::Fields,
}

impl MemoryStore {
    /// Appends and returns the new length (the receipt's position from 1).
    fn push(&self, json: String, fields: filter::Fields) -> u64 {
        let mut v = self.lock();
        v.push(Stored { json, fields });
        v.len() as u64
    }

    /// The receipts matching `filter`, oldest first, copied out so the caller iterates
    /// without holding the lock.
    pub fn select(&self, filter: &Filter) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|r| filter.matches(&r.fields))
            .map(|r| r.json.clone())
            .collect()
    }

    /// How many receipts are stored.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Stored>> {
        // A panic while holding the lock cannot leave the Vec half-written (push is atomic
        // from the outside), so a poisoned lock is still usable.
        self.receipts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

//! The durable file store: an append-only JSON Lines file with a hash chain, an exclusive
//! file lock around every write, group commit, and tail repair. The format and the design are
//! described in the [`crate::store`] documentation.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::store::Filter;
use crate::store::record::{self, GENESIS};
use crate::store::view::ReceiptView;

/// How a [`FileStore`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStoreOptions {
    /// Concurrent appends through one handle share one write and one fsync (default true).
    /// False gives one fsync per receipt (for comparison in benchmarks).
    pub group_commit: bool,
}

impl Default for FileStoreOptions {
    fn default() -> Self {
        FileStoreOptions { group_commit: true }
    }
}

/// What an append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The record's sequence number (1 for the first record of the file).
    pub seq: u64,
    /// Hex SHA-256 of the record line: the next record's `prev`, and the store's head
    /// (`None` for the memory store, which has no chain).
    pub digest: Option<String>,
}

/// A torn or unreadable last record removed from the end of the store (it was never a
/// receipt whose append returned: those are complete lines, fsynced). The removed bytes are
/// kept in `saved_to` for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    pub path: PathBuf,
    /// The file was truncated to this length (the byte offset where the removed bytes began).
    pub offset: u64,
    pub removed_bytes: u64,
    /// The sequence number of the last record kept (0: none).
    pub last_seq: u64,
    pub reason: String,
    /// Where the removed bytes were saved (`<store>.torn-<offset>-<unix-nanos>`).
    pub saved_to: Option<PathBuf>,
}

impl RepairReport {
    /// The report as JSON, for logs and the C ABI.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.path.display().to_string(),
            "offset": self.offset,
            "removed_bytes": self.removed_bytes,
            "last_seq": self.last_seq,
            "reason": self.reason,
            "saved_to": self.saved_to.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// The end of the store: where the next record goes and what it chains to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The sequence number of the last record (0 when the store is empty).
    pub seq: u64,
    /// The digest of the last record line ([`record::GENESIS`] when the store is empty).
    pub digest: String,
    /// The length of the file (the end of its last complete record).
    pub len: u64,
}

/// A durable receipt store file. Cheap to share between threads (`&self` everywhere);
/// several handles, in one process or many, may append to the same file at once.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    options: FileStoreOptions,
    queue: Mutex<Queue>,
    written: Condvar,
    io: Mutex<Writer>,
    syncs: AtomicU64,
}

#[derive(Debug, Default)]
struct Queue {
    next_ticket: u64,
    pending: Vec<(u64, String)>,
    done: HashMap<u64, Result<Appended>>,
    /// An append is writing a batch (the others wait on `written`).
    leader_active: bool,
}

#[derive(Debug)]
struct Writer {
    file: fd_lock::RwLock<File>,
    repairs: Vec<RepairReport>,
}

pub(crate) fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::store(format!("receipt store {}: {what}: {e}", path.display()))
        .with("path", path.display().to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section leaves its data consistent before anything that can panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FileStore {
    /// Opens (creating it and its directory when missing) the store at `path`, and repairs a
    /// torn or unreadable last record. Only the end of the file is read: a bad record in the
    /// middle is reported by iteration and verification, with its line and byte offset.
    pub fn open(path: impl Into<PathBuf>) -> Result<(FileStore, Option<RepairReport>)> {
        Self::open_with(path, FileStoreOptions::default())
    }

    /// [`FileStore::open`] with options.
    pub fn open_with(
        path: impl Into<PathBuf>,
        options: FileStoreOptions,
    ) -> Result<(FileStore, Option<RepairReport>)> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_error(&path, "cannot create its directory", e))?;
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, "cannot open", e))?;
        if !existed {
            sync_dir(&path)?;
        }
        let store = FileStore {
            path,
            options,
            queue: Mutex::new(Queue::default()),
            written: Condvar::new(),
            io: Mutex::new(Writer {
                file: fd_lock::RwLock::new(file),
                repairs: Vec::new(),
            }),
            syncs: AtomicU64::new(0),
        };
        store.head()?;
        let repair = lock(&store.io).repairs.pop();
        Ok((store, repair))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one receipt (its JSON text, one object on one line; canonical JSON is) and
    /// returns once the record is on disk (fsynced). Concurrent appends share one fsync.
    /// Errors: `InvalidArgument` when the text is not a receipt, `Store` when the file cannot
    /// be written (then nothing of this append is left in the file).
    pub fn append(&self, receipt_json: String) -> Result<Appended> {
        check_receipt_text(&receipt_json)?;
        let mut q = lock(&self.queue);
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.pending.push((ticket, receipt_json));
        // Wait until a leader has written this append, or become the leader.
        let batch = loop {
            if let Some(done) = q.done.remove(&ticket) {
                return done;
            }
            if !q.leader_active {
                if !q.pending.iter().any(|(t, _)| *t == ticket) {
                    return Err(lost_append());
                }
                q.leader_active = true;
                break if self.options.group_commit {
                    std::mem::take(&mut q.pending)
                } else {
                    let i = q.pending.iter().position(|(t, _)| *t == ticket);
                    vec![q.pending.remove(i.expect("checked above"))]
                };
            }
            q = self.written.wait(q).unwrap_or_else(|p| p.into_inner());
        };
        drop(q);
        // Hands leadership back and wakes the waiters, even if the write panics.
        struct Leader<'a>(&'a FileStore);
        impl Drop for Leader<'_> {
            fn drop(&mut self) {
                lock(&self.0.queue).leader_active = false;
                self.0.written.notify_all();
            }
        }
        let leader = Leader(self);
        let results = {
            let mut writer = lock(&self.io);
            self.write_batch(&mut writer, &batch)
        };
        let mut mine = None;
        {
            let mut q = lock(&self.queue);
            for ((t, _), r) in batch.iter().zip(results) {
                if *t == ticket {
                    mine = Some(r);
                } else {
                    q.done.insert(*t, r);
                }
            }
        }
        drop(leader);
        mine.unwrap_or_else(|| Err(lost_append()))
    }

    /// Writes a batch under the file lock: one write, one fsync.
    fn write_batch(&self, writer: &mut Writer, batch: &[(u64, String)]) -> Vec<Result<Appended>> {
        let Writer { file, repairs } = writer;
        let result = (|| -> Result<Vec<Appended>> {
            let mut guard = file
                .write()
                .map_err(|e| io_error(&self.path, "cannot lock", e))?;
            let file: &mut File = &mut guard;
            still_at_path(&self.path, file)?;
            let head = tail(&self.path, file, Some(repairs))?;
            let mut buf = Vec::with_capacity(batch.iter().map(|(_, j)| j.len() + 120).sum());
            let mut prev = head.digest.clone();
            let mut seq = head.seq;
            let mut out = Vec::with_capacity(batch.len());
            for (_, json) in batch {
                seq += 1;
                let start = buf.len();
                record::write_line(&mut buf, seq, &prev, json);
                prev = record::line_digest(&buf[start..buf.len() - 1]);
                out.push(Appended {
                    seq,
                    digest: Some(prev.clone()),
                });
            }
            let written = file
                .seek(SeekFrom::Start(head.len))
                .and_then(|_| file.write_all(&buf))
                .and_then(|_| file.sync_data());
            self.syncs.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = written {
                // Take back whatever reached the file, so no record of a failed append stays.
                let _ = file.set_len(head.len).and_then(|_| file.sync_all());
                return Err(io_error(&self.path, "cannot write", e));
            }
            Ok(out)
        })();
        match result {
            Ok(v) => v.into_iter().map(Ok).collect(),
            Err(e) => batch.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// The end of the store, repairing a torn last record first (under the file lock).
    pub fn head(&self) -> Result<Head> {
        let mut writer = lock(&self.io);
        let Writer { file, repairs } = &mut *writer;
        let mut guard = file
            .write()
            .map_err(|e| io_error(&self.path, "cannot lock", e))?;
        tail(&self.path, &mut guard, Some(repairs))
    }

    /// Repairs made by appends and iterations since the last call (a process that crashed
    /// mid-append leaves a torn record that the next writer removes).
    pub fn take_repairs(&self) -> Vec<RepairReport> {
        std::mem::take(&mut lock(&self.io).repairs)
    }

    /// How many fsyncs appends made through this handle (fewer than appends when group
    /// commit batched them).
    pub fn sync_count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Streams the records matching `filter`, oldest first, up to the end of the store at the
    /// time of the call (a torn last record is repaired first). Memory stays bounded by the
    /// longest record whatever the file's size.
    pub fn iter(&self, filter: Filter) -> Result<Records> {
        let head = self.head()?;
        Records::open(&self.path, head.len, filter)
    }

    /// The records from byte `start` (a line start: 0, or an end returned before) to the
    /// current end, and that end. Line numbers in these records count from `start`.
    pub fn iter_from(&self, start: u64) -> Result<(Records, u64)> {
        let head = self.head()?;
        let start = start.min(head.len);
        let reader = LineReader::open_at(&self.path, start, head.len)?;
        Ok((Records::from_reader(reader, Filter::default()), head.len))
    }
}

/// Reads the records of a store file without opening it for writing (no repair): up to its
/// length at the time of the call, taken under a shared lock so no append is half-written.
/// A torn last line (a crash not yet repaired) is skipped, as it was never a receipt whose
/// append returned; [`crate::store::verify`] reports it.
pub fn read_path(path: &Path, filter: Filter) -> Result<Records> {
    let len = snapshot_len(path)?;
    Records::open(path, len, filter)
}

/// The file's length under a shared lock (no append is half-way through).
pub(crate) fn snapshot_len(path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
    let lock = fd_lock::RwLock::new(file);
    let guard = lock.read().map_err(|e| io_error(path, "cannot lock", e))?;
    let len = guard
        .metadata()
        .map_err(|e| io_error(path, "cannot read", e))?
        .len();
    drop(guard);
    Ok(len)
}

#[cfg(unix)]
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(path, "cannot sync its directory", e))
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> Result<()> {
    Ok(())
}

/// Whether `path` still names the open `file`: false once the file was removed or replaced
/// (by a rename over it, another file or a directory) while it was open.
#[cfg(unix)]
pub(crate) fn names_open_file(path: &Path, file: &File) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file
        .metadata()
        .map_err(|e| io_error(path, "cannot read the open file's metadata", e))?;
    match std::fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, "cannot read", e)),
    }
}

#[cfg(not(unix))]
pub(crate) fn names_open_file(_path: &Path, _file: &File) -> Result<bool> {
    Ok(true)
}

/// `Ok` while `path` still names the open `file`. A store file removed, or replaced (by
/// another file or a directory) while open, is an error: appending to the old file would put
/// receipts where nobody looks for them.
fn still_at_path(path: &Path, file: &File) -> Result<()> {
    if names_open_file(path, file)? {
        return Ok(());
    }
    let what = match std::fs::metadata(path) {
        Err(_) => "removed",
        Ok(named) if named.is_dir() => "replaced by a directory",
        Ok(_) => "replaced by another file",
    };
    Err(Error::store(format!(
        "receipt store {}: the file was {what} while the store was open; nothing was written \
         (reopen the store)",
        path.display()
    ))
    .with("path", path.display().to_string()))
}

fn lost_append() -> Error {
    Error::internal(
        "receipt store: a writer panicked during this append; whether it was written is unknown",
    )
}

/// A receipt's text must be one JSON object on one line with every standard field.
fn check_receipt_text(json: &str) -> Result<()> {
    let b = json.as_bytes();
    if !(b.first() == Some(&b'{') && b.last() == Some(&b'}')) || b.contains(&b'\n') {
        return Err(Error::invalid_argument(
            "a stored receipt is one JSON object on one line (canonical JSON)",
        ));
    }
    ReceiptView::parse(json).map(|_| ())
}

/// Reads the end of the file: the last complete record. With `repairs`, a torn or unreadable
/// last record is removed (and saved beside the store) and reported; the caller holds the
/// exclusive lock.
fn tail(path: &Path, file: &mut File, mut repairs: Option<&mut Vec<RepairReport>>) -> Result<Head> {
    for attempt in 0..2 {
        let len = file
            .metadata()
            .map_err(|e| io_error(path, "cannot read", e))?
            .len();
        if len == 0 {
            return Ok(Head {
                seq: 0,
                digest: GENESIS.to_owned(),
                len: 0,
            });
        }
        let (start, end, bytes) = last_lines(path, file, len)?;
        // bytes = file[start..len]; end = offset just past the last '\n' (start if none).
        let problem = if end < len {
            Some((
                end,
                "the last record is incomplete (no end of line)".to_owned(),
            ))
        } else {
            None
        };
        let line_start = {
            let complete = &bytes[..(end - start) as usize];
            let body = complete.strip_suffix(b"\n").unwrap_or(complete);
            match body.iter().rposition(|&b| b == b'\n') {
                Some(i) => start + i as u64 + 1,
                None => start,
            }
        };
        let line = &bytes[(line_start - start) as usize..(end - start) as usize];
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let parsed = if end == 0 {
            Ok(None)
        } else {
            record::parse_line(line)
                .and_then(|p| {
                    serde_json::from_str::<serde::de::IgnoredAny>(p.receipt)
                        .map_err(|e| format!("the receipt is not JSON: {e}"))?;
                    Ok(p.seq)
                })
                .map(Some)
        };
        let (cut, reason, last_seq) = match (problem, parsed) {
            (None, Ok(seq)) => {
                if attempt == 1 {
                    if let Some(r) = repairs.as_deref_mut().and_then(|r| r.last_mut()) {
                        r.last_seq = seq.unwrap_or(0);
                    }
                }
                return Ok(Head {
                    seq: seq.unwrap_or(0),
                    digest: match seq {
                        Some(_) => record::line_digest(line),
                        None => GENESIS.to_owned(),
                    },
                    len,
                });
            }
            (Some((cut, reason)), Ok(seq)) => (cut, reason, seq.unwrap_or(0)),
            (_, Err(why)) => (
                line_start,
                format!("the last record (byte offset {line_start}) is unreadable: {why}"),
                0,
            ),
        };
        let advice = if attempt == 0 {
            "open the store for writing to repair it"
        } else {
            "it is still unreadable after removing a torn record after it; run verify to find \
             the problem"
        };
        let Some(repairs) = repairs.as_deref_mut().filter(|_| attempt == 0) else {
            return Err(Error::store(format!(
                "receipt store {}: {reason}; {advice}",
                path.display()
            ))
            .with("offset", cut));
        };
        repair(path, file, cut, len, reason, last_seq, repairs)?;
    }
    unreachable!("the second pass returns")
}

/// Reads enough of the end of the file to hold its last complete line and any torn tail.
/// Returns (start offset, end of the complete part, bytes from start to the end of file).
fn last_lines(path: &Path, file: &mut File, len: u64) -> Result<(u64, u64, Vec<u8>)> {
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let mut bytes = vec![0u8; (len - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| io_error(path, "cannot read", e))?;
        let newlines: Vec<usize> = bytes
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .take(2)
            .collect();
        let enough = newlines.len() == 2 || start == 0;
        if enough {
            let end = newlines.first().map_or(start, |&i| start + i as u64 + 1);
            return Ok((start, end, bytes));
        }
        window *= 4;
    }
}

fn repair(
    path: &Path,
    file: &mut File,
    cut: u64,
    len: u64,
    reason: String,
    last_seq: u64,
    repairs: &mut Vec<RepairReport>,
) -> Result<()> {
    let mut removed = vec![0u8; (len - cut) as usize];
    file.seek(SeekFrom::Start(cut))
        .and_then(|_| file.read_exact(&mut removed))
        .map_err(|e| io_error(path, "cannot read", e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut saved = path.as_os_str().to_owned();
    saved.push(format!(".torn-{cut}-{nanos}"));
    let saved = PathBuf::from(saved);
    std::fs::write(&saved, &removed)
        .and_then(|_| File::open(&saved).and_then(|f| f.sync_all()))
        .map_err(|e| io_error(path, "cannot save a torn record before removing it", e))?;
    file.set_len(cut)
        .and_then(|_| file.sync_all())
        .map_err(|e| io_error(path, "cannot remove a torn record", e))?;
    repairs.push(RepairReport {
        path: path.to_owned(),
        offset: cut,
        removed_bytes: len - cut,
        last_seq,
        reason,
        saved_to: Some(saved),
    });
    Ok(())
}

/// One line of a store file as read, without its `\n`.
#[derive(Debug)]
pub struct RawLine<'a> {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    pub bytes: &'a [u8],
    /// False for a last line without `\n` (a torn record).
    pub complete: bool,
}

/// Reads a store file line by line up to a length, reusing one buffer.
pub struct LineReader {
    reader: BufReader<std::io::Take<File>>,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
    path: PathBuf,
}

impl LineReader {
    /// Reads `path` up to `len` bytes.
    pub fn open(path: &Path, len: u64) -> Result<LineReader> {
        let file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        Ok(LineReader::open_file(file, len, path))
    }

    /// Reads `path` from byte `start` (a line start) up to byte `end`.
    pub fn open_at(path: &Path, start: u64, end: u64) -> Result<LineReader> {
        let mut file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        file.seek(std::io::SeekFrom::Start(start))
            .map_err(|e| io_error(path, "cannot seek", e))?;
        let mut reader = LineReader::open_file(file, end.saturating_sub(start), path);
        reader.offset = start;
        Ok(reader)
    }

    fn open_file(file: File, len: u64, path: &Path) -> LineReader {
        LineReader {
            reader: BufReader::with_capacity(256 * 1024, file.take(len)),
            buf: Vec::new(),
            line: 0,
            offset: 0,
            path: path.to_owned(),
        }
    }

    /// The next line, or `None` at the end.
    pub fn next_line(&mut self) -> Result<Option<RawLine<'_>>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| io_error(&self.path, "cannot read", e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let offset = self.offset;
        self.offset += n as u64;
        let complete = self.buf.last() == Some(&b'\n');
        let bytes = if complete {
            &self.buf[..n - 1]
        } else {
            &self.buf[..]
        };
        Ok(Some(RawLine {
            line: self.line,
            offset,
            bytes,
            complete,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One stored receipt as read back.
#[derive(Debug, Clone)]
pub struct Record {
    /// Sequence number (file store) or position from 1 (memory store).
    pub seq: u64,
    /// 1-based line in the file (0 for the memory store).
    pub line: u64,
    /// Byte offset of the line in the file (0 for the memory store).
    pub offset: u64,
    /// The receipt's JSON text exactly as stored (canonical JSON, signature included).
    pub json: String,
    /// Its standard fields.
    pub view: ReceiptView,
}

/// A stream of records (see [`FileStore::iter`]); each item is a record or the error that
/// stops the stream (a bad record, with its line and byte offset, or an I/O error).
pub struct Records {
    inner: RecordsInner,
    filter: Filter,
    failed: bool,
}

enum RecordsInner {
    File(LineReader),
    Memory(std::vec::IntoIter<String>, u64),
}

impl Records {
    fn open(path: &Path, len: u64, filter: Filter) -> Result<Records> {
        Ok(Records::from_reader(LineReader::open(path, len)?, filter))
    }

    fn from_reader(reader: LineReader, filter: Filter) -> Records {
        Records {
            inner: RecordsInner::File(reader),
            filter,
            failed: false,
        }
    }

    pub(crate) fn memory(receipts: Vec<String>, filter: Filter) -> Records {
        Records {
            inner: RecordsInner::Memory(receipts.into_iter(), 0),
            filter,
            failed: false,
        }
    }

    fn next_record(&mut self) -> Option<Result<Record>> {
        match &mut self.inner {
            RecordsInner::Memory(it, pos) => {
                let json = it.next()?;
                *pos += 1;
                Some(ReceiptView::parse(&json).map(|view| Record {
                    seq: *pos,
                    line: 0,
                    offset: 0,
                    json,
                    view,
                }))
            }
            RecordsInner::File(reader) => {
                let (line, offset, read) = {
                    let raw = match reader.next_line() {
                        Ok(Some(raw)) => raw,
                        Ok(None) => return None,
                        Err(e) => return Some(Err(e)),
                    };
                    if !raw.complete {
                        // A torn last record: never a receipt whose append returned.
                        return None;
                    }
                    let read = record::parse_line(raw.bytes).and_then(|parts| {
                        ReceiptView::parse(parts.receipt)
                            .map(|view| (parts.seq, parts.receipt.to_owned(), view))
                            .map_err(|e| e.message)
                    });
                    (raw.line, raw.offset, read)
                };
                Some(match read {
                    Ok((seq, json, view)) => Ok(Record {
                        seq,
                        line,
                        offset,
                        json,
                        view,
                    }),
                    Err(why) => Err(Error::store(format!(
                        "receipt store {}: line {line} (byte offset {offset}) is not a \
                         receipt record: {why}",
                        reader.path().display()
                    ))
                    .with("line", line)
                    .with("offset", offset)),
                })
            }
        }
    }
}

impl Iterator for Records {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.failed {
            return None;
        }
        loop {
            match self.next_record()? {
                Ok(r) if !self.filter.matches_view(&r.view) => continue,
                Ok(r) => return Some(Ok(r)),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

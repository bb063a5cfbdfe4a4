//! A small durable JSON Lines file (or its in-memory stand-in) shared by processes: the
//! outbox, its settlements and the server receipts are each one. Every append takes an
//! exclusive file lock, removes a torn last line left by a process killed mid-write (it was
//! never acknowledged), writes whole lines and fsyncs before returning. Files are created
//! with mode 0600: conversation reports hold messages.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::file::{io_error, names_open_file};

/// One journal: a file, or memory (for a `:memory:` store: lost when the process ends).
#[derive(Debug)]
pub enum Journal {
    File(PathBuf),
    Memory(Mutex<Vec<String>>),
}

impl Journal {
    pub fn memory() -> Journal {
        Journal::Memory(Mutex::default())
    }

    /// Appends values, one line each, durably (fsynced) and together.
    pub fn append(&self, values: &[Value]) -> Result<()> {
        let lines: Vec<String> = values.iter().map(Value::to_string).collect();
        match self {
            Journal::Memory(m) => {
                lock(m).extend(lines);
                Ok(())
            }
            Journal::File(path) => {
                let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
                for line in &lines {
                    buf.push_str(line);
                    buf.push('\n');
                }
                loop {
                    let mut lock = fd_lock::RwLock::new(open_rw(path)?);
                    let mut guard = lock.write().map_err(|e| io_error(path, "cannot lock", e))?;
                    let file: &mut File = &mut guard;
                    if !names_open_file(path, file)? {
                        continue; // replaced by a compaction meanwhile: append to the new one
                    }
                    let len = drop_torn_tail(path, file)?;
                    return file
                        .seek(SeekFrom::Start(len))
                        .and_then(|_| file.write_all(buf.as_bytes()))
                        .and_then(|_| file.sync_data())
                        .map_err(|e| {
                            let _ = file.set_len(len);
                            io_error(path, "cannot write", e)
                        });
                }
            }
        }
    }

    /// Every complete line, parsed, oldest first (a torn last line is not a line yet).
    pub fn read(&self) -> Result<Vec<Value>> {
        match self {
            Journal::Memory(m) => lock(m)
                .iter()
                .map(|l| parse(l, Path::new(":memory:")))
                .collect(),
            Journal::File(path) => {
                let file = match File::open(path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(io_error(path, "cannot open", e)),
                };
                let lock = fd_lock::RwLock::new(file);
                let guard = lock.read().map_err(|e| io_error(path, "cannot lock", e))?;
                let text = read_all(path, &guard)?;
                complete_lines(&text).map(|l| parse(l, path)).collect()
            }
        }
    }

    /// Keeps only the lines `keep` accepts, read under the exclusive lock (so no append
    /// slips in between); returns how many were removed. The kept lines are written to a
    /// new file that replaces the old one by rename (a crash leaves one or the other, never
    /// a half), and appenders waiting on the old file see it was replaced and append to the
    /// new one. Without Unix rename semantics, the journal is only ever emptied (when `keep`
    /// keeps nothing).
    pub fn retain(&self, mut keep: impl FnMut(&Value) -> bool) -> Result<usize> {
        match self {
            Journal::Memory(m) => {
                let mut lines = lock(m);
                let before = lines.len();
                let mut kept = Vec::with_capacity(before);
                for line in lines.drain(..) {
                    if keep(&parse(&line, Path::new(":memory:"))?) {
                        kept.push(line);
                    }
                }
                *lines = kept;
                Ok(before - lines.len())
            }
            Journal::File(path) => {
                if !path.exists() {
                    return Ok(0);
                }
                // Only the drainer compacts (under the drain lock), so the file at `path`
                // cannot be replaced while this waits for its lock.
                let mut lock = fd_lock::RwLock::new(open_rw(path)?);
                let mut guard = lock.write().map_err(|e| io_error(path, "cannot lock", e))?;
                let file: &mut File = &mut guard;
                let text = read_all(path, file)?;
                let mut kept = String::new();
                let (mut total, mut removed) = (0, 0);
                for line in complete_lines(&text) {
                    total += 1;
                    if keep(&parse(line, path)?) {
                        kept.push_str(line);
                        kept.push('\n');
                    } else {
                        removed += 1;
                    }
                }
                if removed == 0 {
                    return Ok(0);
                }
                if removed == total {
                    file.set_len(0)
                        .and_then(|_| file.sync_all())
                        .map_err(|e| io_error(path, "cannot truncate", e))?;
                    return Ok(removed);
                }
                if cfg!(unix) {
                    replace(path, &kept)?;
                    return Ok(removed);
                }
                Ok(0)
            }
        }
    }
}

/// Writes `text` beside `path` and renames it over `path` (the caller holds the lock).
fn replace(path: &Path, text: &str) -> Result<()> {
    let tmp = super::outbox::beside(path, ".compact");
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| io_error(path, "cannot rewrite", e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(path, "cannot sync its directory", e))?;
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn open_rw(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error(path, "cannot create its directory", e))?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| io_error(path, "cannot open", e))
}

fn read_all(path: &Path, mut file: &File) -> Result<String> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(|e| io_error(path, "cannot read", e))?;
    Ok(text)
}

/// Lines ending with `\n` (the last one may be torn: no `\n` yet).
fn complete_lines(text: &str) -> impl Iterator<Item = &str> {
    let end = text.rfind('\n').map_or(0, |i| i + 1);
    text[..end].lines().filter(|l| !l.is_empty())
}

fn parse(line: &str, path: &Path) -> Result<Value> {
    serde_json::from_str(line).map_err(|e| {
        Error::store(format!("{}: a line is not JSON: {e}", path.display()))
            .with("path", path.display().to_string())
    })
}

/// Truncates a torn last line (no `\n`: its writer died before the fsync returned) and
/// returns the length to append at. The caller holds the exclusive lock.
fn drop_torn_tail(path: &Path, file: &mut File) -> Result<u64> {
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "cannot read", e))?
        .len();
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(|e| io_error(path, "cannot read", e))?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    let text = read_all(path, file)?;
    let keep = text.rfind('\n').map_or(0, |i| i + 1) as u64;
    file.set_len(keep)
        .and_then(|_| file.sync_data())
        .map_err(|e| io_error(path, "cannot repair", e))?;
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn torn_tails_are_dropped_and_retain_rewrites_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::File(path.clone());
        assert!(j.read().unwrap().is_empty());
        j.append(&[json!({"n": 1})]).unwrap();
        // A writer killed mid-line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"n\":")
            .unwrap();
        assert_eq!(j.read().unwrap(), vec![json!({"n": 1})]);
        j.append(&[json!({"n": 2}), json!({"n": 3})]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"
        );
        assert_eq!(j.retain(|_| true).unwrap(), 0);
        assert_eq!(j.retain(|v| v["n"] != 1).unwrap(), 1);
        assert_eq!(j.read().unwrap(), vec![json!({"n": 2}), json!({"n": 3})]);
        // An appender holding the replaced file notices and appends to the new one.
        j.append(&[json!({"n": 4})]).unwrap();
        assert_eq!(j.read().unwrap().len(), 3);
        assert_eq!(j.retain(|_| false).unwrap(), 3);
        assert!(j.read().unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        let m = Journal::memory();
        m.append(&[json!(1)]).unwrap();
        assert_eq!(m.read().unwrap(), vec![json!(1)]);
        assert_eq!(m.retain(|_| false).unwrap(), 1);
        assert!(m.read().unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn an_append_waiting_on_a_replaced_file_goes_to_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = std::sync::Arc::new(Journal::File(path.clone()));
        j.append(&[json!({"n": 1}), json!({"n": 2})]).unwrap();
        // Stand in for a compaction: hold the lock, let an append open the file and wait,
        // replace the file, release.
        let mut held = fd_lock::RwLock::new(open_rw(&path).unwrap());
        let guard = held.write().unwrap();
        let appender = {
            let j = std::sync::Arc::clone(&j);
            std::thread::spawn(move || j.append(&[json!({"n": 3})]).unwrap())
        };
        // Give the appender time to open the old file (if it has not, it opens the new one:
        // the test then passes without exercising the wait).
        std::thread::sleep(std::time::Duration::from_millis(100));
        replace(&path, "{\"n\":2}\n").unwrap();
        drop(guard);
        appender.join().unwrap();
        assert_eq!(j.read().unwrap(), vec![json!({"n": 2}), json!({"n": 3})]);
    }
}

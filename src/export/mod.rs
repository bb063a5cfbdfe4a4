//! Exporting stored receipts as JSON or CSV, streaming (memory bounded whatever the number
//! of receipts), to any [`Write`] or to a path (written to a temporary file in the same
//! directory, fsynced, then renamed over the target: a failed export never leaves a half
//! file under the target's name).
//!
//! # JSON ([`write_json`])
//!
//! The reference's shape, with every member of each receipt, `signature` included:
//!
//! ```text
//! {
//!   "exported_at": "2025-01-31T12:00:00.000Z",
//!   "receipts": [
//!     {"alias":"fast",...,"signature":"ed25519:...","timestamp":"...","total_cost":0.0000225,...},
//!     ...
//!   ]
//! }
//! ```
//!
//! Each receipt is written byte for byte as stored (its canonical JSON), so every exported
//! receipt verifies again with [`crate::receipt::api::verify`].
//!
//! # CSV ([`write_csv`])
//!
//! RFC 4180 (comma separated, `\r\n`-free: records end with `\n`; fields with a comma,
//! quote or line break are quoted, quotes doubled), via the `csv` crate. A header row with
//! the standard receipt fields ([`crate::receipt::model::FIELDS`]) then `extra`: the other
//! members of the receipt as one canonical JSON object (empty when none). Costs are written
//! as exact decimals (`0.0000225`, never an exponent), tokens as whole numbers, a missing
//! signature as an empty cell.
//!
//! Formula injection: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
//! return, or with `'`, is written with a `'` before it, so spreadsheets show it as text
//! ([`neutralize`]); [`unneutralize`] takes the `'` off again, so every cell reads back
//! exactly. Number cells are never affected: tokens and costs are never negative.

pub mod report;

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::receipt::model::FIELDS;
use crate::store::{Filter, Record, Store};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// `json` or `csv`.
    pub fn parse(name: &str) -> Result<Format> {
        match name {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            other => Err(Error::invalid_argument(format!(
                "unknown export format {other:?} (expected json or csv)"
            ))),
        }
    }
}

/// What to export and where: the form `llmring_export` reads.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    pub output: PathBuf,
    pub filter: Filter,
}

impl ExportOptions {
    /// Reads `{"format": "json"|"csv" (default json), "output": PATH, "since", "until",
    /// "alias", "provider", "model", "profile"}` (filter keys as in [`Filter::from_json`]).
    pub fn from_json(text: &str) -> Result<ExportOptions> {
        let mut value = crate::receipt::json::parse_strict(text)?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| Error::invalid_argument("export options: a JSON object is expected"))?;
        let format = match obj.remove("format") {
            None | Some(Value::Null) => Format::Json,
            Some(Value::String(s)) => Format::parse(&s)?,
            Some(_) => return Err(Error::invalid_argument("export options: format is a name")),
        };
        let output = match obj.remove("output") {
            Some(Value::String(s)) if !s.is_empty() => PathBuf::from(s),
            _ => {
                return Err(Error::invalid_argument(
                    "export options: output (a file path) is required",
                ));
            }
        };
        let filter = Filter::from_json(Some(&value.to_string()))?;
        Ok(ExportOptions {
            format,
            output,
            filter,
        })
    }
}

/// Exports a store's receipts as the options say; returns how many were written.
pub fn export(store: &Store, options: &ExportOptions) -> Result<u64> {
    export_to_path(
        store.iter(options.filter.clone())?,
        options.format,
        &options.output,
    )
}

/// Writes `records` in `format` to `path` (temporary file, fsync, rename).
pub fn export_to_path(
    records: impl IntoIterator<Item = Result<Record>>,
    format: Format,
    path: &Path,
) -> Result<u64> {
    write_atomically(path, |out| match format {
        Format::Json => write_json(records, out, Utc::now()),
        Format::Csv => write_csv(records, out),
    })
}

fn write_error(e: std::io::Error) -> Error {
    Error::store(format!("export: cannot write: {e}"))
}

/// Writes the JSON export; returns how many receipts were written. Stops at the first
/// error of the stream (a bad record is never skipped).
pub fn write_json<W: Write>(
    records: impl IntoIterator<Item = Result<Record>>,
    out: W,
    exported_at: DateTime<Utc>,
) -> Result<u64> {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let at = exported_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    write!(out, "{{\n  \"exported_at\": \"{at}\",\n  \"receipts\": [").map_err(write_error)?;
    let mut n = 0u64;
    for r in records {
        let r = r?;
        let sep = if n == 0 { "\n    " } else { ",\n    " };
        out.write_all(sep.as_bytes())
            .and_then(|_| out.write_all(r.json.as_bytes()))
            .map_err(write_error)?;
        n += 1;
    }
    let end = if n == 0 { "]\n}\n" } else { "\n  ]\n}\n" };
    out.write_all(end.as_bytes()).map_err(write_error)?;
    out.flush().map_err(write_error)?;
    Ok(n)
}

/// The CSV header: the standard receipt fields, then `extra`.
pub fn csv_header() -> Vec<&'static str> {
    FIELDS.iter().copied().chain(["extra"]).collect()
}

/// A cell as written: with `'` before it when it begins with `=`, `+`, `-`, `@`, tab, CR or
/// `'` (see the module documentation).
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The cell's original text: [`neutralize`] undone.
pub fn unneutralize(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => cell,
    }
}

/// Writes the CSV export; returns how many receipts were written.
pub fn write_csv<W: Write>(
    records: impl IntoIterator<Item = Result<Record>>,
    out: W,
) -> Result<u64> {
    let csv_error = |e: csv::Error| Error::store(format!("export: cannot write CSV: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256 * 1024)
        .from_writer(out);
    w.write_record(csv_header()).map_err(csv_error)?;
    let mut n = 0u64;
    let mut cell = String::new();
    for r in records {
        let r = r?;
        let extra = extra_members(&r)?;
        let v = &r.view;
        let field = |w: &mut csv::Writer<W>, text: &str| {
            w.write_field(neutralize(text).as_bytes())
                .map_err(csv_error)
        };
        for text in [
            &v.receipt_id,
            &v.timestamp,
            &v.alias,
            &v.profile,
            &v.lock_digest,
            &v.provider,
            &v.model,
        ] {
            field(&mut w, text)?;
        }
        for tokens in [v.prompt_tokens, v.completion_tokens, v.total_tokens] {
            cell.clear();
            let _ = std::fmt::Write::write_fmt(&mut cell, format_args!("{tokens}"));
            field(&mut w, &cell)?;
        }
        for cost in [v.input_cost, v.output_cost, v.total_cost] {
            cell.clear();
            let _ = std::fmt::Write::write_fmt(&mut cell, format_args!("{}", cost.normalize()));
            field(&mut w, &cell)?;
        }
        field(&mut w, v.signature.as_deref().unwrap_or(""))?;
        match extra {
            None => field(&mut w, "")?,
            Some(map) => field(&mut w, &crate::receipt::to_json(&Value::Object(map))?)?,
        }
        w.write_record(None::<&[u8]>).map_err(csv_error)?;
        n += 1;
    }
    w.flush().map_err(write_error)?;
    Ok(n)
}

/// The members of a record's receipt beyond the standard fields ([`FIELDS`]), if any. The
/// standard fields themselves come from the record's view (read when the record was).
fn extra_members(r: &Record) -> Result<Option<serde_json::Map<String, Value>>> {
    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

    /// A member name, borrowed unless it has escapes.
    struct Key<'de>(Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a member name")
                }
                fn visit_borrowed_str<E: de::Error>(
                    self,
                    v: &'de str,
                ) -> std::result::Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_owned())))
                }
            }
            d.deserialize_str(KeyVisitor)
        }
    }

    struct Extra;
    impl<'de> Visitor<'de> for Extra {
        type Value = serde_json::Map<String, Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a receipt object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut extra = serde_json::Map::new();
            while let Some(Key(key)) = map.next_key()? {
                if FIELDS.contains(&key.as_ref()) {
                    map.next_value::<IgnoredAny>()?;
                } else {
                    let value: Value = map.next_value()?;
                    extra.insert(key.into_owned(), value);
                }
            }
            Ok(extra)
        }
    }

    let mut de = serde_json::Deserializer::from_str(&r.json);
    let extra = de
        .deserialize_map(Extra)
        .and_then(|m| de.end().map(|_| m))
        .map_err(|e| Error::store(format!("export: receipt at seq {}: {e}", r.seq)))?;
    Ok((!extra.is_empty()).then_some(extra))
}

/// Writes a file through `write`: to a temporary file beside `path`, flushed and fsynced,
/// then renamed to `path`. On error the temporary file is removed and `path` is untouched.
pub fn write_atomically<T>(path: &Path, write: impl FnOnce(&mut File) -> Result<T>) -> Result<T> {
    let io = |what: &str, e: std::io::Error| {
        Error::store(format!("export to {}: {what}: {e}", path.display()))
            .with("path", path.display().to_string())
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::invalid_argument(format!("export: {} is not a file path", path.display()))
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}-{nanos}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io("cannot create a temporary file", e))?;
    let result = write(&mut file).and_then(|v| {
        file.sync_all().map_err(|e| io("cannot sync", e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| io("cannot rename the temporary file", e))?;
        #[cfg(unix)]
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(v)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

//! Helpers shared by the fuzz targets: splitting one input into several fields, so that seed
//! corpora stay plain text (`docs/fuzzing.md` describes each target's input format).

use std::ffi::CString;

/// The first `n - 1` fields of `data` separated by `\n`, then the rest (which may hold more
/// newlines); missing fields are empty.
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == b'\n').collect();
    out.resize(n, &[]);
    out
}

/// `bytes` as a C string the way C would see them: cut at the first NUL.
pub fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before `end`")
}

/// UTF-8 text of `bytes`, lossily (fuzz inputs are bytes; the parsers under test take text).
pub fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

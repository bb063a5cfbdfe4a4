//! The record line of the file store (see the [`crate::store`] documentation for the format).

use sha2::{Digest, Sha256};

/// `prev` of the first record: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const SEQ_PREFIX: &[u8] = b"{\"seq\":";
const PREV_PREFIX: &[u8] = b",\"prev\":\"";
const RECEIPT_PREFIX: &[u8] = b"\",\"receipt\":";

/// Hex SHA-256 of a record line's bytes (without its `\n`): the next record's `prev`.
pub fn line_digest(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

/// Writes one record line, `\n` included, to `out`.
pub fn write_line(out: &mut Vec<u8>, seq: u64, prev: &str, receipt_json: &str) {
    out.extend_from_slice(SEQ_PREFIX);
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(PREV_PREFIX);
    out.extend_from_slice(prev.as_bytes());
    out.extend_from_slice(RECEIPT_PREFIX);
    out.extend_from_slice(receipt_json.as_bytes());
    out.extend_from_slice(b"}\n");
}

/// The parts of a record line (without its `\n`), borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub seq: u64,
    pub prev: &'a str,
    pub receipt: &'a str,
}

/// Splits a record line written by [`write_line`]. The layout is exact (this library writes
/// nothing else), so a line edited by hand into another JSON layout is not a record. The
/// receipt text is checked to be UTF-8 and to look like a JSON object; its content is read by
/// [`crate::store::ReceiptView::parse`].
pub fn parse_line(line: &[u8]) -> std::result::Result<Parts<'_>, String> {
    let rest = line
        .strip_prefix(SEQ_PREFIX)
        .ok_or("the line does not start with {\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 || (digits > 1 && rest[0] == b'0') {
        return Err("seq is not a positive whole number".into());
    }
    let seq: u64 = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .ok_or("seq is not a positive whole number")?;
    let rest = rest[digits..]
        .strip_prefix(PREV_PREFIX)
        .ok_or("\"prev\" does not follow seq")?;
    if rest.len() < 64
        || !rest[..64]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err("prev is not 64 lower-case hex digits".into());
    }
    let prev = std::str::from_utf8(&rest[..64]).expect("hex is ASCII");
    let rest = rest[64..]
        .strip_prefix(RECEIPT_PREFIX)
        .ok_or("\"receipt\" does not follow prev")?;
    let receipt = rest
        .strip_suffix(b"}")
        .ok_or("the line does not end with }")?;
    if !(receipt.starts_with(b"{") && receipt.ends_with(b"}")) {
        return Err("the receipt is not a JSON object".into());
    }
    let receipt =
        std::str::from_utf8(receipt).map_err(|e| format!("the receipt is not UTF-8: {e}"))?;
    Ok(Parts { seq, prev, receipt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut out = Vec::new();
        write_line(&mut out, 12, GENESIS, r#"{"a":1}"#);
        assert_eq!(out.last(), Some(&b'\n'));
        let line = &out[..out.len() - 1];
        let parts = parse_line(line).unwrap();
        assert_eq!(parts.seq, 12);
        assert_eq!(parts.prev, GENESIS);
        assert_eq!(parts.receipt, r#"{"a":1}"#);
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["receipt"]["a"], 1);
    }

    #[test]
    fn rejects_other_layouts() {
        for bad in [
            &b""[..],
            b"{\"seq\":0,\"prev\":\"",
            b"{\"seq\":01,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"receipt\":{}}",
            b"{\"prev\":\"x\",\"seq\":1}",
            b"{\"seq\":1,\"prev\":\"000000000000000000000000000000000000000000000000000000000000000G\",\"receipt\":{}}",
            b"{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"receipt\":{}",
            b"{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"receipt\":[]}",
        ] {
            assert!(parse_line(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}

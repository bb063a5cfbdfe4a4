//! Canonical bytes of a JSON value.
//!
//! [`jcs`] writes RFC 8785 (JSON Canonicalization Scheme): object members sorted by their
//! keys' UTF-16 code units, no white space, strings with the minimal escapes of ECMAScript's
//! `JSON.stringify`, numbers as ECMAScript's `Number.prototype.toString` prints the double.
//!
//! [`python_legacy`] writes the bytes the reference Python signer signed:
//! `json.dumps(obj, sort_keys=True, separators=(",", ":"))`, that is keys sorted by code
//! point, every non-ASCII character escaped as `\uXXXX`, and floats as Python's `repr`.
//! It exists only so receipts signed by that signer still verify.

use serde_json::{Number, Value};

use crate::error::{Error, Result};
use crate::receipt::json::MAX_SAFE_INTEGER;

/// The member left out of an object before it is canonicalized for signing.
pub const SIGNATURE_FIELD: &str = "signature";

/// Which object member, if any, to leave out at the top level.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Omit {
    Nothing,
    Signature,
}

/// RFC 8785 canonical bytes of `value`.
pub fn jcs(value: &Value, omit: Omit) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    write_value::<Jcs>(value, omit, &mut out)?;
    Ok(out)
}

/// The bytes the reference Python signer signed for `value`.
pub fn python_legacy(value: &Value, omit: Omit) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    write_value::<PythonLegacy>(value, omit, &mut out)?;
    Ok(out)
}

/// What differs between the two canonical forms.
trait Style {
    fn sort_keys(entries: &mut [(&String, &Value)]);
    fn write_float(f: f64, out: &mut Vec<u8>);
    fn write_string(s: &str, out: &mut Vec<u8>);
}

fn write_value<S: Style>(value: &Value, omit: Omit, out: &mut Vec<u8>) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number::<S>(n, out)?,
        Value::String(s) => S::write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value::<S>(item, Omit::Nothing, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(k, _)| omit == Omit::Nothing || k.as_str() != SIGNATURE_FIELD)
                .collect();
            S::sort_keys(&mut entries);
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                S::write_string(k, out);
                out.push(b':');
                write_value::<S>(v, Omit::Nothing, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number<S: Style>(n: &Number, out: &mut Vec<u8>) -> Result<()> {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(Error::invalid_json(format!(
                "integer {i} is beyond ±(2^53−1) and cannot be canonicalized exactly"
            )));
        }
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64() {
        if u > MAX_SAFE_INTEGER {
            return Err(Error::invalid_json(format!(
                "integer {u} is beyond 2^53−1 and cannot be canonicalized exactly"
            )));
        }
        out.extend_from_slice(u.to_string().as_bytes());
    } else {
        let f = n
            .as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| Error::invalid_json("NaN and Infinity cannot be canonicalized"))?;
        S::write_float(f, out);
    }
    Ok(())
}

/// Orders two keys by their UTF-16 code units, as RFC 8785 requires. Byte order gives the same
/// answer unless both keys hold characters at or above U+E000 (where UTF-8 and UTF-16 orders
/// part), so ASCII keys, the common case, are compared as bytes.
fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() || b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// A member value of an object written by [`jcs_members`]: the typed receipt's fields,
/// written without building a [`Value`] first.
#[derive(Debug, Clone, Copy)]
pub enum Member<'a> {
    Str(&'a str),
    Int(u64),
    Float(f64),
    Json(&'a Value),
}

/// RFC 8785 bytes of an object given as members (sorted here; keys must be distinct).
pub fn jcs_members(members: &mut [(&str, Member<'_>)]) -> Result<Vec<u8>> {
    members.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
    let mut out = Vec::with_capacity(512);
    out.push(b'{');
    for (i, (key, member)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        Jcs::write_string(key, &mut out);
        out.push(b':');
        match *member {
            Member::Str(s) => Jcs::write_string(s, &mut out),
            Member::Int(n) => write_number::<Jcs>(&Number::from(n), &mut out)?,
            Member::Float(f) => match Number::from_f64(f) {
                Some(n) => write_number::<Jcs>(&n, &mut out)?,
                None => {
                    return Err(Error::invalid_json(
                        "NaN and Infinity cannot be canonicalized",
                    ));
                }
            },
            Member::Json(v) => write_value::<Jcs>(v, Omit::Nothing, &mut out)?,
        }
    }
    out.push(b'}');
    Ok(out)
}

struct Jcs;

impl Style for Jcs {
    fn sort_keys(entries: &mut [(&String, &Value)]) {
        entries.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
    }

    fn write_float(f: f64, out: &mut Vec<u8>) {
        let mut buf = ryu_js::Buffer::new();
        out.extend_from_slice(buf.format_finite(f).as_bytes());
    }

    fn write_string(s: &str, out: &mut Vec<u8>) {
        out.push(b'"');
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => b"",
                _ => continue,
            };
            out.extend_from_slice(&s.as_bytes()[start..i]);
            if escape.is_empty() {
                push_u_escape(b as u16, out);
            } else {
                out.extend_from_slice(escape);
            }
            start = i + 1;
        }
        out.extend_from_slice(&s.as_bytes()[start..]);
        out.push(b'"');
    }
}

struct PythonLegacy;

impl Style for PythonLegacy {
    fn sort_keys(entries: &mut [(&String, &Value)]) {
        // UTF-8 byte order is code point order, which is how Python sorts str keys.
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }

    fn write_float(f: f64, out: &mut Vec<u8>) {
        out.extend_from_slice(python_float_repr(f).as_bytes());
    }

    fn write_string(s: &str, out: &mut Vec<u8>) {
        out.push(b'"');
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                ' '..='~' => out.push(c as u8),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        push_u_escape(*unit, out);
                    }
                }
            }
        }
        out.push(b'"');
    }
}

fn push_u_escape(unit: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
}

/// Python's `repr(float)`: the shortest round-trip digits, in fixed notation when the
/// decimal exponent is in -4..=15 (with `.0` added to whole numbers), else `d.ddde±XX`.
pub fn python_float_repr(f: f64) -> String {
    // Rust's `{:e}` gives the same shortest round-trip digits: "2.25e-5", "-1e16".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!(
                "{sign}{digits}{}.0",
                "0".repeat(point as usize - digits.len())
            )
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{sign}{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

//! The receipt core: model, RFC 8785 canonical bytes, SHA-256 digest, Ed25519 keys,
//! signatures and verification. Pure: no I/O, no runtime.
//!
//! Receipts travel as JSON text. [`to_json`] writes a receipt in its canonical form (RFC 8785,
//! `signature` included), so what is stored is byte for byte what was signed plus the
//! signature.

pub mod api;
pub mod canonical;
pub mod json;
pub mod keys;
pub mod model;
pub mod sign;

pub use model::{Receipt, ReceiptInput, generate};
pub use sign::{SignedForm, Verification};

use serde_json::Value;

use crate::error::Result;
use canonical::Omit;

/// Canonical JSON text of a value, all members included.
pub fn to_json(value: &Value) -> Result<String> {
    let bytes = canonical::jcs(value, Omit::Nothing)?;
    Ok(String::from_utf8(bytes).expect("canonical JSON is UTF-8"))
}

/// Canonical JSON text of a value, leaving out a top-level `signature` (what is signed).
pub fn canonical_json(value: &Value) -> Result<String> {
    let bytes = canonical::jcs(value, Omit::Signature)?;
    Ok(String::from_utf8(bytes).expect("canonical JSON is UTF-8"))
}

impl Receipt {
    /// Signs the receipt with `key`, replacing any signature.
    pub fn sign(&mut self, key: &keys::SigningKey) -> Result<()> {
        self.signature = None;
        let mut value = self.to_value()?;
        sign::sign(&mut value, key)?;
        self.signature = value
            .get(canonical::SIGNATURE_FIELD)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(())
    }

    /// The receipt as canonical JSON text, signature included.
    pub fn to_json(&self) -> Result<String> {
        to_json(&self.to_value()?)
    }

    /// Hex SHA-256 of the canonical bytes without the signature.
    pub fn digest(&self) -> Result<String> {
        sign::digest_hex(&self.to_value()?)
    }
}

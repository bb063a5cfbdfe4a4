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

use crate::cost;
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

/// A receipt ready to store: its canonical JSON (signature included) and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub json: String,
    /// Hex SHA-256 of the canonical bytes without the signature.
    pub digest: String,
}

impl Receipt {
    /// Signs the receipt (when a key is given, replacing any signature) and returns its
    /// canonical JSON and digest. Written straight from the typed fields (no intermediate
    /// JSON value); the result is byte for byte what [`to_json`] makes of [`Receipt::to_value`].
    pub fn issue(&mut self, key: Option<&keys::SigningKey>) -> Result<Issued> {
        if key.is_some() {
            self.signature = None;
        }
        let costs = [
            cost::json::decimal_to_f64(self.input_cost, "input_cost")?,
            cost::json::decimal_to_f64(self.output_cost, "output_cost")?,
            cost::json::decimal_to_f64(self.total_cost, "total_cost")?,
        ];
        let signature;
        let mut members = self.members(costs);
        let signed_bytes = canonical::jcs_members(&mut members)?;
        let digest = sign::digest_of(&signed_bytes);
        let json = match key {
            Some(key) => {
                signature = sign::signature_text(key, &signed_bytes);
                members.push((
                    canonical::SIGNATURE_FIELD,
                    canonical::Member::Str(&signature),
                ));
                let full = canonical::jcs_members(&mut members)?;
                self.signature = Some(signature.clone());
                full
            }
            None => match &self.signature {
                Some(existing) => {
                    members.push((canonical::SIGNATURE_FIELD, canonical::Member::Str(existing)));
                    canonical::jcs_members(&mut members)?
                }
                None => signed_bytes,
            },
        };
        Ok(Issued {
            json: String::from_utf8(json).expect("canonical JSON is UTF-8"),
            digest,
        })
    }

    /// Every member but the signature, for [`canonical::jcs_members`].
    fn members(&self, costs: [f64; 3]) -> Vec<(&str, canonical::Member<'_>)> {
        use canonical::Member::{Float, Int, Json, Str};
        let mut members = vec![
            ("receipt_id", Str(&self.receipt_id)),
            ("timestamp", Str(&self.timestamp)),
            ("alias", Str(&self.alias)),
            ("profile", Str(&self.profile)),
            ("lock_digest", Str(&self.lock_digest)),
            ("provider", Str(&self.provider)),
            ("model", Str(&self.model)),
            ("prompt_tokens", Int(self.prompt_tokens)),
            ("completion_tokens", Int(self.completion_tokens)),
            ("total_tokens", Int(self.total_tokens)),
            ("input_cost", Float(costs[0])),
            ("output_cost", Float(costs[1])),
            ("total_cost", Float(costs[2])),
        ];
        members.extend(self.extra.iter().map(|(k, v)| (k.as_str(), Json(v))));
        members
    }

    /// Signs the receipt with `key`, replacing any signature.
    pub fn sign(&mut self, key: &keys::SigningKey) -> Result<()> {
        self.issue(Some(key)).map(|_| ())
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

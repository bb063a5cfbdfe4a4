//! Digest, signature and verification of receipts given as JSON values.
//!
//! The signed bytes are the RFC 8785 form of the receipt object without `signature`. The
//! signature is written `ed25519:<base64url without padding>`. Verification works on the JSON
//! as given, so receipts issued by other implementations verify, and it also accepts the
//! reference Python signer's bytes ([`canonical::python_legacy`]) and its plain standard
//! base64 signatures.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::receipt::canonical::{self, Omit, SIGNATURE_FIELD};

/// The prefix of signatures this library writes.
pub const SIGNATURE_PREFIX: &str = "ed25519:";

/// Which signed bytes a valid signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedForm {
    /// RFC 8785 canonical JSON (what this library signs).
    Jcs,
    /// The reference Python signer's `json.dumps(sort_keys=True, separators=(",", ":"))`.
    PythonLegacy,
}

/// The outcome of checking a receipt's signature. An invalid signature is a result, not an
/// error: `valid` is false and `reason` says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub valid: bool,
    pub form: Option<SignedForm>,
    pub reason: Option<String>,
}

impl Verification {
    fn invalid(reason: impl Into<String>) -> Self {
        Verification {
            valid: false,
            form: None,
            reason: Some(reason.into()),
        }
    }
}

fn object(value: &Value) -> Result<&serde_json::Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::invalid_argument("a receipt must be a JSON object"))
}

/// Hex SHA-256 of the canonical bytes of `value` (its `signature` member left out).
pub fn digest_hex(value: &Value) -> Result<String> {
    Ok(digest_of(&canonical::jcs(value, Omit::Signature)?))
}

/// Hex SHA-256 of canonical bytes.
pub fn digest_of(canonical_bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical_bytes))
}

/// The `signature` text for canonical bytes: `ed25519:<base64url without padding>`.
pub fn signature_text(key: &SigningKey, canonical_bytes: &[u8]) -> String {
    let signature = key.sign(canonical_bytes);
    format!(
        "{SIGNATURE_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// Signs the receipt object in place: sets `signature` over its other members.
pub fn sign(value: &mut Value, key: &SigningKey) -> Result<()> {
    object(value)?;
    let text = signature_text(key, &canonical::jcs(value, Omit::Signature)?);
    if let Value::Object(map) = value {
        map.insert(SIGNATURE_FIELD.to_owned(), Value::String(text));
    }
    Ok(())
}

/// Checks the receipt object's `signature` against `key`.
pub fn verify(value: &Value, key: &VerifyingKey) -> Result<Verification> {
    let map = object(value)?;
    let text = match map.get(SIGNATURE_FIELD) {
        None | Some(Value::Null) => return Ok(Verification::invalid("the receipt is not signed")),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Ok(Verification::invalid("the signature is not a string")),
    };
    let Some(signature) = decode_signature(text) else {
        return Ok(Verification::invalid(
            "the signature is not 64 bytes of base64url or base64",
        ));
    };
    let jcs = canonical::jcs(value, Omit::Signature)?;
    if key.verify_strict(&jcs, &signature).is_ok() {
        return Ok(Verification {
            valid: true,
            form: Some(SignedForm::Jcs),
            reason: None,
        });
    }
    let legacy = canonical::python_legacy(value, Omit::Signature)?;
    if legacy != jcs && key.verify_strict(&legacy, &signature).is_ok() {
        return Ok(Verification {
            valid: true,
            form: Some(SignedForm::PythonLegacy),
            reason: None,
        });
    }
    Ok(Verification::invalid(
        "the signature does not match the receipt and key",
    ))
}

/// Decodes `ed25519:<base64url>` or plain standard base64 (padded or not).
pub(crate) fn decode_signature(text: &str) -> Option<Signature> {
    let bytes = match text.strip_prefix(SIGNATURE_PREFIX) {
        Some(rest) => URL_SAFE_NO_PAD
            .decode(rest)
            .or_else(|_| URL_SAFE.decode(rest))
            .ok()?,
        None => STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?,
    };
    Signature::from_slice(&bytes).ok()
}

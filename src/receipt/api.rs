//! Text in, text out: the receipt operations as the C ABI and the CLI offer them, so that
//! both produce byte-identical results through one code path.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::receipt::keys::{SigningKey, VerifyingKey};
use crate::receipt::{Verification, json, model, sign, to_json};

/// Builds a receipt from [`model::ReceiptInput`] JSON, signs it when a key is given, and
/// returns its canonical JSON.
pub fn generate(input_json: &str, key: Option<&SigningKey>) -> Result<String> {
    let input = model::ReceiptInput::from_value(json::parse_strict(input_json)?)?;
    Ok(model::generate(input)?.issue(key)?.json)
}

/// Signs a receipt given as JSON (any `signature` is replaced) and returns it as canonical
/// JSON, signature included.
pub fn sign(receipt_json: &str, key: &SigningKey) -> Result<String> {
    let mut value = parse_object(receipt_json)?;
    sign::sign(&mut value, key)?;
    to_json(&value)
}

/// Verifies a receipt given as JSON.
pub fn verify(receipt_json: &str, key: &VerifyingKey) -> Result<Verification> {
    sign::verify(&parse_object(receipt_json)?, key)
}

/// The RFC 8785 form of any JSON value; for an object, its `signature` member left out.
pub fn canonical(json_text: &str) -> Result<String> {
    crate::receipt::canonical_json(&json::parse_strict(json_text)?)
}

/// Hex SHA-256 of [`canonical`]'s bytes.
pub fn digest(json_text: &str) -> Result<String> {
    sign::digest_hex(&json::parse_strict(json_text)?)
}

fn parse_object(text: &str) -> Result<Value> {
    let value = json::parse_strict(text)?;
    if !value.is_object() {
        return Err(Error::invalid_argument("a receipt must be a JSON object"));
    }
    Ok(value)
}

//! The server's public keys (`GET /api/v1/receipts/public-keys.json`), cached beside the
//! store, and the verification of the server receipts stored there.

use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::receipt::keys::{self, VerifyingKey};
use crate::receipt::sign;
use crate::store::file::io_error;

/// The server's keys: `(key_id, key)`, and the id of the key it signs with now.
#[derive(Debug, Clone, Default)]
pub struct ServerKeys {
    pub keys: Vec<(String, VerifyingKey)>,
    pub current_key_id: Option<String>,
}

impl ServerKeys {
    /// Reads `{"keys": [{"key_id", "public_key" (base64url), "algorithm": "ed25519"}],
    /// "current_key_id"}`. Keys of another algorithm are skipped; a malformed Ed25519 key is
    /// an error (`LLMRING_KEY`).
    pub fn from_json(value: &Value) -> Result<ServerKeys> {
        let list = value["keys"].as_array().ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Server,
                "public-keys.json has no \"keys\" list",
            )
        })?;
        let mut out = ServerKeys {
            keys: Vec::new(),
            current_key_id: value["current_key_id"].as_str().map(str::to_owned),
        };
        for entry in list {
            let algorithm = entry["algorithm"].as_str().unwrap_or("ed25519");
            if !algorithm.eq_ignore_ascii_case("ed25519") {
                continue;
            }
            let id = entry["key_id"].as_str().unwrap_or_default().to_owned();
            let text = entry["public_key"]
                .as_str()
                .ok_or_else(|| Error::key(format!("server key {id:?} has no public_key text")))?;
            out.keys.push((id, keys::parse_public(text)?));
        }
        Ok(out)
    }

    /// Checks a server receipt: with the key its `key_id` names when there is one, else
    /// with each key.
    pub fn verify(&self, receipt: &Value) -> Result<sign::Verification> {
        let named = receipt["key_id"].as_str();
        let candidates: Vec<&VerifyingKey> = self
            .keys
            .iter()
            .filter(|(id, _)| named.is_none_or(|n| n == id))
            .map(|(_, k)| k)
            .collect();
        let mut last = None;
        for key in candidates {
            let v = sign::verify(receipt, key)?;
            if v.valid {
                return Ok(v);
            }
            last = Some(v);
        }
        Ok(last.unwrap_or(sign::Verification {
            valid: false,
            form: None,
            reason: Some(match named {
                Some(n) => format!("the server published no key {n:?}"),
                None => "the server published no key".to_owned(),
            }),
        }))
    }
}

/// Where fetched keys are kept: a file beside the store, or memory.
#[derive(Debug)]
pub enum KeyCache {
    File(PathBuf),
    Memory(Mutex<Option<Value>>),
}

impl KeyCache {
    pub fn load(&self) -> Result<Option<Value>> {
        match self {
            KeyCache::Memory(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).clone()),
            KeyCache::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| Error::store(format!("{}: not JSON: {e}", path.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_error(path, "cannot read", e)),
            },
        }
    }

    /// Saves the keys (written aside, then renamed).
    pub fn save(&self, value: &Value) -> Result<()> {
        match self {
            KeyCache::Memory(m) => {
                *m.lock().unwrap_or_else(|p| p.into_inner()) = Some(value.clone());
                Ok(())
            }
            KeyCache::File(path) => {
                let tmp = super::outbox::beside(path, ".tmp");
                std::fs::write(&tmp, value.to_string())
                    .and_then(|_| std::fs::rename(&tmp, path))
                    .map_err(|e| io_error(path, "cannot write", e))
            }
        }
    }
}

/// Verifies stored server receipts (`{"local_receipt_id", "receipt"}` lines) with `keys`
/// (`None`: no keys known, every receipt unchecked). The report: `server_receipts`, `valid`,
/// `invalid`, `unchecked`, and `problems` (`local_receipt_id`, `receipt_id`, `reason`).
pub fn verify_all(lines: &[Value], keys: Option<&ServerKeys>) -> Result<Value> {
    let (mut valid, mut invalid, mut unchecked) = (0u64, 0u64, 0u64);
    let mut problems = Vec::new();
    for line in lines {
        let receipt = &line["receipt"];
        let Some(keys) = keys else {
            unchecked += 1;
            continue;
        };
        let v = if receipt.is_object() {
            keys.verify(receipt)?
        } else {
            sign::Verification {
                valid: false,
                form: None,
                reason: Some("not a JSON object".into()),
            }
        };
        if v.valid {
            valid += 1;
        } else {
            invalid += 1;
            problems.push(json!({
                "local_receipt_id": line["local_receipt_id"],
                "receipt_id": receipt.get("receipt_id").or_else(|| receipt.get("id")),
                "reason": v.reason,
            }));
        }
    }
    Ok(json!({
        "server_receipts": lines.len(),
        "valid": valid,
        "invalid": invalid,
        "unchecked": unchecked,
        "problems": problems,
    }))
}

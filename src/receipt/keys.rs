//! Ed25519 keys: generation, parsing and encoding. Pure: files are read and written by
//! [`crate::keyfile`].
//!
//! Accepted text forms, for private and public keys alike: the raw 32 bytes as base64url
//! (with or without padding), standard base64, or hex; or PEM (PKCS#8 `PRIVATE KEY` for a
//! private key, SPKI `PUBLIC KEY` for a public key). Leading and trailing white space is
//! ignored. Private key material lives in [`SigningKey`] (zeroized on drop) and in
//! [`Zeroizing`] buffers.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// How a key is written as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyFormat {
    /// Raw 32 bytes, base64url without padding (the default).
    #[default]
    Base64Url,
    /// Raw 32 bytes, standard base64 with padding.
    Base64,
    /// Raw 32 bytes, lower-case hex.
    Hex,
    /// PEM: PKCS#8 for private keys, SPKI for public keys.
    Pem,
}

impl KeyFormat {
    /// Parses a format name: `base64url`, `base64`, `hex` or `pem`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "base64url" => Ok(KeyFormat::Base64Url),
            "base64" => Ok(KeyFormat::Base64),
            "hex" => Ok(KeyFormat::Hex),
            "pem" => Ok(KeyFormat::Pem),
            other => Err(Error::invalid_argument(format!(
                "unknown key format {other:?} (expected base64url, base64, hex or pem)"
            ))),
        }
    }
}

/// A new private key from the operating system's random number generator.
pub fn generate() -> Result<SigningKey> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut())
        .map_err(|e| Error::key(format!("no randomness from the operating system: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Parses a private key in any accepted form.
pub fn parse_private(text: &str) -> Result<SigningKey> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return SigningKey::from_pkcs8_pem(text)
            .map_err(|e| Error::key(format!("not a PKCS#8 Ed25519 private key PEM: {e}")));
    }
    let raw = Zeroizing::new(decode_raw(text, "private")?);
    let seed: &[u8; 32] = raw
        .as_slice()
        .try_into()
        .expect("decode_raw checks the length");
    Ok(SigningKey::from_bytes(seed))
}

/// Parses a public key in any accepted form.
pub fn parse_public(text: &str) -> Result<VerifyingKey> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text)
            .map_err(|e| Error::key(format!("not an SPKI Ed25519 public key PEM: {e}")));
    }
    let raw = decode_raw(text, "public")?;
    let bytes: [u8; 32] = raw
        .as_slice()
        .try_into()
        .expect("decode_raw checks the length");
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::key("public key is not a valid Ed25519 point"))
}

/// Decodes 32 raw key bytes written as hex, base64url or base64.
fn decode_raw(text: &str, which: &str) -> Result<Vec<u8>> {
    if text.is_empty() {
        return Err(Error::key(format!("{which} key is empty")));
    }
    let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
    };
    match decoded {
        Some(bytes) if bytes.len() == 32 => Ok(bytes),
        Some(bytes) => {
            let n = bytes.len();
            drop(Zeroizing::new(bytes));
            Err(Error::key(format!(
                "{which} key decodes to {n} bytes; an Ed25519 key has 32"
            )))
        }
        None => Err(Error::key(format!(
            "{which} key is neither PEM nor 32 bytes in base64url, base64 or hex"
        ))),
    }
}

/// Writes a private key as text. The result is zeroized when dropped.
pub fn encode_private(key: &SigningKey, format: KeyFormat) -> Result<Zeroizing<String>> {
    let seed = Zeroizing::new(key.to_bytes());
    Ok(match format {
        KeyFormat::Pem => key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("PKCS#8 encoding failed: {e}")))?,
        other => Zeroizing::new(encode_raw(seed.as_ref(), other)),
    })
}

/// Writes a public key as text.
pub fn encode_public(key: &VerifyingKey, format: KeyFormat) -> Result<String> {
    match format {
        KeyFormat::Pem => key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("SPKI encoding failed: {e}"))),
        other => Ok(encode_raw(key.as_bytes(), other)),
    }
}

fn encode_raw(bytes: &[u8], format: KeyFormat) -> String {
    match format {
        KeyFormat::Base64Url => URL_SAFE_NO_PAD.encode(bytes),
        KeyFormat::Base64 => STANDARD.encode(bytes),
        KeyFormat::Hex => hex::encode(bytes),
        KeyFormat::Pem => unreachable!("PEM is handled by the callers"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips() {
        let key = generate().unwrap();
        for format in [
            KeyFormat::Base64Url,
            KeyFormat::Base64,
            KeyFormat::Hex,
            KeyFormat::Pem,
        ] {
            let private = encode_private(&key, format).unwrap();
            assert_eq!(
                parse_private(&private).unwrap().to_bytes(),
                key.to_bytes(),
                "{format:?}"
            );
            let public = encode_public(&key.verifying_key(), format).unwrap();
            assert_eq!(
                parse_public(&public).unwrap(),
                key.verifying_key(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn pem_has_the_right_labels() {
        let key = generate().unwrap();
        assert!(
            encode_private(&key, KeyFormat::Pem)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let public = encode_public(&key.verifying_key(), KeyFormat::Pem).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        // A public key PEM is not a private key.
        assert!(parse_private(&public).is_err());
    }

    #[test]
    fn malformed_keys_are_errors() {
        for bad in ["", "not a key", "AAAA", &"ab".repeat(31), &"zz".repeat(32)] {
            let err = parse_public(bad).unwrap_err();
            assert_eq!(err.kind, crate::error::ErrorKind::Key, "{bad:?}");
        }
        assert!(KeyFormat::parse("der").is_err());
    }
}

//! Receipt verification with arbitrary JSON and keys. Input: a key (any form: base64url,
//! base64, hex, PEM; line 1) and receipt JSON (the rest). Nothing panics; whatever a key signs
//! verifies with its public key; a receipt input that generates a receipt gives one that
//! verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::receipt::api;
use llmring::receipt::keys::{self, SigningKey};
use llmring_fuzz::{fields, text};

/// RFC 8032 section 7.1, test 1.
const FIXED_KEY: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

fn check_signing(receipt: &str, key: &SigningKey) {
    let public = key.verifying_key();
    if let Ok(signed) = api::sign(receipt, key) {
        let v = api::verify(&signed, &public).expect("verifying a receipt we signed");
        assert!(v.valid, "a signed receipt does not verify: {v:?}\n{signed}");
    }
    if let Ok(issued) = api::generate(receipt, Some(key)) {
        let v = api::verify(&issued, &public).expect("verifying a generated receipt");
        assert!(
            v.valid,
            "a generated receipt does not verify: {v:?}\n{issued}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let parts = fields(data, 2);
    let key_text = text(parts[0]);
    let receipt = text(parts[1]);
    let fixed = SigningKey::from_bytes(&FIXED_KEY);

    let _ = api::verify(&receipt, &fixed.verifying_key());
    let _ = api::generate(&receipt, None);
    if let Ok(public) = keys::parse_public(&key_text) {
        let _ = api::verify(&receipt, &public);
    }
    match keys::parse_private(&key_text) {
        Ok(private) => check_signing(&receipt, &private),
        Err(_) => check_signing(&receipt, &fixed),
    }
});

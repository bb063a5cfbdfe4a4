//! Signing and verification: RFC 8032 vectors, receipts end to end, tampering, the reference
//! Python signer's receipts.

use ed25519_dalek::{Signer, SigningKey};
use llmring::ErrorKind;
use llmring::receipt::keys::{self, KeyFormat};
use llmring::receipt::{api, json::parse_strict};
use serde_json::{Value, json};

/// RFC 8032 section 7.1, tests 1 to 3: (secret key, public key, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_vectors_sign_and_verify_exactly() {
    for (secret, public, message, signature) in RFC8032 {
        // Keys go through our parser (hex form), so the vectors also test key loading.
        let key = keys::parse_private(secret).unwrap();
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), public);
        assert_eq!(keys::parse_public(public).unwrap(), key.verifying_key());
        let message = hex::decode(message).unwrap();
        let sig = key.sign(&message);
        assert_eq!(hex::encode(sig.to_bytes()), signature);
        assert!(key.verifying_key().verify_strict(&message, &sig).is_ok());
    }
}

fn vector_key() -> SigningKey {
    keys::parse_private(RFC8032[0].0).unwrap()
}

fn public_of(key: &SigningKey) -> keys::VerifyingKey {
    key.verifying_key()
}

fn input() -> String {
    json!({
        "alias": "fast", "profile": "default",
        "lock_digest": format!("sha256:{}", "ab".repeat(32)),
        "provider": "openai", "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 150, "completion_tokens": 300},
        "costs": {"input_cost": 0.0000225, "output_cost": "0.00018"}
    })
    .to_string()
}

fn signed_receipt() -> Value {
    let text = api::generate(&input(), Some(&vector_key())).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn is_valid(receipt: &Value) -> bool {
    api::verify(&receipt.to_string(), &public_of(&vector_key()))
        .unwrap()
        .valid
}

#[test]
fn generated_receipt_has_every_field_and_verifies() {
    let receipt = signed_receipt();
    for field in llmring::receipt::model::FIELDS {
        assert!(receipt.get(field).is_some(), "missing {field}");
    }
    assert_eq!(receipt["total_tokens"], 450);
    assert_eq!(receipt["total_cost"].to_string(), "0.0002025");
    assert!(uuid::Uuid::parse_str(receipt["receipt_id"].as_str().unwrap()).is_ok());
    let ts = receipt["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z'), "{ts}");
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
    let sig = receipt["signature"].as_str().unwrap();
    assert!(sig.starts_with("ed25519:") && !sig.ends_with('='), "{sig}");
    assert!(is_valid(&receipt));
}

#[test]
fn receipt_text_is_canonical_and_costs_print_exactly() {
    let text = api::generate(&input(), None).unwrap();
    assert!(text.contains("\"input_cost\":0.0000225,"), "{text}");
    assert!(text.contains("\"total_cost\":0.0002025,"), "{text}");
    assert!(!text.contains("signature"));
    // The text is its own canonical form.
    assert_eq!(
        llmring::receipt::to_json(&parse_strict(&text).unwrap()).unwrap(),
        text
    );
}

#[test]
fn inconsistent_totals_are_refused() {
    let mut bad: Value = serde_json::from_str(&input()).unwrap();
    bad["usage"]["total_tokens"] = json!(451);
    assert_eq!(
        api::generate(&bad.to_string(), None).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    let mut bad: Value = serde_json::from_str(&input()).unwrap();
    bad["costs"]["total_cost"] = json!(0.0002026);
    assert_eq!(
        api::generate(&bad.to_string(), None).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    let mut bad: Value = serde_json::from_str(&input()).unwrap();
    bad["surprise"] = json!(1);
    assert!(
        api::generate(&bad.to_string(), None)
            .unwrap_err()
            .message
            .contains("surprise")
    );
}

#[test]
fn any_change_invalidates() {
    let original = signed_receipt();
    let mut cases: Vec<(String, Value)> = Vec::new();
    for (field, value) in original.as_object().unwrap() {
        if field == "signature" {
            continue;
        }
        let mut changed = original.clone();
        changed[field] = match value {
            Value::String(s) => json!(format!("{s}x")),
            Value::Number(n) => json!(n.as_f64().unwrap() + 1.0),
            other => panic!("unexpected {other}"),
        };
        cases.push((format!("changed {field}"), changed));
        let mut removed = original.clone();
        removed.as_object_mut().unwrap().remove(field);
        cases.push((format!("removed {field}"), removed));
    }
    let mut added = original.clone();
    added["cached_tokens"] = json!(0);
    cases.push(("added field".into(), added));

    let sig = original["signature"].as_str().unwrap();
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        sig.trim_start_matches("ed25519:"),
    )
    .unwrap();
    for byte in [0, 31, 63] {
        let mut flipped = raw.clone();
        flipped[byte] ^= 0x01;
        let mut receipt = original.clone();
        receipt["signature"] = json!(format!(
            "ed25519:{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &flipped)
        ));
        cases.push((format!("flipped signature byte {byte}"), receipt));
    }
    let mut truncated = original.clone();
    truncated["signature"] = json!(&sig[..sig.len() - 4]);
    cases.push(("truncated signature".into(), truncated));
    let mut other_key = original.clone();
    other_key.as_object_mut().unwrap().remove("signature");
    let other = api::sign(&other_key.to_string(), &keys::generate().unwrap()).unwrap();
    cases.push((
        "signed by another key".into(),
        serde_json::from_str(&other).unwrap(),
    ));
    let mut unsigned = original.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    cases.push(("unsigned".into(), unsigned));
    let mut garbage = original.clone();
    garbage["signature"] = json!("ed25519:!!!");
    cases.push(("garbage signature".into(), garbage));

    assert!(cases.len() > 30);
    for (what, receipt) in cases {
        assert!(!is_valid(&receipt), "{what} still verifies");
    }
}

#[test]
fn reordered_keys_and_whitespace_still_verify() {
    let receipt = signed_receipt();
    let obj = receipt.as_object().unwrap();
    let mut reversed = String::from("{\n");
    let members: Vec<String> = obj
        .iter()
        .rev()
        .map(|(k, v)| format!("  {:?}  :  {}", k, serde_json::to_string_pretty(v).unwrap()))
        .collect();
    reversed.push_str(&members.join(" ,\n\t"));
    reversed.push_str("\n}\n");
    let key = public_of(&vector_key());
    assert!(api::verify(&reversed, &key).unwrap().valid, "{reversed}");
    // The same receipt with its costs written differently (same doubles) also verifies.
    let respelled = receipt.to_string().replace("0.0000225", "2.25e-5");
    assert_ne!(respelled, receipt.to_string());
    assert!(api::verify(&respelled, &key).unwrap().valid);
}

#[test]
fn plain_base64_signature_is_accepted() {
    let receipt = signed_receipt();
    let sig = receipt["signature"]
        .as_str()
        .unwrap()
        .trim_start_matches("ed25519:");
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    let mut plain = receipt.clone();
    plain["signature"] = json!(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        raw
    ));
    assert!(is_valid(&plain));
}

#[test]
fn receipts_from_the_reference_python_signer_verify() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/python_signer/receipts.json")).unwrap();
    let key = public_of(&vector_key());
    for case in fixture["receipts"].as_array().unwrap() {
        let receipt = &case["receipt"];
        let verification = api::verify(&receipt.to_string(), &key).unwrap();
        assert!(verification.valid, "{receipt}");
        assert_eq!(
            verification.form,
            Some(llmring::receipt::SignedForm::PythonLegacy)
        );
        // And tampering is caught in that form too.
        let mut changed = receipt.clone();
        changed["prompt_tokens"] = json!(2);
        assert!(!api::verify(&changed.to_string(), &key).unwrap().valid);
    }
}

#[test]
fn malformed_input_is_an_error_not_a_result() {
    let key = public_of(&vector_key());
    assert_eq!(
        api::verify("{not json", &key).unwrap_err().kind,
        ErrorKind::InvalidJson
    );
    assert_eq!(
        api::verify(r#"{"a":1,"a":2,"signature":"x"}"#, &key)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidJson
    );
    assert_eq!(
        api::verify("[1,2]", &key).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(keys::parse_public("abc").unwrap_err().kind, ErrorKind::Key);
}

#[test]
fn keys_in_every_format_sign_the_same() {
    let key = vector_key();
    let text = api::generate(&input(), None).unwrap();
    let expected = api::sign(&text, &key).unwrap();
    for format in [
        KeyFormat::Base64Url,
        KeyFormat::Base64,
        KeyFormat::Hex,
        KeyFormat::Pem,
    ] {
        let encoded = keys::encode_private(&key, format).unwrap();
        let reloaded = keys::parse_private(&encoded).unwrap();
        assert_eq!(api::sign(&text, &reloaded).unwrap(), expected, "{format:?}");
    }
}

#[test]
fn issuing_writes_the_same_bytes_as_the_generic_path() {
    let key = vector_key();
    let mut input: Value = serde_json::from_str(&input()).unwrap();
    input["extra"] = json!({"cached_tokens": 5, "\u{fb33}": [1.5, {"b": null, "a": "\u{1f600}"}], "\u{1f600}": 0.1});
    let mut receipt =
        llmring::receipt::generate(llmring::receipt::ReceiptInput::from_value(input).unwrap())
            .unwrap();
    let unsigned = receipt.clone().issue(None).unwrap();
    assert_eq!(
        unsigned.json,
        llmring::receipt::to_json(&receipt.to_value().unwrap()).unwrap()
    );
    assert_eq!(unsigned.digest, receipt.digest().unwrap());
    let signed = receipt.issue(Some(&key)).unwrap();
    assert_eq!(signed.json, receipt.to_json().unwrap());
    assert_eq!(signed.digest, unsigned.digest);
    let emoji = signed.json.find("\u{1f600}\":").unwrap();
    let dalet = signed.json.find("\u{fb33}\":").unwrap();
    assert!(emoji < dalet, "UTF-16 order: {}", signed.json);
    assert!(is_valid(&serde_json::from_str(&signed.json).unwrap()));
}

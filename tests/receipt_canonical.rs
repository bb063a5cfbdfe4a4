//! RFC 8785 canonicalization: the RFC's own examples, key ordering, strings, and the inputs
//! that must be refused. Also the reference Python signer's byte form.

use llmring::receipt::canonical::{self, Omit, python_float_repr};
use llmring::receipt::json::parse_strict;
use serde_json::{Value, json};

fn jcs_text(text: &str) -> String {
    String::from_utf8(canonical::jcs(&parse_strict(text).unwrap(), Omit::Nothing).unwrap()).unwrap()
}

fn jcs_f64(bits: u64) -> String {
    let value = Value::from(f64::from_bits(bits));
    String::from_utf8(canonical::jcs(&value, Omit::Nothing).unwrap()).unwrap()
}

/// RFC 8785 Appendix B: IEEE-754 doubles and their canonical text.
#[test]
fn rfc8785_appendix_b_numbers() {
    let cases: [(u64, &str); 22] = [
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
    ];
    for (bits, expected) in cases {
        assert_eq!(jcs_f64(bits), expected, "bits {bits:#018x}");
    }
    assert_eq!(jcs_f64(0xbecbf647612f3696), "-0.0000033333333333333333");
    assert_eq!(jcs_f64(0x43143ff3c1cb0959), "1424953923781206.2");
}

#[test]
fn numbers_from_text() {
    for (input, expected) in [
        ("0", "0"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1e21", "1e+21"),
        ("1E-7", "1e-7"),
        ("1e-7", "1e-7"),
        ("0.0000001", "1e-7"),
        ("0.000001", "0.000001"),
        ("333333333.33333329", "333333333.3333333"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("5e-324", "5e-324"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("100", "100"),
        ("1.0", "1"),
        ("9007199254740991", "9007199254740991"),
        ("-9007199254740991", "-9007199254740991"),
        ("0.0000225", "0.0000225"),
    ] {
        assert_eq!(jcs_text(input), expected, "input {input}");
    }
}

/// RFC 8785 section 3.2.2's example.
#[test]
fn rfc8785_main_example() {
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
                    \"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(jcs_text(input), expected);
}

/// RFC 8785 section 3.2.3: keys sorted by UTF-16 code units, so the non-BMP emoji
/// (U+1F600, surrogates D83D DE00) sorts before U+FB33.
#[test]
fn keys_sort_by_utf16_code_units() {
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                    \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                    \"\u{1f600}\":\"Emoji: Grinning Face\",\
                    \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(jcs_text(input), expected);
    // By UTF-8 bytes (or code points) the emoji would sort last: the two orders differ.
    let mut by_code_point = ["\u{fb33}", "\u{1f600}"];
    by_code_point.sort();
    assert_eq!(by_code_point, ["\u{fb33}", "\u{1f600}"]);
}

#[test]
fn strings_use_minimal_escapes() {
    assert_eq!(
        jcs_text(r#""\u0000\u001f\u007f\u00e9/""#),
        "\"\\u0000\\u001f\u{7f}\u{e9}/\""
    );
    assert_eq!(jcs_text(r#""\b\f\n\r\t""#), r#""\b\f\n\r\t""#);
    assert_eq!(jcs_text(r#""\ud83d\ude00""#), "\"\u{1f600}\"");
}

#[test]
fn nested_objects_and_arrays() {
    let input = r#"{ "z": [ {"b": 1, "a": [3, {"d": null, "c": true}]}, [] , {} ], "a": {"y": "x", "x": "y"} }"#;
    assert_eq!(
        jcs_text(input),
        r#"{"a":{"x":"y","y":"x"},"z":[{"a":[3,{"c":true,"d":null}],"b":1},[],{}]}"#
    );
}

#[test]
fn signature_is_left_out_only_at_the_top() {
    let value = json!({"b": 1, "signature": "x", "inner": {"signature": "kept"}});
    let out = canonical::jcs(&value, Omit::Signature).unwrap();
    assert_eq!(out, br#"{"b":1,"inner":{"signature":"kept"}}"#);
}

#[test]
fn refuses_what_cannot_be_canonical() {
    for bad in [
        "NaN",
        "Infinity",
        "-Infinity",
        "[1e400]",
        r#""\ud800""#,
        r#"{"a":"\udc00"}"#,
        "9007199254740993",
        "-9007199254740993",
        "[18446744073709551616]",
        r#"{"a":1,"a":2}"#,
        "{",
        "",
    ] {
        let err = parse_strict(bad).unwrap_err();
        assert_eq!(
            err.kind,
            llmring::ErrorKind::InvalidJson,
            "input {bad:?}: {err}"
        );
    }
    // A value built in Rust that is not representable is refused too.
    let big = Value::from(u64::MAX);
    assert!(canonical::jcs(&big, Omit::Nothing).is_err());
}

#[test]
fn python_repr_matches_python() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/python_signer/receipts.json")).unwrap();
    let cases = fixture["float_reprs"].as_array().unwrap();
    assert!(cases.len() > 400);
    for case in cases {
        let bytes: [u8; 8] = hex::decode(case[0].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let f = f64::from_le_bytes(bytes);
        assert_eq!(
            python_float_repr(f),
            case[1].as_str().unwrap(),
            "bits {}",
            case[0]
        );
    }
}

#[test]
fn python_legacy_bytes_match_the_reference_signer() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/python_signer/receipts.json")).unwrap();
    for case in fixture["receipts"].as_array().unwrap() {
        let receipt = parse_strict(&case["receipt"].to_string()).unwrap();
        let bytes = canonical::python_legacy(&receipt, Omit::Signature).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            case["signed_bytes"].as_str().unwrap()
        );
    }
}

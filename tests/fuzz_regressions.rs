//! Regression tests for what the fuzz targets of `fuzz/` found (docs/fuzzing.md). Each test
//! replays the failing input, or its essence, through the public API.

use llmring::providers::Provider;
use llmring::receipt::canonical::{self, Omit};
use llmring::receipt::json::parse_strict;
use llmring::receipt::{api, keys};

/// fuzz target `canonical`: a double from 2^53 up to 1e21 is written by RFC 8785 as plain
/// digits (`90071992547409910000`), which the strict parser refused as an integer beyond
/// 2^53−1, so canonical JSON did not read back and a signed receipt holding such a number
/// failed to verify.
#[test]
fn canonical_json_of_large_doubles_reads_back() {
    let input = "[0,-0,1e21,1e-7,0.1,333333333.33333329,90071992547409913333.3333332940991]";
    let first = canonical::jcs(&parse_strict(input).unwrap(), Omit::Nothing).unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(
        text,
        "[0,0,1e+21,1e-7,0.1,333333333.3333333,90071992547409920000]"
    );
    let second = canonical::jcs(&parse_strict(&text).unwrap(), Omit::Nothing).unwrap();
    assert_eq!(first, second);

    let key = keys::parse_private(&"11".repeat(32)).unwrap();
    let signed = api::sign(r#"{"amount":1e20,"id":10000000000000000000}"#, &key).unwrap();
    assert_eq!(
        signed.split(",\"signature\"").next().unwrap(),
        r#"{"amount":100000000000000000000,"id":10000000000000000000"#
    );
    assert!(api::verify(&signed, &key.verifying_key()).unwrap().valid);
    // Literals that a double would round are still refused.
    assert!(parse_strict("90071992547409910001").is_err());
    assert!(parse_strict("9007199254740993").is_err());
}

/// fuzz target `provider_stream`: when a chunk held a malformed event and, on a later line,
/// invalid UTF-8, the error reported depended on where the body was split: the lines framed
/// before the bad one were dropped when both came in one chunk.
#[test]
fn stream_errors_do_not_depend_on_chunking() {
    let body: &[u8] = b"event: message_start\n{\"done\":false}\n\xff\xfe\n";
    for provider in Provider::ALL {
        let mut whole = provider.stream_parser();
        let whole_error = whole.feed(body).unwrap_err();
        let mut split = provider.stream_parser();
        let mut split_error = None;
        for byte in body.chunks(1) {
            if let Err(e) = split.feed(byte) {
                split_error = Some(e);
                break;
            }
        }
        assert_eq!(Some(whole_error), split_error, "{provider}");
    }
}

/// fuzz target `registry`: a registry price so high that tokens × rate is beyond what a
/// Decimal holds made pricing panic ("Multiplication overflowed"). It is now unpriced.
#[test]
fn pricing_beyond_the_decimal_range_is_unpriced_not_a_panic() {
    use llmring::cost::{CostStatus, Usage, price_usage};
    use llmring::registry::parse_provider_file;
    let file = r#"{"models":{"openai:x":{"dollars_per_million_tokens_input":1e15,
        "dollars_per_million_tokens_output":1,"dollars_per_million_tokens_cache_read":1e20,
        "dollars_per_million_tokens_input_long_context":1e27,
        "long_context_threshold_tokens":10}}}"#;
    let model = &parse_provider_file("openai", "test", file).unwrap()[0];
    let huge = price_usage(&model.pricing, &Usage::new(u64::MAX, 1));
    assert_eq!(huge.status, CostStatus::NoPricing);
    assert_eq!(huge.total_cost, rust_decimal::Decimal::ZERO);
    // The cache rate scaled by the long-context ratio overflows too.
    let cached = Usage {
        cached_read_tokens: 5,
        ..Usage::new(20, 1)
    };
    assert_eq!(
        price_usage(&model.pricing, &cached).status,
        CostStatus::NoPricing
    );
    // Ordinary amounts are still priced, exactly.
    let small = price_usage(&model.pricing, &Usage::new(2, 3));
    assert_eq!(small.status, CostStatus::Priced);
    assert_eq!(small.total_cost.to_string(), "2000000000.000003");
}

/// fuzz target `lockfile`: an alias with leading or trailing white space was accepted, but
/// requests name aliases trimmed, so it could never be resolved. It is now a config error.
#[test]
fn lockfile_alias_with_surrounding_space_is_refused() {
    use llmring::lockfile::{Lockfile, LockfileSource};
    for alias in [" reasoning", "reasoning\t", "\nfast "] {
        let text = format!(
            "[[profiles.default.bindings]]\nalias = {alias:?}\nmodels = [\"openai:gpt-4o\"]\n"
        );
        let err = Lockfile::parse(text.as_bytes(), LockfileSource::BuiltIn).unwrap_err();
        assert_eq!(err.kind, llmring::ErrorKind::Config, "{alias:?}");
        assert!(err.message.contains("white space"), "{err}");
    }
    let ok = "[[profiles.default.bindings]]\nalias = \"fast\"\nmodels = [\"openai:gpt-4o\"]\n";
    let lock = Lockfile::parse(ok.as_bytes(), LockfileSource::BuiltIn).unwrap();
    assert_eq!(lock.resolve(" fast ", "default").unwrap().alias, "fast");
}

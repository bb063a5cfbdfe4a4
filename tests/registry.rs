//! Registry parsing, lookup and sources.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use llmring::ErrorKind;
use llmring::lockfile::ModelRef;
use llmring::registry::{BUNDLED_FILES, Registry};
use rust_decimal::Decimal;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registry")
        .join(name)
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn m(s: &str) -> ModelRef {
    s.parse().unwrap()
}

#[test]
fn directory_source_reads_exact_prices_and_ignores_unknown_fields() {
    let r = Registry::from_dir(&dir("basic")).unwrap();
    assert_eq!(r.len(), 9);
    assert_eq!(r.source(), dir("basic").display().to_string());
    let gpt = r.model(&m("openai:gpt-test")).unwrap();
    assert_eq!(gpt.display_name.as_deref(), Some("GPT Test"));
    assert_eq!(gpt.pricing.input, Some(d("0.15")));
    assert_eq!(gpt.pricing.cached_input, Some(d("0.075")));
    assert_eq!(gpt.pricing.cached_input.unwrap().to_string(), "0.075");
    assert_eq!(gpt.pricing.output, Some(d("0.6")));
    assert_eq!(gpt.pricing.cache_write_5m, None, "null is absent");
    assert_eq!(gpt.pricing.long_context_threshold_tokens, None);
    assert_eq!(gpt.limits.max_input_tokens, Some(128000));
    assert_eq!(gpt.limits.max_output_tokens, Some(16384));
    let flash = r.model(&m("google:gemini-test-flash")).unwrap();
    assert_eq!(flash.pricing.cached_input.unwrap().to_string(), "0.01875");
    assert_eq!(flash.pricing.input.unwrap().to_string(), "0.075");
    let claude = r.model(&m("anthropic:claude-test-20250101")).unwrap();
    assert_eq!(claude.pricing.long_context_threshold_tokens, Some(200000));
    assert_eq!(claude.pricing.output_long_context, Some(d("22.5")));
    assert_eq!(claude.pricing.cache_write_1h, Some(d("6")));
    // No ollama/models.json in this directory: no ollama models, not an error.
    assert!(r.models().all(|i| i.id.provider != "ollama"));
}

#[test]
fn lookup_by_model_alias() {
    let r = Registry::from_dir(&dir("basic")).unwrap();
    let by_alias = r.model(&m("anthropic:claude-test")).unwrap();
    assert_eq!(by_alias.id, m("anthropic:claude-test-20250101"));
    assert_eq!(
        r.model(&m("anthropic:claude-test-latest")).unwrap().id,
        by_alias.id
    );
    assert_eq!(
        r.model(&m("openai:gpt-test-2024-07-18")).unwrap().id,
        m("openai:gpt-test")
    );
    // Aliases are per provider.
    assert!(r.model(&m("openai:claude-test")).is_none());
    assert!(r.model(&m("openai:nothing")).is_none());
}

#[test]
fn bundled_alias_lookup() {
    let r = Registry::bundled();
    assert_eq!(
        r.model(&m("anthropic:claude-opus-4-1")).unwrap().id,
        m("anthropic:claude-opus-4-1-20250805")
    );
    assert_eq!(r.source(), "bundled");
}

#[test]
fn bundled_snapshot_covers_the_reference_price_table() {
    let r = Registry::bundled();
    let expect = [
        ("openai:gpt-4o", "2.5", "10"),
        ("openai:gpt-4o-mini", "0.15", "0.6"),
        ("anthropic:claude-3-5-sonnet", "3", "15"),
        ("anthropic:claude-3-5-haiku", "0.8", "4"),
        ("google:gemini-1.5-pro", "1.25", "5"),
        ("google:gemini-1.5-flash", "0.075", "0.3"),
    ];
    for (model, input, output) in expect {
        let info = r.model(&m(model)).unwrap_or_else(|| panic!("{model}"));
        assert_eq!(info.pricing.input, Some(d(input)), "{model}");
        assert_eq!(info.pricing.output, Some(d(output)), "{model}");
    }
    for info in r.models().filter(|i| i.id.provider == "ollama") {
        assert_eq!(info.pricing.input, Some(Decimal::ZERO));
        assert_eq!(info.pricing.output, Some(Decimal::ZERO));
    }
    assert_eq!(BUNDLED_FILES.len(), 4);
}

#[test]
fn malformed_files_name_the_file_and_model() {
    let err = Registry::from_dir(&dir("malformed_price")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("anthropic/models.json"), "{err}");
    assert!(err.message.contains("anthropic:claude-bad"), "{err}");
    assert!(
        err.message.contains("dollars_per_million_tokens_input"),
        "{err}"
    );

    let cases = [
        ("{\"models\": {", "invalid JSON"),
        ("[]", "expected a JSON object"),
        ("{\"provider\": \"openai\"}", "missing `models`"),
        ("{\"models\": {\"gpt-4o\": {}}}", "\"gpt-4o\""),
        ("{\"models\": {\"anthropic:x\": {}}}", "\"anthropic:x\""),
        ("{\"models\": {\"openai:x\": 3}}", "not a JSON object"),
        (
            "{\"models\": {\"openai:x\": {\"dollars_per_million_tokens_output\": -1}}}",
            "negative",
        ),
        (
            "{\"models\": {\"openai:x\": {\"max_input_tokens\": 1.5}}}",
            "max_input_tokens",
        ),
        (
            "{\"models\": {\"openai:x\": {\"model_aliases\": \"x1\"}}}",
            "model_aliases",
        ),
        (
            "{\"provider\": \"google\", \"models\": {}}",
            "declares provider",
        ),
    ];
    for (text, needle) in cases {
        let err = Registry::from_provider_files("test", [("openai", text)]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config, "{text}");
        assert!(err.message.contains("test/openai/models.json"), "{err}");
        assert!(err.message.contains(needle), "{text}: {err}");
    }
}

#[test]
fn provider_files_constructor_and_prices_as_strings() {
    let openai = r#"{"models": {"openai:a": {"dollars_per_million_tokens_input": "0.0000225",
        "dollars_per_million_tokens_output": 1e-7}}}"#;
    let r = Registry::from_provider_files("https://example.test/registry/", [("openai", openai)])
        .unwrap();
    let a = r.model(&m("openai:a")).unwrap();
    assert_eq!(a.pricing.input.unwrap().to_string(), "0.0000225");
    assert_eq!(a.pricing.output, Some(d("0.0000001")));
}

#[test]
fn missing_directory_is_an_error() {
    let err = Registry::from_dir(&dir("no_such_dir")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("no_such_dir"));
}

#[test]
fn model_info_json_has_exact_numbers() {
    let r = Registry::bundled();
    let json = r.model(&m("openai:gpt-4o-mini")).unwrap().to_json();
    assert_eq!(json["model"], "openai:gpt-4o-mini");
    assert_eq!(
        json["dollars_per_million_tokens_cached_input"].to_string(),
        "0.075"
    );
    assert_eq!(json["dollars_per_million_tokens_input"].to_string(), "0.15");
    assert_eq!(json["max_input_tokens"], 128000);
}

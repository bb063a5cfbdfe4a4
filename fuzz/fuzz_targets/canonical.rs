//! RFC 8785 canonicalization: never panics, and is a fixed point:
//! canonical(parse(canonical(x))) == canonical(x). The text API (`api::canonical`,
//! `api::digest`, used by the C ABI and the CLI) agrees with the core functions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::receipt::canonical::{self, Omit};
use llmring::receipt::{api, json::parse_strict, sign};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let value = match parse_strict(text) {
        Ok(value) => value,
        Err(_) => {
            assert!(
                api::canonical(text).is_err(),
                "api::canonical accepted {text:?}"
            );
            assert!(api::digest(text).is_err(), "api::digest accepted {text:?}");
            return;
        }
    };
    // Whatever the strict parser accepts can be canonicalized, in both forms.
    let first = canonical::jcs(&value, Omit::Nothing).expect("jcs of a strictly parsed value");
    canonical::python_legacy(&value, Omit::Nothing).expect("legacy form of a parsed value");
    let first_text = std::str::from_utf8(&first).expect("canonical JSON is UTF-8");
    let reparsed = parse_strict(first_text).expect("canonical JSON parses strictly");
    let second = canonical::jcs(&reparsed, Omit::Nothing).expect("jcs of canonical JSON");
    assert_eq!(first, second, "canonicalization is not a fixed point");

    let signed_form = canonical::jcs(&value, Omit::Signature).expect("jcs without signature");
    let api_text = api::canonical(text).expect("api::canonical of valid JSON");
    assert_eq!(api_text.as_bytes(), &signed_form[..]);
    assert_eq!(
        api::digest(text).expect("api::digest of valid JSON"),
        sign::digest_of(&signed_form)
    );
});

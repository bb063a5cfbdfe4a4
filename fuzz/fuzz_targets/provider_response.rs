//! Plain (unstreamed) provider response bodies: every provider's success and error parsers
//! take arbitrary bytes without panicking, and the usage of a parsed reply normalizes and
//! prices (bundled registry) without panicking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use llmring::cost::{calculate_cost, normalize_usage};
use llmring::lockfile::ModelRef;
use llmring::providers::Provider;
use llmring::registry::Registry;

fuzz_target!(|data: &[u8]| {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let registry = REGISTRY.get_or_init(Registry::bundled);
    for provider in Provider::ALL {
        for status in [400, 401, 429, 500, 529] {
            let _ = provider.parse_error(status, data).into_error();
        }
        let Ok(reply) = provider.parse_response(data) else {
            continue;
        };
        let model = ModelRef::new(provider.name(), reply.model.as_deref().unwrap_or("x"));
        if let Some(raw) = &reply.response.usage
            && let Ok(usage) = normalize_usage(provider.name(), raw)
        {
            let _ = calculate_cost(registry, &model, usage.as_ref());
        }
    }
});

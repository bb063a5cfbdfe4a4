//! Registry parsing (`{provider}/models.json`): never panics for any provider, and every model
//! of a parsed file prices any usage (small, large, with cache and reasoning parts, up to
//! `u64::MAX` tokens) without panicking, with `total_cost == input_cost + output_cost`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::cost::{Usage, calculate_cost, price_usage};
use llmring::registry::{PROVIDERS, Registry, parse_provider_file};

fn usages() -> [Usage; 4] {
    let big = 1u64 << 53;
    [
        Usage::new(1000, 500),
        Usage {
            prompt_tokens: Some(big),
            completion_tokens: big,
            cached_read_tokens: big / 4,
            cache_write_5m_tokens: big / 4,
            cache_write_1h_tokens: big / 4,
            reasoning_tokens: big / 2,
        },
        Usage {
            prompt_tokens: None,
            completion_tokens: 7,
            reasoning_tokens: 3,
            ..Usage::default()
        },
        Usage::new(u64::MAX, u64::MAX),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for provider in PROVIDERS {
        let Ok(models) = parse_provider_file(provider, "fuzz", text) else {
            continue;
        };
        for info in &models {
            let _ = info.to_json();
            for usage in usages() {
                let cost = price_usage(&info.pricing, &usage);
                assert_eq!(cost.total_cost, cost.input_cost + cost.output_cost);
            }
        }
        let registry = Registry::from_provider_files("fuzz", [(provider, text)])
            .expect("a file that parses alone builds a registry");
        for info in &models {
            let _ = calculate_cost(&registry, &info.id, Some(&usages()[0]));
        }
    }
});

//! Property tests of cost arithmetic: for random token counts and random prices, amounts add
//! up exactly (Decimal, never floats), sums do not depend on order, splitting tokens or
//! components does not change a cost, and money survives a JSON round trip exactly.

use llmring::cost::json::decimal_from_json;
use llmring::cost::{Component, Cost, Usage, money_json, price_usage};
use llmring::registry::Pricing;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Prices as registries write them: up to 1,000,000 dollars per million tokens with up to
/// six decimals (0.000001 .. 1000000). With at most ten billion tokens per line, every amount
/// stays far inside Decimal's 28 significant digits, where its arithmetic is exact.
fn price() -> impl Strategy<Value = Decimal> {
    (0i64..=1_000_000_000_000).prop_map(|m| Decimal::new(m, 6).normalize())
}

/// Token counts up to ten billion (far above any real call).
fn tokens() -> impl Strategy<Value = u64> {
    0u64..=10_000_000_000
}

fn flat(input: Decimal, output: Decimal) -> Pricing {
    Pricing {
        input: Some(input),
        output: Some(output),
        ..Pricing::default()
    }
}

/// A full price list: cache, thinking and long-context rates, some of them absent. The
/// long-context rates are the normal ones times 1/2, 1, 3/2 or 2, as real price lists have them
/// (cache rates are scaled by that ratio, exact only when it has a finite decimal expansion:
/// see `src/cost/price.rs`).
fn pricing() -> impl Strategy<Value = Pricing> {
    (
        price(),
        price(),
        proptest::option::of(price()),
        proptest::option::of(price()),
        proptest::option::of(price()),
        proptest::option::of(price()),
        proptest::option::of(price()),
        proptest::option::of((1u32..=4, 1u32..=4, 0u64..=1_000_000)),
    )
        .prop_map(
            |(input, output, cache_read, w5, w1, thinking, cached_input, long)| Pricing {
                input: Some(input),
                output: Some(output),
                cache_read,
                cached_input,
                cache_write_5m: w5,
                cache_write_1h: w1,
                output_thinking: thinking,
                input_long_context: long.map(|l| input * Decimal::from(l.0) / Decimal::TWO),
                output_long_context: long.map(|l| output * Decimal::from(l.1) / Decimal::TWO),
                long_context_threshold_tokens: long.map(|l| l.2),
            },
        )
}

/// A valid usage: cache parts within the prompt, reasoning within the completion.
fn usage() -> impl Strategy<Value = Usage> {
    (
        tokens(),
        tokens(),
        0u32..=100,
        0u32..=100,
        0u32..=100,
        0u32..=100,
    )
        .prop_map(|(prompt, completion, read, w5, w1, reasoning)| {
            // Percentages of the whole, at most 100% in total for the cache parts.
            let part = |whole: u64, pct: u32| whole / 100 * u64::from(pct.min(100));
            let read = part(prompt, read / 3);
            let w5 = part(prompt, w5 / 3);
            let w1 = part(prompt, w1 / 3);
            Usage {
                prompt_tokens: Some(prompt),
                completion_tokens: completion,
                cached_read_tokens: read,
                cache_write_5m_tokens: w5,
                cache_write_1h_tokens: w1,
                reasoning_tokens: part(completion, reasoning),
            }
        })
}

fn million() -> Decimal {
    Decimal::from(1_000_000u32)
}

proptest! {
    #[test]
    fn total_is_input_plus_output_and_lines_are_exact(p in pricing(), u in usage()) {
        prop_assert!(u.validate().is_ok());
        let cost = price_usage(&p, &u);
        prop_assert_eq!(cost.total_cost, cost.input_cost + cost.output_cost);
        let sum = |input: bool| -> Decimal {
            cost.breakdown.iter().filter(|l| l.component.is_input() == input).map(|l| l.cost).sum()
        };
        prop_assert_eq!(cost.input_cost, sum(true));
        prop_assert_eq!(cost.output_cost, sum(false));
        for line in &cost.breakdown {
            // cost = tokens × rate / 1,000,000 with nothing rounded away.
            prop_assert_eq!(line.cost * million(), Decimal::from(line.tokens) * line.rate);
        }
        // Every token is priced exactly once: the lines' tokens add up to the usage.
        let priced: u64 = cost.breakdown.iter().map(|l| l.tokens).sum();
        prop_assert_eq!(priced, u.prompt_tokens.unwrap() + u.completion_tokens);
    }

    #[test]
    fn summing_costs_does_not_depend_on_order(
        items in proptest::collection::vec((pricing(), usage()), 1..20),
        seed in any::<u64>(),
    ) {
        let costs: Vec<Cost> = items.iter().map(|(p, u)| price_usage(p, u)).collect();
        let forward: Decimal = costs.iter().map(|c| c.total_cost).sum();
        let backward: Decimal = costs.iter().rev().map(|c| c.total_cost).sum();
        let mut shuffled: Vec<&Cost> = costs.iter().collect();
        // A deterministic permutation from the seed (Fisher-Yates with a xorshift).
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mixed: Decimal = shuffled.iter().map(|c| c.total_cost).sum();
        prop_assert_eq!(forward, backward);
        prop_assert_eq!(forward, mixed);
        // And the grand total is the sum of the inputs plus the sum of the outputs.
        let inputs: Decimal = costs.iter().map(|c| c.input_cost).sum();
        let outputs: Decimal = costs.iter().map(|c| c.output_cost).sum();
        prop_assert_eq!(forward, inputs + outputs);
    }

    #[test]
    fn cost_of_a_sum_of_tokens_is_the_sum_of_costs_at_a_flat_price(
        input in price(), output in price(),
        a in (tokens(), tokens()), b in (tokens(), tokens()),
    ) {
        let p = flat(input, output);
        let both = price_usage(&p, &Usage::new(a.0 + b.0, a.1 + b.1));
        let first = price_usage(&p, &Usage::new(a.0, a.1));
        let second = price_usage(&p, &Usage::new(b.0, b.1));
        prop_assert_eq!(both.input_cost, first.input_cost + second.input_cost);
        prop_assert_eq!(both.output_cost, first.output_cost + second.output_cost);
        prop_assert_eq!(both.total_cost, first.total_cost + second.total_cost);
    }

    #[test]
    fn splitting_tokens_into_components_at_the_same_rate_changes_nothing(
        input in price(), output in price(), u in usage(),
    ) {
        // Cache parts at the input rate and reasoning at the output rate cost what the
        // same tokens cost unsplit.
        let same_rates = Pricing {
            cache_read: Some(input),
            cache_write_5m: Some(input),
            cache_write_1h: Some(input),
            output_thinking: Some(output),
            ..flat(input, output)
        };
        let split = price_usage(&same_rates, &u);
        let whole = price_usage(
            &flat(input, output),
            &Usage::new(u.prompt_tokens.unwrap(), u.completion_tokens),
        );
        prop_assert_eq!(split.input_cost, whole.input_cost);
        prop_assert_eq!(split.output_cost, whole.output_cost);
        prop_assert_eq!(split.total_cost, whole.total_cost);
        let reasoning = split.breakdown.iter().any(|l| l.component == Component::Reasoning);
        prop_assert_eq!(reasoning, u.reasoning_tokens > 0);
    }

    #[test]
    fn money_json_round_trip_prints_the_exact_decimal(
        mantissa in any::<i64>(), scale in 0u32..=28,
    ) {
        let amount = Decimal::new(mantissa, scale);
        let text = money_json(amount).to_string();
        let back = decimal_from_json(&serde_json::from_str(&text).unwrap(), "amount").unwrap();
        prop_assert_eq!(back, amount, "{} printed as {}", amount, text);
        // The printed text is the decimal itself, not a nearby double's digits.
        let printed = text.trim_matches('"');
        let parsed = Decimal::from_scientific(printed)
            .or_else(|_| printed.parse::<Decimal>())
            .unwrap();
        prop_assert_eq!(parsed, amount, "{} printed as {}", amount, text);
    }

    #[test]
    fn usage_json_amounts_read_back_exactly(p in pricing(), u in usage()) {
        let cost = price_usage(&p, &u);
        let obj = llmring::cost::usage_json(Some(&u), &cost);
        let text = serde_json::Value::Object(obj).to_string();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        let read = |key: &str| decimal_from_json(&back[key], key).unwrap();
        prop_assert_eq!(read("cost"), cost.total_cost);
        prop_assert_eq!(read("input_cost"), cost.input_cost);
        prop_assert_eq!(read("output_cost"), cost.output_cost);
        let lines = back["cost_breakdown"].as_array().unwrap();
        prop_assert_eq!(lines.len(), cost.breakdown.len());
        for (json, line) in lines.iter().zip(&cost.breakdown) {
            prop_assert_eq!(decimal_from_json(&json["cost"], "cost").unwrap(), line.cost);
        }
    }
}

//! Pricing a [`Usage`] with registry rates, in exact decimals.
//!
//! Rules (rates are dollars per million tokens; cost = tokens × rate / 1,000,000, exact):
//! - uncached input (`prompt - cache reads - cache writes`) at `input`;
//! - cache reads at `cache_read`, else `cached_input`, else `input`;
//! - cache writes at `cache_write_5m` / `cache_write_1h`, else `input`;
//! - output at `output`; reasoning tokens at `output_thinking` when the model prices them
//!   apart, else they are part of the output line at `output`;
//! - long context: when the prompt (all input tokens) is strictly above
//!   `long_context_threshold_tokens` and the model has long-context rates, the whole request
//!   is priced at them: input at `input_long_context`, output at `output_long_context` (each
//!   falling back to its normal rate when absent). Cache rates are scaled by the same factor
//!   as the input rate (`input_long_context / input`), which is how Anthropic and Google bill
//!   cache reads and writes above the threshold (both double with the input rate). The
//!   scaling multiplies before dividing; it is exact whenever the result has a finite decimal
//!   expansion within 28 digits, true of every real price list. `output_thinking` is not
//!   scaled (no provider publishes a long-context thinking rate apart).
//!
//! `input_cost` is the sum of the input and cache lines, `output_cost` of the output and
//! reasoning lines, and `total_cost = input_cost + output_cost` exactly.

use rust_decimal::Decimal;

use super::status::CostStatus;
use super::usage::Usage;
use crate::lockfile::ModelRef;
use crate::registry::{Pricing, Registry};

/// A priced part of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// Uncached input tokens.
    Input,
    /// Input tokens read from a cache.
    CacheRead,
    /// Input tokens written to a 5-minute cache.
    CacheWrite5m,
    /// Input tokens written to a 1-hour cache.
    CacheWrite1h,
    /// Output tokens (reasoning included unless priced apart).
    Output,
    /// Reasoning tokens priced apart at `output_thinking`.
    Reasoning,
}

impl Component {
    /// The snake_case name used in JSON (`input`, `cache_read`, `cache_write_5m`,
    /// `cache_write_1h`, `output`, `reasoning`).
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Input => "input",
            Component::CacheRead => "cache_read",
            Component::CacheWrite5m => "cache_write_5m",
            Component::CacheWrite1h => "cache_write_1h",
            Component::Output => "output",
            Component::Reasoning => "reasoning",
        }
    }

    /// True for the parts that add up to `input_cost`.
    pub fn is_input(self) -> bool {
        !matches!(self, Component::Output | Component::Reasoning)
    }
}

/// One line of a cost breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostLine {
    /// What was priced.
    pub component: Component,
    /// How many tokens.
    pub tokens: u64,
    /// The rate applied, in dollars per million tokens.
    pub rate: Decimal,
    /// `tokens × rate / 1,000,000`, exact.
    pub cost: Decimal,
}

/// The cost of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// Whether the amounts are the call's full cost.
    pub status: CostStatus,
    /// Uncached input, cache reads and cache writes.
    pub input_cost: Decimal,
    /// Output and reasoning.
    pub output_cost: Decimal,
    /// `input_cost + output_cost`.
    pub total_cost: Decimal,
    /// The priced lines with a non-zero token count, in [`Component`] order.
    pub breakdown: Vec<CostLine>,
    /// True when the long-context rates applied.
    pub long_context: bool,
}

impl Cost {
    /// A zero cost with the given (unpriced) status and no breakdown.
    pub fn unpriced(status: CostStatus) -> Cost {
        Cost {
            status,
            input_cost: Decimal::ZERO,
            output_cost: Decimal::ZERO,
            total_cost: Decimal::ZERO,
            breakdown: Vec::new(),
            long_context: false,
        }
    }
}

/// Prices `usage` for `model` with `registry`. Status, checked in this order:
/// `model_not_in_registry` (no entry), `no_pricing` (the entry has neither an input nor an
/// output price), `no_usage` (`usage` is `None`), then [`price_usage`]'s result.
pub fn calculate_cost(registry: &Registry, model: &ModelRef, usage: Option<&Usage>) -> Cost {
    let Some(info) = registry.model(model) else {
        return Cost::unpriced(CostStatus::ModelNotInRegistry);
    };
    if !info.pricing.is_priced() {
        return Cost::unpriced(CostStatus::NoPricing);
    }
    match usage {
        None => Cost::unpriced(CostStatus::NoUsage),
        Some(usage) => price_usage(&info.pricing, usage),
    }
}

/// Prices `usage` with `pricing` (rules in the module documentation). The status is
/// `no_pricing` (zero amounts) when tokens were used whose rate is unknown, or when an amount
/// would be beyond what a [`Decimal`] holds (about 7.9e28: absurd rates or token counts, never
/// rounded), `partial_usage` when the prompt count is unknown and input has a non-zero rate,
/// else `priced`.
pub fn price_usage(pricing: &Pricing, usage: &Usage) -> Cost {
    price_checked(pricing, usage).unwrap_or_else(|| Cost::unpriced(CostStatus::NoPricing))
}

/// [`price_usage`], `None` when an amount overflows.
fn price_checked(pricing: &Pricing, usage: &Usage) -> Option<Cost> {
    let long_context = match (pricing.long_context_threshold_tokens, usage.prompt_tokens) {
        (Some(threshold), Some(prompt)) => {
            prompt > threshold
                && (pricing.input_long_context.is_some() || pricing.output_long_context.is_some())
        }
        _ => false,
    };
    let (input_rate, output_rate, cache_scale) = if long_context {
        let input = pricing.input_long_context.or(pricing.input);
        let scale = match (pricing.input, pricing.input_long_context) {
            (Some(base), Some(lc)) if !base.is_zero() => Some((lc, base)),
            _ => None,
        };
        (input, pricing.output_long_context.or(pricing.output), scale)
    } else {
        (pricing.input, pricing.output, None)
    };
    let cache = |rate: Option<Decimal>| match (rate, cache_scale) {
        (Some(r), Some((num, den))) => r
            .checked_mul(num)
            .and_then(|x| x.checked_div(den))
            .map(Some),
        (r, _) => Some(r),
    };
    let thinking_apart = pricing.output_thinking.is_some();
    let reasoning_apart = if thinking_apart {
        usage.reasoning_tokens
    } else {
        0
    };

    let mut parts: Vec<(Component, u64, Option<Decimal>)> = vec![
        (
            Component::CacheRead,
            usage.cached_read_tokens,
            cache(pricing.cache_read_rate())?,
        ),
        (
            Component::CacheWrite5m,
            usage.cache_write_5m_tokens,
            cache(pricing.cache_write_5m.or(pricing.input))?,
        ),
        (
            Component::CacheWrite1h,
            usage.cache_write_1h_tokens,
            cache(pricing.cache_write_1h.or(pricing.input))?,
        ),
        (
            Component::Output,
            usage.completion_tokens - reasoning_apart,
            output_rate,
        ),
        (
            Component::Reasoning,
            reasoning_apart,
            pricing.output_thinking,
        ),
    ];
    let mut status = CostStatus::Priced;
    match usage.uncached_input_tokens() {
        Some(tokens) => parts.insert(0, (Component::Input, tokens, input_rate)),
        None if input_rate.is_some_and(|r| r.is_zero()) => {}
        None => status = CostStatus::PartialUsage,
    }

    let mut breakdown = Vec::new();
    for (component, tokens, rate) in parts {
        if tokens == 0 {
            continue;
        }
        let Some(rate) = rate else {
            return Some(Cost::unpriced(CostStatus::NoPricing));
        };
        let cost = Decimal::from(tokens)
            .checked_mul(rate)?
            .checked_div(Decimal::from(1_000_000u32))?
            .normalize();
        breakdown.push(CostLine {
            component,
            tokens,
            rate: rate.normalize(),
            cost,
        });
    }
    let sum = |input: bool| -> Option<Decimal> {
        breakdown
            .iter()
            .filter(|l| l.component.is_input() == input)
            .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(l.cost))
    };
    let input_cost = sum(true)?.normalize();
    let output_cost = sum(false)?.normalize();
    Some(Cost {
        status,
        input_cost,
        output_cost,
        total_cost: input_cost.checked_add(output_cost)?.normalize(),
        breakdown,
        long_context,
    })
}

//! The normalized token usage of one call.

use crate::error::{Error, Result};

/// Token counts of one call, normalized across providers so that no token is counted twice.
///
/// - `prompt_tokens`: ALL input tokens, including cache reads and cache writes. `None` when the
///   provider did not say (Ollama omits `prompt_eval_count` when the prompt was cached): the
///   count is unknown, not zero.
/// - `completion_tokens`: ALL output tokens, including reasoning ("thinking") tokens.
/// - `cached_read_tokens`: the part of `prompt_tokens` read from a prompt cache.
/// - `cache_write_5m_tokens`, `cache_write_1h_tokens`: the parts of `prompt_tokens` written to
///   a prompt cache with a 5-minute or 1-hour lifetime.
/// - `reasoning_tokens`: the part of `completion_tokens` spent on reasoning.
///
/// So the uncached input is `prompt_tokens - cached_read_tokens - cache_write_5m_tokens -
/// cache_write_1h_tokens`, and [`Usage::validate`] checks that the parts fit in their wholes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// All input tokens (see the type's documentation); `None` when unknown.
    pub prompt_tokens: Option<u64>,
    /// All output tokens, reasoning included.
    pub completion_tokens: u64,
    /// Input tokens read from a cache (part of `prompt_tokens`).
    pub cached_read_tokens: u64,
    /// Input tokens written to a 5-minute cache (part of `prompt_tokens`).
    pub cache_write_5m_tokens: u64,
    /// Input tokens written to a 1-hour cache (part of `prompt_tokens`).
    pub cache_write_1h_tokens: u64,
    /// Reasoning tokens (part of `completion_tokens`).
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Usage with only prompt and completion counts.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Usage {
        Usage {
            prompt_tokens: Some(prompt_tokens),
            completion_tokens,
            ..Usage::default()
        }
    }

    /// `prompt_tokens + completion_tokens`, `None` when the prompt count is unknown.
    pub fn total_tokens(&self) -> Option<u64> {
        self.prompt_tokens
            .map(|p| p.saturating_add(self.completion_tokens))
    }

    /// Cache writes of both lifetimes.
    pub fn cache_write_tokens(&self) -> u64 {
        self.cache_write_5m_tokens
            .saturating_add(self.cache_write_1h_tokens)
    }

    /// Input tokens neither read from nor written to a cache; `None` when unknown.
    pub fn uncached_input_tokens(&self) -> Option<u64> {
        self.prompt_tokens.map(|p| {
            p.saturating_sub(self.cached_read_tokens)
                .saturating_sub(self.cache_write_tokens())
        })
    }

    /// Checks that cache reads and writes fit in `prompt_tokens` (when known) and reasoning in
    /// `completion_tokens`. Errors are [`ErrorKind::InvalidArgument`](crate::ErrorKind).
    pub fn validate(&self) -> Result<()> {
        let cached = self
            .cached_read_tokens
            .checked_add(self.cache_write_5m_tokens)
            .and_then(|n| n.checked_add(self.cache_write_1h_tokens))
            .ok_or_else(|| Error::invalid_argument("usage: token counts overflow"))?;
        if let Some(prompt) = self.prompt_tokens {
            if cached > prompt {
                return Err(Error::invalid_argument(format!(
                    "usage: cache reads and writes ({cached}) exceed prompt_tokens ({prompt})"
                )));
            }
        }
        if self.reasoning_tokens > self.completion_tokens {
            return Err(Error::invalid_argument(format!(
                "usage: reasoning_tokens ({}) exceed completion_tokens ({})",
                self.reasoning_tokens, self.completion_tokens
            )));
        }
        Ok(())
    }
}

//! `provider:model` references.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A concrete model at a provider, written `provider:model` (for example `openai:gpt-4o-mini`).
///
/// The text is split at the first `:`, so model names may themselves contain colons
/// (`ollama:llama3.2:3b` is provider `ollama`, model `llama3.2:3b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    /// Provider name, for example `openai`, `anthropic`, `google`, `ollama`.
    pub provider: String,
    /// The provider's model name, for example `gpt-4o-mini`.
    pub model: String,
}

impl ModelRef {
    /// A reference from its two parts (not validated).
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        ModelRef {
            provider: provider.into(),
            model: model.into(),
        }
    }

    /// Parses `provider:model`; both parts must be non-empty and free of surrounding spaces.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || {
            Error::invalid_argument(format!(
                "model reference {text:?} is not of the form \"provider:model\""
            ))
        };
        let (provider, model) = text.split_once(':').ok_or_else(invalid)?;
        let clean = |s: &str| !s.is_empty() && s.trim() == s;
        if !clean(provider) || !clean(model) {
            return Err(invalid());
        }
        Ok(ModelRef::new(provider, model))
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

impl FromStr for ModelRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ModelRef::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_splits_at_first_colon() {
        let r: ModelRef = "ollama:llama3.2:3b".parse().unwrap();
        assert_eq!(r.provider, "ollama");
        assert_eq!(r.model, "llama3.2:3b");
        assert_eq!(r.to_string(), "ollama:llama3.2:3b");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["gpt-4o", ":gpt-4o", "openai:", " openai:gpt", "openai: gpt"] {
            assert!(ModelRef::parse(bad).is_err(), "{bad}");
        }
    }
}

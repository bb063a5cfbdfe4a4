//! Whether a call could be priced.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether a call's cost is known. Serialized as the snake_case names below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostStatus {
    /// `priced`: every token was priced from the registry.
    Priced,
    /// `no_usage`: the provider reported no token usage, so nothing could be priced.
    NoUsage,
    /// `model_not_in_registry`: the registry has no entry for the model (nor an alias of it).
    ModelNotInRegistry,
    /// `no_pricing`: the registry has the model but no price for some of the tokens used.
    NoPricing,
    /// `partial_usage`: some counts are unknown (Ollama omitted `prompt_eval_count`) and the
    /// missing tokens have a non-zero price; the costs cover only the known counts.
    PartialUsage,
    /// `estimated`: the host stopped a streamed call early and the provider had not reported
    /// its final usage, so the token counts are estimates: the counts the provider had
    /// reported so far where it gave them (e.g. Anthropic's prompt count), else the offline
    /// mock's estimator ([`crate::providers::mock`]) applied to the prompt and to the text
    /// received. The costs are those of the estimated counts. Strict cost mode refuses such a
    /// call at its end (`LLMRING_COST_UNKNOWN`, no receipt): the price could not be known
    /// before the host chose to stop.
    Estimated,
}

impl CostStatus {
    /// The snake_case name (`priced`, `no_usage`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CostStatus::Priced => "priced",
            CostStatus::NoUsage => "no_usage",
            CostStatus::ModelNotInRegistry => "model_not_in_registry",
            CostStatus::NoPricing => "no_pricing",
            CostStatus::PartialUsage => "partial_usage",
            CostStatus::Estimated => "estimated",
        }
    }

    /// True only for [`CostStatus::Priced`]; strict cost mode rejects every other status.
    pub fn is_priced(self) -> bool {
        self == CostStatus::Priced
    }
}

impl fmt::Display for CostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

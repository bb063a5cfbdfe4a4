//! Cost arithmetic in exact decimals.
//!
//! - [`Usage`]: normalized token counts with documented inclusions (nothing counted twice);
//!   [`normalize_usage`] and the per-provider normalizers read each provider's raw usage JSON.
//! - [`calculate_cost`] / [`price_usage`]: a [`Cost`] with `input_cost`, `output_cost`,
//!   `total_cost` and a per-component breakdown as [`Decimal`](rust_decimal::Decimal)s, plus a
//!   [`CostStatus`]. No floating point is involved anywhere; see [`price`] for the rules.
//! - [`usage_json`]: the response's `usage` object, amounts as exact JSON numbers ([`json`]).

pub mod json;
mod normalize;
pub mod price;
mod report;
mod status;
mod usage;

pub use normalize::{anthropic_usage, google_usage, normalize_usage, ollama_usage, openai_usage};
pub use price::{Component, Cost, CostLine, calculate_cost, price_usage};
pub use report::{money_json, usage_json};
pub use status::CostStatus;
pub use usage::Usage;

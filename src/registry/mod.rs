//! The pricing registry, in the llmring registry format.
//!
//! A registry is a set of `{provider}/models.json` files, each a JSON object whose `models`
//! object is keyed `provider:model`. The fields used are the `dollars_per_million_tokens_*`
//! prices (`input`, `output`, `cached_input`, `cache_read`, `cache_write_5m`, `cache_write_1h`,
//! `output_thinking`, `input_long_context`, `output_long_context`),
//! `long_context_threshold_tokens`, `max_input_tokens`, `max_output_tokens`, `model_aliases`
//! and `display_name`; everything else is ignored. Prices are kept as exact [`Decimal`]s
//! (`0.075` is exactly 0.075).
//!
//! Sources:
//! - [`Registry::bundled`]: an offline snapshot embedded in the library from
//!   `src/registry/bundled/{openai,anthropic,google,ollama}/models.json`. It holds the
//!   providers' public list prices (standard tier, text tokens) as known when it was written,
//!   on **2026-12-03**, for a small set of models: every model of the built-in lockfile and
//!   those of the reference document's price table (gpt-4o, gpt-4o-mini, claude-3-5-sonnet,
//!   claude-3-5-haiku, gemini-1.5-pro, gemini-1.5-flash). That table's numbers are examples;
//!   the snapshot has the providers' own prices (for instance gpt-4o is $2.50/$10.00, and
//!   claude-3-5-haiku $0.80/$4.00). Ollama models run locally and cost 0. Prices change: use
//!   a directory or the URL source for current ones.
//! - [`Registry::from_dir`]: a local directory with the URL's layout.
//! - A base URL with an on-disk cache (fetched by the client): [`cache`] has the layout and
//!   the freshness rule; the fetched texts go to [`Registry::from_provider_files`].
//!
//! [`Decimal`]: rust_decimal::Decimal

mod bundled;
pub mod cache;
mod catalog;
mod dir;
mod model;
mod parse;

pub use bundled::BUNDLED_FILES;
pub use cache::{CacheState, DEFAULT_REGISTRY_URL, PROVIDERS};
pub use catalog::Registry;
pub use model::{Limits, ModelInfo, Pricing};
pub use parse::parse_provider_file;

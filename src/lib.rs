//! llmring: cost-accountable LLM calls with signed receipts, for hosts in any language.
//!
//! Layers, from the bottom: [`receipt`] (pure receipt engine), [`cost`] (exact money),
//! [`keyfile`] (key files on disk), and [`ffi`] (the C ABI, a thin shell over the rest).
//! See `docs/architecture.md`.

pub mod budget;
pub mod chat;
pub mod client;
pub mod cost;
pub mod error;
pub mod export;
pub mod ffi;
pub mod keyfile;
pub mod lockfile;
pub mod providers;
pub mod receipt;
pub mod registry;
pub mod server;
pub mod stats;
pub mod store;

pub use error::{Error, ErrorKind, Result};

/// The library version (Cargo.toml's), also in the C header as `LLMRING_VERSION`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

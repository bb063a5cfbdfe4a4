//! Cost arithmetic in exact decimals.

pub mod json;

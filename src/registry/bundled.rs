//! The offline snapshot embedded in the library.

use super::catalog::Registry;

/// The bundled files: `(provider, text of src/registry/bundled/{provider}/models.json)`.
pub const BUNDLED_FILES: [(&str, &str); 4] = [
    ("openai", include_str!("bundled/openai/models.json")),
    ("anthropic", include_str!("bundled/anthropic/models.json")),
    ("google", include_str!("bundled/google/models.json")),
    ("ollama", include_str!("bundled/ollama/models.json")),
];

impl Registry {
    /// The bundled offline snapshot (see the module documentation for its date and scope).
    pub fn bundled() -> Registry {
        Registry::from_provider_files("bundled", BUNDLED_FILES)
            .expect("the bundled registry parses (checked by tests)")
    }
}

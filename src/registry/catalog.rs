//! The registry: models by `provider:model`, with alias lookup.

use std::collections::{BTreeMap, HashMap};

use super::model::ModelInfo;
use super::parse::parse_provider_file;
use crate::error::Result;
use crate::lockfile::ModelRef;

/// Pricing and limits of the models of one or more providers.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    models: BTreeMap<ModelRef, ModelInfo>,
    aliases: HashMap<ModelRef, ModelRef>,
    source: String,
}

impl Registry {
    /// Builds a registry from `(provider, text of {provider}/models.json)` pairs. `source`
    /// describes where they came from (a directory, a URL, `bundled`); files are named
    /// `{source}/{provider}/models.json` in errors. This is the constructor every source
    /// (bundled, directory, URL with cache) ends in.
    pub fn from_provider_files<P, T>(
        source: &str,
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Result<Registry>
    where
        P: AsRef<str>,
        T: AsRef<str>,
    {
        let mut registry = Registry {
            source: source.to_owned(),
            ..Registry::default()
        };
        for (provider, text) in files {
            let provider = provider.as_ref();
            let origin = format!("{}/{provider}/models.json", source.trim_end_matches('/'));
            for info in parse_provider_file(provider, &origin, text.as_ref())? {
                registry.models.insert(info.id.clone(), info);
            }
        }
        registry.index_aliases();
        Ok(registry)
    }

    fn index_aliases(&mut self) {
        self.aliases.clear();
        for info in self.models.values() {
            for alias in &info.aliases {
                let name = alias
                    .strip_prefix(&format!("{}:", info.id.provider))
                    .unwrap_or(alias);
                let key = ModelRef::new(info.id.provider.clone(), name);
                if !self.models.contains_key(&key) {
                    self.aliases.entry(key).or_insert_with(|| info.id.clone());
                }
            }
        }
    }

    /// The model's entry, found by its key or, failing that, by one of its `model_aliases`
    /// at the same provider (`anthropic:claude-opus-4-1` finds
    /// `anthropic:claude-opus-4-1-20250805`).
    pub fn model(&self, model: &ModelRef) -> Option<&ModelInfo> {
        self.models
            .get(model)
            .or_else(|| self.aliases.get(model).and_then(|key| self.models.get(key)))
    }

    /// All entries, sorted by `provider:model`.
    pub fn models(&self) -> impl Iterator<Item = &ModelInfo> {
        self.models.values()
    }

    /// Number of entries (aliases not counted).
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// True when the registry has no entries.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Where the registry came from (`bundled`, a directory, a URL).
    pub fn source(&self) -> &str {
        &self.source
    }
}

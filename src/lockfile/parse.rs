//! The lockfile data model and its TOML parser.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::model_ref::ModelRef;
use crate::error::{Error, Result};

/// Where a lockfile came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockfileSource {
    /// A file on disk, as named when it was read.
    File(PathBuf),
    /// The defaults embedded in the library (`src/lockfile/default.lock`).
    BuiltIn,
}

impl fmt::Display for LockfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockfileSource::File(path) => write!(f, "{}", path.display()),
            LockfileSource::BuiltIn => f.write_str("<built-in defaults>"),
        }
    }
}

/// One alias of a profile with its ordered fallback list (first model tried first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The alias name, for example `fast`.
    pub alias: String,
    /// Candidate models in the order they are tried; never empty.
    pub models: Vec<ModelRef>,
}

/// A named set of alias bindings (for example `default`, `dev`, `prod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile's name (its key under `[profiles]`).
    pub name: String,
    /// Bindings in file order; aliases are unique within a profile.
    pub bindings: Vec<Binding>,
    /// Budgets written under `[[profiles.NAME.budgets]]`, scoped to this profile.
    pub budgets: Vec<crate::budget::Budget>,
}

impl Profile {
    /// The binding of `alias`, if the profile has one.
    pub fn binding(&self, alias: &str) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.alias == alias)
    }

    /// The profile's alias names, in file order.
    pub fn aliases(&self) -> Vec<&str> {
        self.bindings.iter().map(|b| b.alias.as_str()).collect()
    }
}

/// A parsed `llmring.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// The profile used when no other is selected (`default_profile`, default `"default"`).
    pub default_profile: String,
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
    /// `sha256:` + lowercase hex SHA-256 of the bytes parsed (what `sha256sum` prints).
    pub digest: String,
    /// Where the text came from.
    pub source: LockfileSource,
}

/// `sha256:` + lowercase hex SHA-256 of `bytes`: the receipt's `lock_digest`.
pub fn lock_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[derive(Deserialize)]
struct RawLockfile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Deserialize)]
struct RawProfile {
    #[serde(default)]
    bindings: Vec<RawBinding>,
    #[serde(default)]
    budgets: Vec<toml::Value>,
}

#[derive(Deserialize)]
struct RawBinding {
    alias: Option<String>,
    models: Option<Vec<String>>,
    provider: Option<String>,
    model: Option<String>,
}

impl Lockfile {
    /// Parses lockfile bytes (UTF-8 TOML). Keys the reference system writes but this library
    /// does not use (`version`, `created_at`, `metadata`, `registry_versions`, `constraints`,
    /// ...) are ignored. Errors are [`ErrorKind::Config`](crate::ErrorKind::Config) and name
    /// the source.
    pub fn parse(bytes: &[u8], source: LockfileSource) -> Result<Lockfile> {
        let fail = |msg: String| Error::config(format!("lockfile {source}: {msg}"));
        let text = std::str::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8: {e}")))?;
        let raw: RawLockfile =
            toml::from_str(text).map_err(|e| fail(format!("invalid TOML: {e}")))?;
        let default_profile = raw.default_profile.unwrap_or_else(|| "default".to_owned());
        if default_profile.trim().is_empty() {
            return Err(fail("default_profile is empty".into()));
        }
        let mut profiles = BTreeMap::new();
        for (name, raw_profile) in raw.profiles {
            let profile = parse_profile(&name, raw_profile).map_err(fail)?;
            profiles.insert(name, profile);
        }
        Ok(Lockfile {
            default_profile,
            profiles,
            digest: lock_digest(bytes),
            source,
        })
    }

    /// The profile called `name`, or a config error listing the profiles that exist.
    pub fn profile(&self, name: &str) -> Result<&Profile> {
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            Error::config(format!(
                "profile {name:?} is not in lockfile {}; profiles: [{}]",
                self.source,
                known.join(", ")
            ))
            .with("profile", name)
        })
    }
}

fn parse_profile(name: &str, raw: RawProfile) -> std::result::Result<Profile, String> {
    let mut bindings: Vec<Binding> = Vec::with_capacity(raw.bindings.len());
    for (index, raw_binding) in raw.bindings.into_iter().enumerate() {
        let binding = parse_binding(raw_binding)
            .map_err(|msg| format!("profile {name:?}, binding #{}: {msg}", index + 1))?;
        if bindings.iter().any(|b| b.alias == binding.alias) {
            return Err(format!(
                "profile {name:?} binds alias {:?} more than once",
                binding.alias
            ));
        }
        bindings.push(binding);
    }
    let budgets = raw
        .budgets
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let value = serde_json::to_value(b).map_err(|e| e.to_string())?;
            crate::budget::Budget::from_value(value, Some(name), i)
                .map_err(|e| format!("profile {name:?}: {}", e.message))
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(Profile {
        name: name.to_owned(),
        bindings,
        budgets,
    })
}

fn parse_binding(raw: RawBinding) -> std::result::Result<Binding, String> {
    let alias = raw.alias.unwrap_or_default();
    if alias.trim().is_empty() {
        return Err("missing or empty `alias`".into());
    }
    if alias.trim() != alias {
        return Err(format!(
            "alias {alias:?} has leading or trailing white space (requests name aliases \
             trimmed, so it could never be used)"
        ));
    }
    if alias.contains(':') {
        return Err(format!(
            "alias {alias:?} contains ':' (that form names a model directly)"
        ));
    }
    let texts: Vec<String> = match (raw.models, raw.provider, raw.model) {
        (Some(models), _, _) => models,
        (None, Some(provider), Some(model)) => vec![format!("{provider}:{model}")],
        _ => {
            return Err(format!(
                "alias {alias:?} has no `models` list (nor the older `provider` + `model` pair)"
            ));
        }
    };
    if texts.is_empty() {
        return Err(format!("alias {alias:?} has an empty `models` list"));
    }
    let models = texts
        .iter()
        .map(|t| {
            ModelRef::parse(t).map_err(|_| {
                format!("alias {alias:?}: model {t:?} is not of the form \"provider:model\"")
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Binding { alias, models })
}

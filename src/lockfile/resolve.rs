//! Profile selection and alias resolution.

use super::discover::LockfileEnv;
use super::model_ref::ModelRef;
use super::parse::Lockfile;
use crate::error::{Error, Result};

/// The outcome of resolving a model string: what to try, in order, and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The alias recorded in receipts: the alias name, or the `provider:model` string itself
    /// when the request named a model directly (as the reference system records it).
    pub alias: String,
    /// The profile the resolution used.
    pub profile: String,
    /// Candidate models in fallback order; never empty.
    pub candidates: Vec<ModelRef>,
    /// True when the request named a `provider:model` directly, bypassing aliases.
    pub direct: bool,
}

impl Lockfile {
    /// The profile to use: the request's, else the configuration's, else `LLMRING_PROFILE`
    /// (`env.profile`), else the lockfile's `default_profile`. Empty values are skipped.
    pub fn select_profile<'a>(
        &'a self,
        request: Option<&'a str>,
        config: Option<&'a str>,
        env: &'a LockfileEnv,
    ) -> &'a str {
        [request, config, env.profile.as_deref()]
            .into_iter()
            .flatten()
            .find(|p| !p.trim().is_empty())
            .unwrap_or(&self.default_profile)
    }

    /// Resolves `model` in `profile`. A `provider:model` string bypasses aliases and does not
    /// require the profile to exist; an alias must be bound in an existing profile. Unknown
    /// aliases and profiles are config errors that list what exists.
    pub fn resolve(&self, model: &str, profile: &str) -> Result<Resolution> {
        let model = model.trim();
        if model.is_empty() {
            return Err(Error::invalid_argument(
                "model is empty: give an alias or provider:model",
            ));
        }
        if model.contains(':') {
            let direct = ModelRef::parse(model)?;
            return Ok(Resolution {
                alias: model.to_owned(),
                profile: profile.to_owned(),
                candidates: vec![direct],
                direct: true,
            });
        }
        let bound = self.profile(profile)?;
        let binding = bound.binding(model).ok_or_else(|| {
            Error::config(format!(
                "alias {model:?} is not bound in profile {profile:?} of lockfile {}; aliases: [{}]",
                self.source,
                bound.aliases().join(", ")
            ))
            .with("alias", model)
            .with("profile", profile)
        })?;
        Ok(Resolution {
            alias: binding.alias.clone(),
            profile: profile.to_owned(),
            candidates: binding.models.clone(),
            direct: false,
        })
    }
}

//! Finding the lockfile: configured path, `LLMRING_LOCKFILE_PATH`, `./llmring.lock`, built-in.

use std::path::{Path, PathBuf};

use super::parse::{Lockfile, LockfileSource};
use crate::error::{Error, Result};

/// The built-in lockfile text, embedded from `src/lockfile/default.lock`.
pub const BUILT_IN_LOCKFILE: &str = include_str!("default.lock");

/// The environment lockfile discovery and profile selection read, passed in explicitly so
/// that callers (and tests) decide where it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockfileEnv {
    /// `LLMRING_LOCKFILE_PATH`, when set and non-empty.
    pub lockfile_path: Option<PathBuf>,
    /// `LLMRING_PROFILE`, when set and non-empty.
    pub profile: Option<String>,
    /// Directory searched for `llmring.lock`; `None` means the process's current directory.
    pub current_dir: Option<PathBuf>,
}

impl LockfileEnv {
    /// Reads `LLMRING_LOCKFILE_PATH` and `LLMRING_PROFILE` from the process environment
    /// (empty values count as unset); `current_dir` is left `None`.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        LockfileEnv {
            lockfile_path: var("LLMRING_LOCKFILE_PATH").map(PathBuf::from),
            profile: var("LLMRING_PROFILE"),
            current_dir: None,
        }
    }
}

impl Lockfile {
    /// Reads and parses the lockfile at `path`.
    pub fn from_path(path: &Path) -> Result<Lockfile> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::config(format!("lockfile {} cannot be read: {e}", path.display()))
                .with("path", path.display().to_string())
        })?;
        Lockfile::parse(&bytes, LockfileSource::File(path.to_owned()))
    }

    /// The built-in defaults: [`BUILT_IN_LOCKFILE`] parsed by the same parser, with the
    /// SHA-256 of that embedded text as digest.
    pub fn built_in() -> Lockfile {
        Lockfile::parse(BUILT_IN_LOCKFILE.as_bytes(), LockfileSource::BuiltIn)
            .expect("the built-in lockfile parses (checked by tests)")
    }

    /// Finds and parses the lockfile: `configured`, else `env.lockfile_path`
    /// (`LLMRING_LOCKFILE_PATH`), else `llmring.lock` in `env.current_dir`, else the
    /// built-in defaults. A configured or environment path that cannot be read is an error;
    /// only the `./llmring.lock` step falls through when the file does not exist.
    pub fn discover(configured: Option<&Path>, env: &LockfileEnv) -> Result<Lockfile> {
        if let Some(path) = configured {
            return Lockfile::from_path(path);
        }
        if let Some(path) = &env.lockfile_path {
            return Lockfile::from_path(path)
                .map_err(|e| Error::config(format!("{} (from LLMRING_LOCKFILE_PATH)", e.message)));
        }
        let local = match &env.current_dir {
            Some(dir) => dir.join("llmring.lock"),
            None => PathBuf::from("llmring.lock"),
        };
        if local.is_file() {
            return Lockfile::from_path(&local);
        }
        Ok(Lockfile::built_in())
    }
}

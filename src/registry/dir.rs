//! A registry read from a local directory with the URL's layout.

use std::path::Path;

use super::cache::PROVIDERS;
use super::catalog::Registry;
use crate::error::{Error, Result};

impl Registry {
    /// Reads `DIR/{provider}/models.json` for each of [`PROVIDERS`]. A missing provider file
    /// means that provider has no models; a missing directory, an unreadable or malformed
    /// file is a config error naming the path.
    pub fn from_dir(dir: &Path) -> Result<Registry> {
        if !dir.is_dir() {
            return Err(Error::config(format!(
                "registry directory {} does not exist",
                dir.display()
            )));
        }
        let mut files = Vec::new();
        for provider in PROVIDERS {
            let path = dir.join(provider).join("models.json");
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((provider, text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::config(format!(
                        "registry file {} cannot be read: {e}",
                        path.display()
                    )));
                }
            }
        }
        Registry::from_provider_files(&dir.display().to_string(), files)
    }
}

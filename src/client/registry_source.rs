//! Loading the pricing registry the configuration names: bundled, a directory, or a URL
//! with an on-disk cache (the layout and freshness rule are in [`crate::registry::cache`]).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::config::RegistryConfig;
use crate::error::{Error, Result};
use crate::registry::{Registry, cache};

pub async fn load(config: &RegistryConfig, http: &reqwest::Client) -> Result<Registry> {
    if let Some(dir) = &config.dir {
        return Registry::from_dir(dir);
    }
    let Some(url) = &config.url else {
        return Ok(Registry::bundled());
    };
    let cache_dir = match &config.cache_dir {
        Some(dir) => dir.clone(),
        None => dirs::cache_dir()
            .map(|d| d.join("llmring").join("registry"))
            .unwrap_or_else(|| PathBuf::from(".llmring-registry-cache")),
    };
    let max_age = Duration::from_secs(config.max_age_hours.unwrap_or(24) * 3600);
    let mut files = Vec::new();
    for provider in cache::PROVIDERS {
        if let Some(text) = provider_file(http, url, &cache_dir, provider, max_age).await? {
            files.push((provider, text));
        }
    }
    Registry::from_provider_files(url, files)
}

/// One provider's file: fresh cache, else fetched (and cached), else stale cache. A provider
/// the registry does not have (404) has no models, cached as an empty file of models so it
/// is not asked for again until the cache is stale.
async fn provider_file(
    http: &reqwest::Client,
    url: &str,
    cache_dir: &std::path::Path,
    provider: &str,
    max_age: Duration,
) -> Result<Option<String>> {
    let path = cache::cache_file_path(cache_dir, provider);
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let state = cache::cache_state(modified, SystemTime::now(), max_age);
    if !state.needs_fetch() {
        return read_cache(&path).map(Some);
    }
    let file_url = cache::provider_file_url(url, provider);
    match fetch(http, &file_url).await {
        Ok(fetched) => {
            let text = fetched.unwrap_or_else(|| NO_MODELS.to_owned());
            // A failed cache write only costs a fetch next time.
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(&path, &text);
            Ok(Some(text))
        }
        Err(e) if state == cache::CacheState::Stale => read_cache(&path).map(Some).map_err(|_| e),
        Err(e) => Err(e),
    }
}

/// What a provider the registry does not have is cached as.
const NO_MODELS: &str = "{\"models\": {}}\n";

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Option<String>> {
    let fail = |what: String| Error::config(format!("registry {url}: {what}"));
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status().as_u16())));
    }
    response
        .text()
        .await
        .map(Some)
        .map_err(|e| fail(e.to_string()))
}

fn read_cache(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("registry cache {}: {e}", path.display())))
}

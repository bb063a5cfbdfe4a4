//! The URL source's layout and on-disk cache, as pure functions (the HTTP fetch lives in the
//! client). The registry at a base URL has the same layout as a registry directory:
//! `{base}/{provider}/models.json`. The cache directory has that layout too
//! (`{cache_dir}/{provider}/models.json`), so a cache can be read with
//! [`Registry::from_dir`](super::Registry::from_dir).
//!
//! Rule per provider file: when the cached copy is [`CacheState::Fresh`], use it; otherwise
//! fetch, and on success write the cache and use the fetched text; when the fetch fails, use a
//! [`CacheState::Stale`] copy if there is one, else fail.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The providers a registry source is read for, in this order.
pub const PROVIDERS: [&str; 4] = ["openai", "anthropic", "google", "ollama"];

/// The public llmring registry's base URL.
pub const DEFAULT_REGISTRY_URL: &str = "https://llmring.github.io/registry/";

/// `{base_url}/{provider}/models.json` (one slash between the parts).
pub fn provider_file_url(base_url: &str, provider: &str) -> String {
    format!("{}/{provider}/models.json", base_url.trim_end_matches('/'))
}

/// `{cache_dir}/{provider}/models.json`.
pub fn cache_file_path(cache_dir: &Path, provider: &str) -> PathBuf {
    cache_dir.join(provider).join("models.json")
}

/// The state of one cached provider file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheState {
    /// No cached copy.
    Missing,
    /// Written no longer than `max_age` ago: use it without fetching.
    Fresh,
    /// Older than `max_age` (or written in the future, a clock problem): fetch, and use this
    /// copy only if the fetch fails.
    Stale,
}

impl CacheState {
    /// True when the file must be fetched before use.
    pub fn needs_fetch(self) -> bool {
        self != CacheState::Fresh
    }
}

/// The state of a cached file last written at `modified` (`None`: no file), judged at `now`.
/// A copy exactly `max_age` old is still fresh; `max_age` zero makes every copy stale.
pub fn cache_state(modified: Option<SystemTime>, now: SystemTime, max_age: Duration) -> CacheState {
    let Some(modified) = modified else {
        return CacheState::Missing;
    };
    match now.duration_since(modified) {
        Ok(age) if !max_age.is_zero() && age <= max_age => CacheState::Fresh,
        _ => CacheState::Stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            provider_file_url("https://llmring.github.io/registry/", "openai"),
            "https://llmring.github.io/registry/openai/models.json"
        );
        assert_eq!(
            provider_file_url("http://127.0.0.1:9/r", "google"),
            "http://127.0.0.1:9/r/google/models.json"
        );
        assert_eq!(
            cache_file_path(Path::new("/c"), "anthropic"),
            PathBuf::from("/c/anthropic/models.json")
        );
    }

    #[test]
    fn freshness() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = Duration::from_secs(3600);
        assert_eq!(cache_state(None, now, hour), CacheState::Missing);
        assert_eq!(cache_state(Some(now - hour), now, hour), CacheState::Fresh);
        let older = now - hour - Duration::from_secs(1);
        assert_eq!(cache_state(Some(older), now, hour), CacheState::Stale);
        assert_eq!(cache_state(Some(now + hour), now, hour), CacheState::Stale);
        assert_eq!(
            cache_state(Some(now), now, Duration::ZERO),
            CacheState::Stale
        );
        assert!(CacheState::Missing.needs_fetch());
        assert!(!CacheState::Fresh.needs_fetch());
    }
}

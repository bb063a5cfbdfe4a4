//! The client configuration: the JSON a host passes to `llmring_new` (and the CLI's
//! `--config`), with defaults from the environment. Unknown keys are an error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::providers::{Endpoint, Provider, SecretString};

/// `{"lockfile", "profile", "registry": {...}, "providers": {...}, "timeout_ms",
/// "max_retries", "retry_backoff_ms", "max_response_bytes", "strict_cost", "signing_key" |
/// "signing_key_file", "store", "server"}`; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path of `llmring.lock` (else LLMRING_LOCKFILE_PATH, ./llmring.lock, built-in defaults).
    pub lockfile: Option<PathBuf>,
    /// Profile to use when a request names none (else LLMRING_PROFILE, the lockfile's default).
    pub profile: Option<String>,
    #[serde(default)]
    pub registry: RegistryConfig,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Per-request timeout (default 60 000 ms).
    pub timeout_ms: Option<u64>,
    /// Retries per model for timeouts, 429, 5xx and connection errors (default 2).
    pub max_retries: Option<u32>,
    /// First backoff delay, doubled per retry, at most 8 s (default 500 ms).
    pub retry_backoff_ms: Option<u64>,
    /// The largest provider response body read, whole or streamed (default 32 MiB); a larger
    /// one is `LLMRING_PROVIDER` with `limit_bytes`.
    pub max_response_bytes: Option<u64>,
    /// Refuse calls that cannot be priced (LLMRING_COST_UNKNOWN) instead of a zero cost.
    #[serde(default)]
    pub strict_cost: bool,
    /// A private key (any accepted text form) to sign receipts with.
    pub signing_key: Option<SecretString>,
    /// A private key file (mode 0600) to sign receipts with.
    pub signing_key_file: Option<PathBuf>,
    /// Spending limits (see [`crate::budget`]); profiles of the lockfile may add more.
    pub budgets: Option<serde_json::Value>,
    /// Under a budget, allow calls whose worst-case cost cannot be known (model not priced,
    /// no max_tokens and no known maximum): they reserve nothing.
    #[serde(default)]
    pub budget_allow_unpriced: bool,
    /// The receipt store: a file path, or `":memory:"`. Default: `LLMRING_STORE`, else
    /// `<user data dir>/llmring/receipts.jsonl`.
    pub store: Option<String>,
    /// Server mode (see [`crate::server`]): reports to an llmring server.
    pub server: Option<crate::server::config::ServerConfig>,
}

/// Where prices come from: the bundled snapshot (default), a directory, or a URL.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// A directory laid out like the registry URL (`DIR/openai/models.json`, ...).
    pub dir: Option<PathBuf>,
    /// A registry base URL; files are cached in `cache_dir`.
    pub url: Option<String>,
    /// Cache directory for `url` (default: the user's cache directory + `llmring/registry`).
    pub cache_dir: Option<PathBuf>,
    /// How old a cached file may be before it is fetched again (default 24).
    pub max_age_hours: Option<u64>,
}

/// One provider's endpoint settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub api_key: Option<SecretString>,
    pub base_url: Option<String>,
}

impl Config {
    /// Reads the configuration JSON; NULL (`None`), empty text and `{}` give the defaults.
    pub fn from_json(text: Option<&str>) -> Result<Config> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Config::default());
        };
        let value = crate::receipt::json::parse_strict(text)
            .map_err(|e| Error::invalid_json(format!("configuration: {}", e.message)))?;
        let config: Config = serde_json::from_value(value)
            .map_err(|e| Error::config(format!("configuration: {e}")))?;
        for name in config.providers.keys() {
            Provider::from_name(name)
                .map_err(|e| Error::config(format!("configuration: {}", e.message)))?;
        }
        if config.signing_key.is_some() && config.signing_key_file.is_some() {
            return Err(Error::config(
                "configuration: give signing_key or signing_key_file, not both",
            ));
        }
        if config.registry.dir.is_some() && config.registry.url.is_some() {
            return Err(Error::config(
                "configuration: registry takes dir or url, not both",
            ));
        }
        if config.max_response_bytes == Some(0) {
            return Err(Error::config(
                "configuration: max_response_bytes must be positive",
            ));
        }
        if config.store.as_deref() == Some("") {
            return Err(Error::config("configuration: store is an empty path"));
        }
        Ok(config)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.unwrap_or(60_000))
    }

    pub fn max_retries(&self) -> u32 {
        self.max_retries.unwrap_or(2)
    }

    /// The store spec: configured, else `LLMRING_STORE`, else `None` (the default file).
    pub fn store_spec(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.store.clone().or_else(|| env("LLMRING_STORE"))
    }

    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
            .map_or(super::transport::MAX_BODY_BYTES, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            })
    }

    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms.unwrap_or(500))
    }

    /// The endpoint of `provider`: configured values, else the SDK environment variables,
    /// else the provider's default base URL and no key.
    pub fn endpoint(&self, provider: Provider, env: &dyn Fn(&str) -> Option<String>) -> Endpoint {
        let configured = self.providers.get(provider.name());
        let base_url = configured
            .and_then(|c| c.base_url.clone())
            .or_else(|| provider.base_url_env().and_then(env))
            .unwrap_or_else(|| provider.default_base_url().to_owned());
        let api_key = configured
            .and_then(|c| c.api_key.as_ref().map(|k| k.expose().to_owned()))
            .or_else(|| provider.api_key_env().iter().find_map(|name| env(name)));
        Endpoint::new(base_url, api_key.filter(|k| !k.is_empty()))
    }
}

/// Reads a process environment variable (empty counts as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        assert!(Config::from_json(None).unwrap().providers.is_empty());
        assert!(Config::from_json(Some("{}")).is_ok());
        let err = Config::from_json(Some(r#"{"timeout":5}"#)).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Config);
        assert!(err.message.contains("timeout"), "{err}");
        let err = Config::from_json(Some(r#"{"providers":{"openai":{"key":"x"}}}"#)).unwrap_err();
        assert!(err.message.contains("key"), "{err}");
        assert!(Config::from_json(Some(r#"{"providers":{"mistral":{}}}"#)).is_err());
        assert!(Config::from_json(Some(r#"{"store":""}"#)).is_err());
        assert_eq!(
            Config::from_json(Some("{")).unwrap_err().kind,
            crate::ErrorKind::InvalidJson
        );
    }

    #[test]
    fn endpoint_precedence() {
        let config = Config::from_json(Some(
            r#"{"providers":{"openai":{"base_url":"http://127.0.0.1:9/v1"}}}"#,
        ))
        .unwrap();
        let env = |name: &str| match name {
            "OPENAI_API_KEY" => Some("sk-env".to_owned()),
            "OPENAI_BASE_URL" => Some("http://env/v1".to_owned()),
            "ANTHROPIC_BASE_URL" => Some("http://anthropic-env".to_owned()),
            _ => None,
        };
        let openai = config.endpoint(Provider::OpenAi, &env);
        assert_eq!(openai.base_url, "http://127.0.0.1:9/v1");
        assert_eq!(openai.api_key.as_ref().unwrap().expose(), "sk-env");
        let anthropic = config.endpoint(Provider::Anthropic, &env);
        assert_eq!(anthropic.base_url, "http://anthropic-env");
        assert!(anthropic.api_key.is_none());
        let ollama = config.endpoint(Provider::Ollama, &|_| None);
        assert_eq!(ollama.base_url, "http://localhost:11434");
    }
}

//! The `server` section of the client configuration, with LLMRING_SERVER_URL and
//! LLMRING_API_KEY as defaults.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::providers::SecretString;

/// `"server": {"url", "api_key", "timeout_ms", "conversations", "retry_backoff_ms",
/// "max_backoff_ms", "origin"}`; every key optional (the URL may come from the environment).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL of the llmring server (else LLMRING_SERVER_URL). HTTPS, except on loopback.
    pub url: Option<String>,
    /// The project's API key, sent as `X-API-Key` (else LLMRING_API_KEY).
    pub api_key: Option<SecretString>,
    /// Per-request timeout (default 10 000 ms).
    pub timeout_ms: Option<u64>,
    /// Also log each call's messages and response (`POST /api/v1/conversations/log`).
    #[serde(default)]
    pub conversations: bool,
    /// First delay before sending again after a failure, doubled per failure (default 250 ms).
    pub retry_backoff_ms: Option<u64>,
    /// The longest delay between attempts (default 30 000 ms).
    pub max_backoff_ms: Option<u64>,
    /// The `origin` field of usage reports (default `"llmring-rs"`).
    pub origin: Option<String>,
}

/// A validated server configuration: where, with which key, how patiently.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The base URL without a trailing `/`.
    pub url: String,
    pub api_key: Option<SecretString>,
    pub timeout: Duration,
    pub conversations: bool,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub origin: String,
}

impl Settings {
    /// The settings in force: `None` when no URL is configured nor in the environment.
    /// Errors (`LLMRING_CONFIG`): a URL that cannot be read, or plain HTTP to a host that is
    /// not loopback.
    pub fn resolve(
        config: Option<&ServerConfig>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Settings>> {
        let default = ServerConfig::default();
        let config = config.unwrap_or(&default);
        let Some(url) = config.url.clone().or_else(|| env("LLMRING_SERVER_URL")) else {
            return Ok(None);
        };
        let url = check_url(&url)?;
        let api_key = config
            .api_key
            .clone()
            .or_else(|| env("LLMRING_API_KEY").map(SecretString::new))
            .filter(|k| !k.expose().is_empty());
        Ok(Some(Settings {
            url,
            api_key,
            timeout: Duration::from_millis(config.timeout_ms.unwrap_or(10_000)),
            conversations: config.conversations,
            backoff: Duration::from_millis(config.retry_backoff_ms.unwrap_or(250).max(1)),
            max_backoff: Duration::from_millis(config.max_backoff_ms.unwrap_or(30_000).max(1)),
            origin: config
                .origin
                .clone()
                .unwrap_or_else(|| "llmring-rs".to_owned()),
        }))
    }
}

/// The URL without its trailing `/`, when it is HTTPS, or HTTP to a loopback host.
fn check_url(text: &str) -> Result<String> {
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| Error::config(format!("server.url {text:?} is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials go in api_key, never in a URL that errors may show.
        return Err(Error::config(
            "server.url must not contain credentials; use server.api_key",
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "server.url {text:?}: plain HTTP is allowed only to a loopback host; use https"
            )));
        }
        other => {
            return Err(Error::config(format!(
                "server.url {text:?}: scheme {other:?} is not http(s)"
            )));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(url: &str) -> Result<Option<Settings>> {
        let config = ServerConfig {
            url: Some(url.to_owned()),
            ..ServerConfig::default()
        };
        Settings::resolve(Some(&config), &|_| None)
    }

    #[test]
    fn https_required_except_loopback() {
        assert!(resolve("https://llmring.example.com/").unwrap().is_some());
        assert_eq!(
            resolve("http://127.0.0.1:8000/").unwrap().unwrap().url,
            "http://127.0.0.1:8000"
        );
        assert!(resolve("http://localhost:8000").unwrap().is_some());
        assert!(resolve("http://[::1]:8000").unwrap().is_some());
        for bad in [
            "http://llmring.example.com",
            "ftp://127.0.0.1",
            "not a url",
            "https://user:pw@example.com",
        ] {
            let err = resolve(bad).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::Config, "{bad}");
        }
        assert!(!format!("{:?}", resolve("https://user:pw@example.com")).contains("pw@"));
    }

    #[test]
    fn environment_defaults() {
        let env = |name: &str| match name {
            "LLMRING_SERVER_URL" => Some("https://env.example.com".to_owned()),
            "LLMRING_API_KEY" => Some("lk-env".to_owned()),
            _ => None,
        };
        let s = Settings::resolve(None, &env).unwrap().unwrap();
        assert_eq!(s.url, "https://env.example.com");
        assert_eq!(s.api_key.unwrap().expose(), "lk-env");
        assert!(Settings::resolve(None, &|_| None).unwrap().is_none());
        let config = ServerConfig {
            api_key: Some(SecretString::new("lk-config")),
            ..ServerConfig::default()
        };
        let s = Settings::resolve(Some(&config), &env).unwrap().unwrap();
        assert_eq!(s.api_key.unwrap().expose(), "lk-config");
    }
}

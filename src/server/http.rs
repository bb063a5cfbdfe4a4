//! The HTTP requests to the llmring server: the key in `X-API-Key`, an idempotency key in
//! `Idempotency-Key`, and failures sorted into "try again later" and "will never succeed".

use serde_json::Value;

use super::config::Settings;
use crate::error::{Error, ErrorKind};

/// Why a request did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Worth sending again later: no connection, a timeout, a dropped connection, 408, 429
    /// or 5xx.
    Transient(Error),
    /// The server refused the API key (401, 403): no report can get through until the key
    /// is fixed.
    Auth(Error),
    /// The server refused this request for good (another 4xx).
    Rejected(Error),
}

impl Failure {
    pub fn error(&self) -> &Error {
        match self {
            Failure::Transient(e) | Failure::Auth(e) | Failure::Rejected(e) => e,
        }
    }

    pub fn into_error(self) -> Error {
        match self {
            Failure::Transient(e) | Failure::Auth(e) | Failure::Rejected(e) => e,
        }
    }
}

/// `POST {url}{path}` with a JSON body. A 2xx answer's JSON body (`Null` when it has none or
/// it cannot be read: the report was accepted all the same).
pub async fn post(
    http: &reqwest::Client,
    settings: &Settings,
    path: &str,
    idempotency_key: &str,
    body: &Value,
) -> Result<Value, Failure> {
    let request = http
        .post(format!("{}{path}", settings.url))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotency_key)
        .body(body.to_string());
    send(settings, path, request).await
}

/// `GET {url}{path}` with query parameters.
pub async fn get(
    http: &reqwest::Client,
    settings: &Settings,
    path: &str,
    query: &[(String, String)],
) -> Result<Value, Failure> {
    let request = http.get(format!("{}{path}", settings.url)).query(query);
    send(settings, path, request).await
}

async fn send(
    settings: &Settings,
    path: &str,
    mut request: reqwest::RequestBuilder,
) -> Result<Value, Failure> {
    request = request.timeout(settings.timeout);
    if let Some(key) = &settings.api_key {
        let mut value = reqwest::header::HeaderValue::from_str(key.expose()).map_err(|_| {
            Failure::Auth(Error::config(
                "server.api_key contains characters an HTTP header cannot carry",
            ))
        })?;
        value.set_sensitive(true);
        request = request.header("X-API-Key", value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Transient(transport_error(settings, path, &e)))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| Failure::Transient(transport_error(settings, path, &e)))?;
    if status.is_success() {
        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
    let code = status.as_u16();
    let detail = server_detail(settings, &text);
    let message = match code {
        401 | 403 => format!(
            "the llmring server refused the API key for {path} (HTTP {code}){detail}; \
             check server.api_key or LLMRING_API_KEY"
        ),
        _ => format!("the llmring server answered HTTP {code} to {path}{detail}"),
    };
    let error = Error::new(ErrorKind::Server, message)
        .with("http_status", code)
        .with("path", path);
    Err(match code {
        408 | 429 | 500..=599 => Failure::Transient(error.with("retryable", true)),
        401 | 403 => Failure::Auth(error.with("retryable", false)),
        _ => Failure::Rejected(error.with("retryable", false)),
    })
}

fn transport_error(settings: &Settings, path: &str, e: &reqwest::Error) -> Error {
    // reqwest's text names the URL (checked to carry no credentials), never a header.
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    Error::new(
        kind,
        format!(
            "the llmring server at {} ({path}): {}",
            settings.url,
            redact(settings, &text)
        ),
    )
    .with("path", path)
    .with("retryable", true)
}

/// The server's own `detail` (FastAPI's error shape), short, with the key blanked should the
/// server echo it.
fn server_detail(settings: &Settings, body: &str) -> String {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("detail").cloned())
        .map(|d| match d {
            Value::String(s) => s,
            other => other.to_string(),
        });
    match detail {
        Some(d) if !d.is_empty() => {
            let d: String = d.chars().take(300).collect();
            format!(": {}", redact(settings, &d))
        }
        _ => String::new(),
    }
}

fn redact(settings: &Settings, text: &str) -> String {
    match &settings.api_key {
        Some(key) if !key.expose().is_empty() => text.replace(key.expose(), "[redacted]"),
        _ => text.to_owned(),
    }
}

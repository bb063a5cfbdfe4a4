//! Sending one provider request over HTTP, with retries and backoff. Knows nothing about
//! what the request means: the provider module builds it and reads the answer.

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::providers::{HttpRequest, Provider, SecretString};

/// The longest `Retry-After` honoured; a provider asking for longer is treated as failed for
/// now, so the next model can be tried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The largest response body read (a larger one is an error, not an out-of-memory).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Retry policy for one model.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Duration,
}

/// Sends `request`, retrying timeouts, 429, 5xx and connection errors with exponential
/// backoff (honouring `Retry-After`). Returns the 2xx body, or the last error. Errors name
/// the provider and model and the HTTP status; they never contain the API key.
pub async fn send_with_retries(
    http: &reqwest::Client,
    provider: Provider,
    model: &str,
    request: &HttpRequest,
    secret: Option<&SecretString>,
    policy: RetryPolicy,
) -> Result<Vec<u8>> {
    let mut attempt = 0;
    loop {
        let outcome = send_once(http, provider, request, secret).await;
        let (error, retry_after) = match outcome {
            Ok(body) => return Ok(body),
            Err(failure) => failure,
        };
        let error = error.with("model", model).with("attempts", attempt + 1);
        // The provider's own verdict wins (a 429 for an exhausted quota is final); otherwise
        // timeouts, connection errors and rate limits are worth another try.
        let retryable = match error.details.get("retryable") {
            Some(serde_json::Value::Bool(b)) => *b,
            _ => matches!(
                error.kind,
                ErrorKind::Timeout | ErrorKind::Network | ErrorKind::RateLimited
            ),
        };
        if !retryable || attempt >= policy.max_retries {
            return Err(error);
        }
        let backoff = policy
            .backoff
            .saturating_mul(1 << attempt.min(16))
            .min(MAX_BACKOFF);
        let wait = match retry_after {
            Some(wait) if wait > MAX_RETRY_AFTER => return Err(error),
            Some(wait) => wait,
            None => backoff,
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

type Failure = (Error, Option<Duration>);

async fn send_once(
    http: &reqwest::Client,
    provider: Provider,
    request: &HttpRequest,
    secret: Option<&SecretString>,
) -> std::result::Result<Vec<u8>, Failure> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| (Error::internal("bad HTTP method"), None))?;
    let mut builder = http
        .request(method, &request.url)
        .body(request.body_bytes());
    for (name, value) in request.headers_with_secret() {
        builder = builder.header(name, value);
    }
    let response = builder
        .send()
        .await
        .map_err(|e| (transport_error(provider, &e, secret), None))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_body(provider, response, secret)
        .await
        .map_err(|e| (e.with("http_status", status), None))?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let parsed = provider.parse_error(status, &body).redact(secret);
    let retryable = parsed.retryable;
    let error = parsed.into_error().with("retryable", retryable);
    Err((error, retry_after))
}

async fn read_body(
    provider: Provider,
    mut response: reqwest::Response,
    secret: Option<&SecretString>,
) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(Error::new(
                        ErrorKind::Provider,
                        format!("{provider} response is larger than {MAX_BODY_BYTES} bytes"),
                    )
                    .with("provider", provider.name()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport_error(provider, &e, secret)),
        }
    }
}

/// Classifies a transport failure. reqwest's messages hold the URL but never headers; the
/// key is redacted anyway in case a base URL carried it.
fn transport_error(provider: Provider, e: &reqwest::Error, secret: Option<&SecretString>) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let mut message = format!("{provider} request failed: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    if let Some(secret) = secret.filter(|s| !s.expose().is_empty()) {
        message = message.replace(secret.expose(), "[redacted]");
    }
    Error::new(kind, message).with("provider", provider.name())
}

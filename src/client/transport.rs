//! Sending one provider request over HTTP, with retries and backoff, whole or streamed. Knows nothing about
//! what the request means: the provider module builds it and reads the answer.

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::providers::stream::{PartialReply, StreamEvent};
use crate::providers::{HttpRequest, Provider, ProviderReply, SecretString};
use tokio_util::sync::CancellationToken;

/// The longest `Retry-After` honoured; a provider asking for longer is treated as failed for
/// now, so the next model can be tried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The largest response body read by default (configuration `max_response_bytes`): a larger
/// one is an error, not an out-of-memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Retry policy and limits for one model.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Duration,
    /// The largest response body read, whole or streamed, in bytes.
    pub max_body_bytes: usize,
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
        let outcome = send_once(http, provider, request, secret, policy.max_body_bytes).await;
        let (error, retry_after) = match outcome {
            Ok(body) => return Ok(body),
            Err(failure) => failure,
        };
        let error = error.with("model", model).with("attempts", attempt + 1);
        let wait = retry_wait(&error, retry_after, attempt, policy).ok_or(error)?;
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// How long to wait before attempt `attempt + 1` after `error`, or `None` when the error is
/// final: not retryable (the provider's `retryable` verdict when it gave one, else timeouts,
/// connection errors and 429 are), no retries left, or a `Retry-After` longer than [`MAX_RETRY_AFTER`].
fn retry_wait(
    error: &Error,
    retry_after: Option<Duration>,
    attempt: u32,
    policy: RetryPolicy,
) -> Option<Duration> {
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
        return None;
    }
    let backoff = policy
        .backoff
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    match retry_after {
        Some(wait) if wait > MAX_RETRY_AFTER => None,
        Some(wait) => Some(wait),
        None => Some(backoff),
    }
}

/// What the client did with one [`StreamEvent`], as its sink reports it to
/// [`stream_with_retries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Not a chunk for the host (usage, finish reason, terminal event): nothing was delivered.
    Skipped,
    /// Delivered to the host, which wants more.
    Continue,
    /// Delivered to the host, which wants no more: the stream is closed.
    Stop,
}

/// How a streamed answer ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// The body ended after the provider's terminal event: the complete reply.
    Complete(ProviderReply),
    /// The host stopped the stream; the connection was closed at once.
    Stopped(PartialReply),
    /// The call was cancelled after a chunk had reached the host; the connection was closed
    /// at once. (Cancelled before that, the stream fails with `Cancelled`.)
    Cancelled(PartialReply),
}

/// A failed streamed call.
#[derive(Debug)]
pub struct StreamFailure {
    pub error: Error,
    /// Whether a chunk had reached the host before the failure: then the call was neither
    /// retried nor may it fall back to another model.
    pub delivered: bool,
}

/// The longest a streamed response may take in all; the configured timeout applies to the
/// wait for the response headers and to every gap between two complete lines of the body
/// instead.
const MAX_STREAM_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Sends a streaming `request` and reads its body as it arrives into the provider's
/// [`StreamParser`](crate::providers::stream::StreamParser), handing each event to `sink`.
///
/// The status is checked and errors are parsed as in [`send_with_retries`], with the same
/// retries, and a 2xx stream that fails (connection error, no complete line for longer than
/// `idle_timeout`) is retried too, but only as long as no chunk has reached the host (`sink`
/// returned [`Delivery::Skipped`] for every event so far). Errors: those of
/// [`send_with_retries`], the parser's (`stream: "malformed"`, `"error_event"`, `"cut"`), and
/// a connection lost in the middle of the body (detail `stream: "cut"`).
///
/// `cancel` ends the call at once wherever it waits (connecting, for the headers, between
/// reads, before a retry), closing the connection: with [`StreamEnd::Cancelled`] once a chunk
/// has reached the host, else with a `Cancelled` error (never retried).
#[allow(clippy::too_many_arguments)]
pub async fn stream_with_retries(
    http: &reqwest::Client,
    provider: Provider,
    model: &str,
    request: &HttpRequest,
    secret: Option<&SecretString>,
    policy: RetryPolicy,
    idle_timeout: Duration,
    sink: &mut dyn FnMut(StreamEvent) -> Delivery,
    cancel: &CancellationToken,
) -> std::result::Result<StreamEnd, StreamFailure> {
    let mut attempt = 0;
    loop {
        let mut delivered = false;
        let limits = StreamLimits {
            idle_timeout,
            max_body_bytes: policy.max_body_bytes,
        };
        let outcome = stream_once(
            http,
            provider,
            request,
            secret,
            limits,
            &mut delivered,
            sink,
            cancel,
        )
        .await;
        let (error, retry_after) = match outcome {
            Ok(end) => return Ok(end),
            Err(failure) => failure,
        };
        let error = error.with("model", model).with("attempts", attempt + 1);
        let wait = match retry_wait(&error, retry_after, attempt, policy) {
            Some(wait) if !delivered => wait,
            _ => return Err(StreamFailure { error, delivered }),
        };
        if cancel
            .run_until_cancelled(tokio::time::sleep(wait))
            .await
            .is_none()
        {
            return Err(StreamFailure {
                error: cancelled_stream(),
                delivered,
            });
        }
        attempt += 1;
    }
}

#[derive(Debug, Clone, Copy)]
struct StreamLimits {
    idle_timeout: Duration,
    max_body_bytes: usize,
}

#[allow(clippy::too_many_arguments)]
async fn stream_once(
    http: &reqwest::Client,
    provider: Provider,
    request: &HttpRequest,
    secret: Option<&SecretString>,
    limits: StreamLimits,
    delivered: &mut bool,
    sink: &mut dyn FnMut(StreamEvent) -> Delivery,
    cancel: &CancellationToken,
) -> std::result::Result<StreamEnd, Failure> {
    let StreamLimits {
        idle_timeout,
        max_body_bytes,
    } = limits;
    let opened = open(
        http,
        provider,
        request,
        secret,
        Some(idle_timeout),
        max_body_bytes,
    );
    let Some(opened) = cancel.run_until_cancelled(opened).await else {
        return Err((cancelled_stream(), None));
    };
    let mut response = opened?;
    let status = response.status().as_u16();
    check_stream_type(provider, request, &response).map_err(|e| (e, None))?;
    let mut parser = provider.stream_parser();
    let mut received = 0usize;
    // Every SSE and NDJSON line ends in a newline: the wait is for the next complete line,
    // not only the next bytes, so a body trickled byte by byte (slowloris) still times out.
    let mut line_deadline = tokio::time::Instant::now() + idle_timeout;
    loop {
        let read = tokio::time::timeout_at(line_deadline, response.chunk());
        let Some(read) = cancel.run_until_cancelled(read).await else {
            // Dropping the response closes the connection (it is not reused).
            drop(response);
            return if *delivered {
                Ok(StreamEnd::Cancelled(parser.finish_early()))
            } else {
                Err((cancelled_stream(), None))
            };
        };
        let chunk = match read {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                let error = transport_error(provider, &e, secret)
                    .with("http_status", status)
                    .with("stream", "cut");
                return Err((error, None));
            }
            Err(_) => {
                let error = idle_error(provider, idle_timeout, "between two lines of the stream")
                    .with("http_status", status)
                    .with("stream", "cut");
                return Err((error, None));
            }
        };
        if chunk.contains(&b'\n') {
            line_deadline = tokio::time::Instant::now() + idle_timeout;
        }
        received = received.saturating_add(chunk.len());
        if received > max_body_bytes {
            let error = too_large(provider, max_body_bytes).with("http_status", status);
            return Err((error, None));
        }
        let events = parser.feed(&chunk).map_err(|e| (e, None))?;
        for event in events {
            match sink(event) {
                Delivery::Skipped => {}
                Delivery::Continue => *delivered = true,
                Delivery::Stop => {
                    *delivered = true;
                    // Dropping the response closes the connection (it is not reused).
                    drop(response);
                    return Ok(StreamEnd::Stopped(parser.finish_early()));
                }
            }
        }
    }
    parser
        .finish()
        .map(StreamEnd::Complete)
        .map_err(|e| (e, None))
}

/// A streaming response whose media type is not the one the request accepts (an HTML error
/// page, a whole JSON answer from a server that ignored `stream`): a clear error instead of
/// a stream that seems cut. A response without a content type is read as a stream.
fn check_stream_type(
    provider: Provider,
    request: &HttpRequest,
    response: &reqwest::Response,
) -> Result<()> {
    let Some(accept) = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("accept"))
        .map(|(_, value)| value.as_str())
    else {
        return Ok(());
    };
    let Some(got) = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return Ok(());
    };
    let media_type = got.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case(accept) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Provider,
        format!("{provider} answered a streaming request with content type {got}, not {accept}"),
    )
    .with("provider", provider.name())
    .with("http_status", response.status().as_u16())
    .with("content_type", got)
    .with("stream", "malformed"))
}

/// The error of a cancelled stream.
pub fn cancelled_stream() -> Error {
    Error::new(ErrorKind::Cancelled, "the stream was cancelled")
}

fn idle_error(provider: Provider, timeout: Duration, what: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "{provider} request timed out: nothing received for {} ms {what}",
            timeout.as_millis()
        ),
    )
    .with("provider", provider.name())
}

type Failure = (Error, Option<Duration>);

async fn send_once(
    http: &reqwest::Client,
    provider: Provider,
    request: &HttpRequest,
    secret: Option<&SecretString>,
    max_body_bytes: usize,
) -> std::result::Result<Vec<u8>, Failure> {
    let response = open(http, provider, request, secret, None, max_body_bytes).await?;
    let status = response.status().as_u16();
    read_body(provider, response, secret, max_body_bytes)
        .await
        .map_err(|e| (e.with("http_status", status), None))
}

/// Sends `request` and returns the response when its status is 2xx, its body unread; any
/// other status is read and parsed into the provider's error. `stream_timeout`: a streaming
/// request, whose total duration is not limited; the timeout applies to the wait for the
/// response headers instead. `max_body_bytes` limits the error body read.
async fn open(
    http: &reqwest::Client,
    provider: Provider,
    request: &HttpRequest,
    secret: Option<&SecretString>,
    stream_timeout: Option<Duration>,
    max_body_bytes: usize,
) -> std::result::Result<reqwest::Response, Failure> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| (Error::internal("bad HTTP method"), None))?;
    let mut builder = http
        .request(method, &request.url)
        .body(request.body_bytes());
    for (name, value) in request.headers_with_secret() {
        builder = builder.header(name, value);
    }
    let sent = match stream_timeout {
        None => builder.send().await,
        Some(wait) => tokio::time::timeout(wait, builder.timeout(MAX_STREAM_DURATION).send())
            .await
            .map_err(|_| (idle_error(provider, wait, "waiting for the response"), None))?,
    };
    let response = sent.map_err(|e| (transport_error(provider, &e, secret), None))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_body(provider, response, secret, max_body_bytes)
        .await
        .map_err(|e| (e.with("http_status", status), None))?;
    let parsed = provider.parse_error(status, &body).redact(secret);
    let retryable = parsed.retryable;
    let error = parsed.into_error().with("retryable", retryable);
    Err((error, retry_after))
}

/// Reads a whole body of at most `limit` bytes (a larger one, announced or not, is refused
/// without reading further).
async fn read_body(
    provider: Provider,
    mut response: reqwest::Response,
    secret: Option<&SecretString>,
    limit: usize,
) -> Result<Vec<u8>> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(too_large(provider, limit).with("content_length", announced));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(provider, limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport_error(provider, &e, secret)),
        }
    }
}

/// A response body over the limit: final (the same request would get the same body).
fn too_large(provider: Provider, limit: usize) -> Error {
    Error::new(
        ErrorKind::Provider,
        format!(
            "{provider} response is larger than {limit} bytes (configuration max_response_bytes)"
        ),
    )
    .with("provider", provider.name())
    .with("limit_bytes", limit)
    .with("retryable", false)
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

//! Server mode: every call is also reported to an llmring server (team-wide usage log,
//! server-signed receipts), through a durable outbox so that nothing is lost while the server
//! is away. See `docs/server.md` for the API subset and the guarantees.
//!
//! - [`config`]: the `server` configuration (URL, key, timeouts), HTTPS except on loopback;
//! - [`report`]: the report bodies, built from the call's response JSON;
//! - [`outbox`]: the durable queue beside the receipt store (memory for `:memory:`);
//! - [`http`]: requests with `X-API-Key` and `Idempotency-Key`, failures sorted;
//! - [`keys`]: the server's public keys and the check of server receipts;
//! - [`journal`]: the locked, fsynced JSON Lines files all of the above keep.
//!
//! A call queues its reports before it returns (after its receipt is stored) and wakes the
//! background task that drains the outbox on the client's runtime; [`Server::sync`] drains
//! it while the caller waits.

pub mod config;
pub mod http;
pub mod journal;
pub mod keys;
pub mod outbox;
pub mod report;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::chat::ChatRequest;
use crate::error::{Error, ErrorKind, Result};
use crate::store::file::io_error;
use config::Settings;
use http::Failure;
use journal::Journal;
use keys::{KeyCache, ServerKeys};
use outbox::{Outbox, Report, beside};

/// The outbox is compacted when nothing is pending, or once this many reports are settled.
const COMPACT_AFTER: usize = 64;

/// The server side of a client.
#[derive(Debug)]
pub struct Server {
    settings: Settings,
    outbox: Outbox,
    receipts: Journal,
    keys: KeyCache,
    wake: tokio::sync::Notify,
    drain: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Reports this client delivered.
    sent: u64,
    /// Why the last attempt failed, until one succeeds.
    last_error: Option<Error>,
    /// The server refused the API key: no attempt until the next call or sync.
    blocked: bool,
    /// Calls queued by this client, and their number when the key was refused.
    calls: u64,
    blocked_at_calls: u64,
    /// Reports refused for good since the last sync reported them.
    new_failures: Vec<Value>,
}

/// What one pass over the outbox came to.
enum Pass {
    /// Nothing is pending.
    Done,
    /// Another process is draining.
    Busy,
    /// A transient failure: try again later.
    Retry,
    /// The API key was refused.
    Blocked,
}

impl Server {
    /// The server side for a store at `store_path` (`None`: memory store, memory outbox).
    pub fn open(settings: Settings, store_path: Option<&Path>) -> Server {
        let (receipts, keys) = match store_path {
            Some(p) => (
                Journal::File(beside(p, ".server-receipts")),
                KeyCache::File(beside(p, ".server-keys.json")),
            ),
            None => (Journal::memory(), KeyCache::Memory(Mutex::default())),
        };
        Server {
            settings,
            outbox: Outbox::open(store_path),
            receipts,
            keys,
            wake: tokio::sync::Notify::new(),
            drain: tokio::sync::Mutex::new(()),
            state: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues the reports of a finished call (durably, before the call returns) and wakes
    /// the background task. On failure the response gets `server_error` (the call itself
    /// succeeded: its receipt is stored locally).
    pub fn after_call(
        &self,
        request: &ChatRequest,
        mut response: Value,
        started: Instant,
    ) -> Value {
        let reports = report::reports(&self.settings, request, &response, started.elapsed());
        match self.outbox.push(&reports) {
            Ok(()) => {
                self.state().calls += 1;
                self.wake.notify_one();
            }
            Err(e) => {
                let e = Error {
                    message: format!(
                        "the report for the server could not be queued: {}",
                        e.message
                    ),
                    ..e
                };
                response["server_error"] = e.to_json();
            }
        }
        response
    }

    /// One pass: sends the pending reports in order until one fails for a reason that may
    /// pass, or none is left. A `background` pass makes no attempt while the key stands
    /// refused since the last call was queued (a sync may have tried it meanwhile).
    async fn pass(&self, http: &reqwest::Client, background: bool) -> Result<Pass> {
        let _in_process = self.drain.lock().await;
        if background {
            let state = self.state();
            if state.blocked && state.calls == state.blocked_at_calls {
                return Ok(Pass::Blocked);
            }
        }
        let mut lock_file = self.outbox.drain_lock()?;
        let _guard = match lock_file.as_mut() {
            None => None,
            Some(lock) => match lock.try_write() {
                Ok(guard) => Some(guard),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(Pass::Busy),
                Err(e) => {
                    let path = self.outbox.lock_path().unwrap_or(Path::new(":memory:"));
                    return Err(io_error(path, "cannot lock", e));
                }
            },
        };
        for report in self.pending()? {
            match http::post(
                http,
                &self.settings,
                &report.path,
                &report.key,
                &report.body,
            )
            .await
            {
                Ok(answer) => {
                    if let Some(receipt) = answer.get("receipt").filter(|r| r.is_object()) {
                        self.keep_receipt(&report, receipt)?;
                    }
                    self.outbox.settle_sent(&report.key)?;
                    self.state().sent += 1;
                }
                Err(Failure::Rejected(e)) => {
                    self.outbox.settle_failed(&report, &e)?;
                    self.state().new_failures.push(json!({
                        "key": report.key,
                        "kind": report.kind,
                        "local_receipt_id": report.local_receipt_id,
                        "error": e.to_json(),
                    }));
                }
                Err(Failure::Transient(e)) => {
                    self.state().last_error = Some(e);
                    return Ok(Pass::Retry);
                }
                Err(Failure::Auth(e)) => {
                    let mut state = self.state();
                    state.last_error = Some(e);
                    state.blocked = true;
                    state.blocked_at_calls = state.calls;
                    return Ok(Pass::Blocked);
                }
            }
        }
        self.outbox.compact(COMPACT_AFTER)?;
        let mut state = self.state();
        state.last_error = None;
        state.blocked = false;
        Ok(Pass::Done)
    }

    /// The pending reports for this client's server, in queue order.
    fn pending(&self) -> Result<Vec<Report>> {
        let mut reports = self.outbox.pending()?;
        reports.retain(|r| r.server.is_empty() || r.server == self.settings.url);
        Ok(reports)
    }

    /// Stores a receipt the server signed, linked to the local one. A report sent again
    /// after a crash may store its receipt twice; readers keep the first
    /// ([`Server::stored_receipts`]).
    fn keep_receipt(&self, report: &Report, receipt: &Value) -> Result<()> {
        self.receipts.append(&[json!({
            "local_receipt_id": report.local_receipt_id,
            "kind": report.kind,
            "receipt": receipt,
            "received_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })])
    }

    /// The background task: drains after each call, with backoff after transient failures
    /// (not woken early by new calls, so a dead server is not hammered); after a refused key
    /// it waits for the next call or sync.
    pub async fn run(self: Arc<Self>, http: reqwest::Client) {
        let mut backoff = self.settings.backoff;
        loop {
            match self.pass(&http, true).await {
                Ok(Pass::Done | Pass::Blocked) => {
                    backoff = self.settings.backoff;
                    self.wake.notified().await;
                }
                Ok(Pass::Retry | Pass::Busy) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                }
                Err(e) => {
                    self.state().last_error = Some(e);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                }
            }
        }
    }

    /// Sends what is pending, waiting up to `timeout` (retrying with backoff). Returns
    /// `{"sent", "pending", "failed": [...], "error"}` (see [`Server::status`]); an error
    /// (`LLMRING_SERVER`, with the same JSON in detail `sync`) when the server refused the API
    /// key or refused reports for good since the last sync.
    pub async fn sync(&self, http: &reqwest::Client, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut backoff = self.settings.backoff;
        loop {
            match self.pass(http, false).await? {
                Pass::Done | Pass::Blocked => break,
                Pass::Retry | Pass::Busy => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    tokio::time::sleep(backoff.min(deadline - now)).await;
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                }
            }
        }
        let report = self.status_json()?;
        let (blocked, failures) = {
            let mut state = self.state();
            (state.blocked, std::mem::take(&mut state.new_failures))
        };
        if blocked || !failures.is_empty() {
            let message = if blocked {
                report["error"]["message"]
                    .as_str()
                    .unwrap_or("the llmring server refused the API key")
                    .to_owned()
            } else {
                format!(
                    "the llmring server refused {} report(s) for good (see failed)",
                    failures.len()
                )
            };
            return Err(Error::new(ErrorKind::Server, message)
                .with("sync", report)
                .with("refused", failures));
        }
        crate::receipt::to_json(&report)
    }

    /// `{"sent": N (delivered by this client), "pending": N, "failed": [{"key", "kind",
    /// "local_receipt_id", "error", "at"}], "error": {...} | null (why the last attempt
    /// failed), "blocked": bool (the API key was refused)}`. No request is made.
    pub fn status(&self) -> Result<String> {
        crate::receipt::to_json(&self.status_json()?)
    }

    fn status_json(&self) -> Result<Value> {
        let pending = self.pending()?.len();
        let failed = self.outbox.failed()?;
        let state = self.state();
        Ok(json!({
            "sent": state.sent,
            "pending": pending,
            "failed": failed,
            "error": state.last_error.as_ref().map(Error::to_json),
            "blocked": state.blocked,
        }))
    }

    /// `GET /api/v1/stats`: `query_json` `{"start_date"?, "end_date"?, "group_by"?}`; the
    /// server's statistics JSON.
    pub async fn stats(&self, http: &reqwest::Client, query_json: Option<&str>) -> Result<String> {
        let query = query_params(query_json, &["start_date", "end_date", "group_by"])?;
        let answer = http::get(http, &self.settings, "/api/v1/stats", &query)
            .await
            .map_err(Failure::into_error)?;
        crate::receipt::to_json(&answer)
    }

    /// `GET /api/v1/receipts`: `filter_json` `{"limit"?, "offset"?, "start_date"?,
    /// "end_date"?}`; the server's receipts list JSON.
    pub async fn server_receipts(
        &self,
        http: &reqwest::Client,
        filter_json: Option<&str>,
    ) -> Result<String> {
        let query = query_params(filter_json, &["limit", "offset", "start_date", "end_date"])?;
        let answer = http::get(http, &self.settings, "/api/v1/receipts", &query)
            .await
            .map_err(Failure::into_error)?;
        crate::receipt::to_json(&answer)
    }

    /// Fetches the server's public keys and caches them. When the fetch fails, the cached
    /// keys; with none cached, `None` when the server is unreachable (receipts unchecked),
    /// else the error.
    pub async fn public_keys(&self, http: &reqwest::Client) -> Result<Option<ServerKeys>> {
        const PATH: &str = "/api/v1/receipts/public-keys.json";
        let failure = match http::get(http, &self.settings, PATH, &[]).await {
            Ok(answer) => match ServerKeys::from_json(&answer) {
                Ok(keys) => {
                    self.keys.save(&answer)?;
                    return Ok(Some(keys));
                }
                Err(e) => Failure::Rejected(e),
            },
            Err(f) => f,
        };
        match self.keys.load()? {
            Some(cached) => ServerKeys::from_json(&cached).map(Some),
            None if matches!(failure, Failure::Transient(_)) => Ok(None),
            None => Err(failure.into_error()),
        }
    }

    /// Verifies every stored server receipt against the server's keys (fetched, else
    /// cached); see [`keys::verify_all`] for the report.
    pub async fn verify_receipts(&self, http: &reqwest::Client) -> Result<String> {
        let keys = self.public_keys(http).await?;
        let report = keys::verify_all(&self.stored_receipts()?, keys.as_ref())?;
        crate::receipt::to_json(&report)
    }

    /// The stored server receipts: `{"local_receipt_id", "kind", "receipt", "received_at"}`,
    /// one per local receipt and kind.
    pub fn stored_receipts(&self) -> Result<Vec<Value>> {
        Ok(first_per_report(self.receipts.read()?))
    }
}

/// Verifies the server receipts stored beside the store file at `store` with the cached
/// server keys, without a client (for `llmring verify`). `None` when there are none.
pub fn verify_stored(store: &Path) -> Result<Option<Value>> {
    let lines = first_per_report(Journal::File(beside(store, ".server-receipts")).read()?);
    if lines.is_empty() {
        return Ok(None);
    }
    let keys = KeyCache::File(beside(store, ".server-keys.json"))
        .load()?
        .map(|v| ServerKeys::from_json(&v))
        .transpose()?;
    keys::verify_all(&lines, keys.as_ref()).map(Some)
}

/// The first stored server receipt of each (local receipt, kind).
fn first_per_report(lines: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    lines
        .into_iter()
        .filter(|l| seen.insert((l["local_receipt_id"].to_string(), l["kind"].to_string())))
        .collect()
}

/// Query parameters from a JSON object with only the `allowed` keys (strings or integers).
fn query_params(json_text: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>> {
    let Some(text) = json_text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let value = crate::receipt::json::parse_strict(text)?;
    let map = value
        .as_object()
        .ok_or_else(|| Error::invalid_argument("the filter must be a JSON object"))?;
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            if !allowed.contains(&k.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "unknown filter key {k:?} (accepted: {})",
                    allowed.join(", ")
                )));
            }
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_u64() => n.to_string(),
                _ => {
                    return Err(Error::invalid_argument(format!(
                        "filter key {k:?} takes a string or a non-negative integer"
                    )));
                }
            };
            Ok((k.clone(), text))
        })
        .collect()
}

//! The LLMRing service: resolve an alias to candidate models, call the provider (or the
//! offline mock), price the usage, issue a signed receipt and store it. A [`Client`] owns one
//! tokio runtime and one HTTP connection pool, and is safe to use from many threads at once.

pub mod budget;
mod call;
pub mod config;
mod inflight;
mod registry_source;
mod server_api;
mod stream;
pub mod transport;

use std::sync::Arc;

use serde_json::Value;

pub use config::Config;

use crate::cost;
use crate::error::{Error, Result};
use crate::keyfile;
use crate::lockfile::{Lockfile, LockfileEnv, ModelRef};
use crate::receipt::keys::{self, SigningKey};
use crate::registry::Registry;
use crate::store::{Filter, Records, RepairReport, Store, VerifyOptions};

/// A configured client. Cheap to share: wrap it in an `Arc` or borrow it from many threads.
///
/// A client belongs to the process that created it: after `fork()` its runtime threads do
/// not exist in the child, so every call there fails with [`crate::ErrorKind::Forked`]
/// instead of hanging, and dropping it in the child leaks it rather than waiting for them.
pub struct Client {
    // An Option only so that Drop can take it: always Some while the client lives.
    runtime: Option<tokio::runtime::Runtime>,
    inner: Arc<Inner>,
    inflight: Arc<inflight::InFlight>,
    /// The id of the process that created the client.
    pid: u32,
}

/// What the callback of [`Client::chat_async`] receives: the response JSON or the error.
pub type Completion = Box<dyn FnOnce(Result<String>) + Send + 'static>;

/// Everything a call needs, shared with the tasks running on the runtime.
pub(crate) struct Inner {
    pub config: Config,
    pub http: reqwest::Client,
    pub lockfile: Lockfile,
    pub lock_env: LockfileEnv,
    pub registry: Registry,
    pub signing_key: Option<SigningKey>,
    pub store: Store,
    /// What opening the store repaired (a torn last record), if anything.
    pub repair: Option<RepairReport>,
    pub budgets: budget::Budgets,
    pub env: fn(&str) -> Option<String>,
    /// Server mode: the outbox and the server's keys and receipts (`None`: no server).
    pub server: Option<Arc<crate::server::Server>>,
}

impl Client {
    /// Builds a client from configuration JSON (`None` or `{}` for every default).
    pub fn new(config_json: Option<&str>) -> Result<Client> {
        Self::with_config(Config::from_json(config_json)?)
    }

    /// Builds a client from a parsed configuration.
    pub fn with_config(config: Config) -> Result<Client> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("llmring")
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout().min(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        let lock_env = LockfileEnv::from_process();
        let lockfile = Lockfile::discover(config.lockfile.as_deref(), &lock_env)?;
        let registry = runtime.block_on(registry_source::load(&config.registry, &http))?;
        let signing_key = match (&config.signing_key, &config.signing_key_file) {
            (Some(text), _) => Some(keys::parse_private(text.expose())?),
            (None, Some(path)) => Some(keyfile::read_private(path)?),
            (None, None) => None,
        };
        let (store, repair) = Store::from_spec(config.store_spec(&config::process_env).as_deref())?;
        let budgets = budget::Budgets::load(config.budgets.as_ref(), &lockfile, &store)?;
        let server =
            crate::server::config::Settings::resolve(config.server.as_ref(), &config::process_env)?
                .map(|settings| Arc::new(crate::server::Server::open(settings, store.path())));
        if let Some(server) = &server {
            // Drains what earlier processes left pending, then after each call.
            runtime.spawn(Arc::clone(server).run(http.clone()));
        }
        let inner = Inner {
            config,
            http,
            lockfile,
            lock_env,
            registry,
            signing_key,
            store,
            repair,
            budgets,
            env: config::process_env,
            server,
        };
        Ok(Client {
            runtime: Some(runtime),
            inner: Arc::new(inner),
            inflight: Arc::default(),
            pid: std::process::id(),
        })
    }

    /// `Ok` in the process that created the client; in a forked child, `Forked`: the
    /// runtime's threads were not copied by `fork()`, so nothing could ever run there.
    pub fn check_process(&self) -> Result<()> {
        let pid = std::process::id();
        if pid == self.pid {
            return Ok(());
        }
        Err(Error::new(
            crate::ErrorKind::Forked,
            format!(
                "this client was created by process {} and cannot be used in process {pid} \
                 (a forked child): create a new client in the child",
                self.pid
            ),
        )
        .with("creator_pid", self.pid)
        .with("pid", pid))
    }

    /// One chat call, blocking the calling thread until it completes. `request_json` is a
    /// [`crate::chat::ChatRequest`]; the result is the response JSON (`content`, `model`,
    /// `finish_reason`, `tool_calls`, `usage`, `receipt`). Must not be called from inside an
    /// async runtime.
    pub fn chat(&self, request_json: &str) -> Result<String> {
        self.check_process()?;
        let request = crate::chat::ChatRequest::from_json(request_json)?;
        let inner = Arc::clone(&self.inner);
        self.runtime()
            .block_on(async move { call::chat_json(&inner, request).await })
    }

    /// One streamed chat call, blocking the calling thread until it completes. `on_chunk` runs
    /// on the calling thread, once per chunk of the answer as it arrives, with the chunk's JSON
    /// (`{"delta": "text"}` or `{"tool_call_delta": {"index", "id"?, "name"?, "arguments"}}`),
    /// and returns `true` for more or `false` to stop: the connection is then closed and the
    /// call priced from the usage the provider had reported, or estimated (`cost_status:
    /// "estimated"`, refused in strict cost mode). The result is the final response JSON, as
    /// [`Client::chat`] returns it for the same answer (and the same receipt but for its id,
    /// timestamp and signature). A stream cut before its end is an error with no receipt.
    /// Must not be called from inside an async runtime, nor from `on_chunk` itself. See
    /// `src/client/stream.rs` for the details.
    pub fn chat_stream(
        &self,
        request_json: &str,
        mut on_chunk: impl FnMut(&str) -> bool,
    ) -> Result<String> {
        self.check_process()?;
        let request = crate::chat::ChatRequest::from_json(request_json)?;
        self.runtime().block_on(stream::chat_stream_json(
            &self.inner,
            request,
            &mut on_chunk,
            &inflight::CancellationToken::new(),
        ))
    }

    /// Reserves an id for [`Client::chat_stream_with_id`], so that another thread can cancel
    /// that stream with [`Client::cancel`] at any point, even before it starts.
    pub fn call_id(&self) -> Result<u64> {
        self.check_process()?;
        Ok(self.inflight.reserve())
    }

    /// [`Client::chat_stream`] under the id reserved by [`Client::call_id`] (each id starts
    /// one stream; another id is `InvalidArgument`). [`Client::cancel`] with that id, from any
    /// thread, ends the stream promptly with `Cancelled`, while it waits for the provider or
    /// between chunks; see `src/client/stream.rs` for what is priced and receipted then.
    pub fn chat_stream_with_id(
        &self,
        id: u64,
        request_json: &str,
        mut on_chunk: impl FnMut(&str) -> bool,
    ) -> Result<String> {
        self.check_process()?;
        let cancel = self.inflight.start(id)?;
        let result = match crate::chat::ChatRequest::from_json(request_json) {
            Ok(request) => self.runtime().block_on(stream::chat_stream_json(
                &self.inner,
                request,
                &mut on_chunk,
                &cancel,
            )),
            Err(e) => Err(e),
        };
        self.inflight.finish(id);
        result.map_err(|e| match e.kind {
            crate::ErrorKind::Cancelled => Error {
                message: inflight::cancelled(id).message,
                ..e
            },
            _ => e,
        })
    }

    /// Starts a chat call and returns its id at once. `done` runs exactly once, on one of the
    /// client's runtime threads, with the response JSON or the error (`Cancelled` after
    /// [`Client::cancel`] or when the client is dropped first). A request that cannot be read
    /// is an error here, and `done` is not called.
    pub fn chat_async(&self, request_json: &str, done: Completion) -> Result<u64> {
        self.check_process()?;
        let request = crate::chat::ChatRequest::from_json(request_json)?;
        let inner = Arc::clone(&self.inner);
        let inflight = Arc::clone(&self.inflight);
        let (id, cancelled) = self.inflight.register();
        let task = self.runtime().spawn(async move {
            let result = tokio::select! {
                result = call::chat_json(&inner, request) => result,
                _ = cancelled.cancelled() => Err(inflight::cancelled(id)),
            };
            inflight.finish(id);
            done(result);
        });
        self.inflight.set_task(id, task);
        Ok(id)
    }

    /// Cancels the call `id` started by [`Client::chat_async`] (its callback receives
    /// `Cancelled` unless it already completed) or reserved by [`Client::call_id`] for
    /// [`Client::chat_stream_with_id`]. Returns whether the call was still in flight (never
    /// in a forked child, where nothing of the parent's runs).
    pub fn cancel(&self, id: u64) -> bool {
        self.check_process().is_ok() && self.inflight.cancel(id)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the client")
    }

    /// The stored receipts that match `filter_json`, oldest first, as canonical JSON texts
    /// (collected; [`Client::receipts_iter`] streams).
    pub fn receipts(&self, filter_json: Option<&str>) -> Result<Vec<String>> {
        self.check_process()?;
        self.inner.store.select(&Filter::from_json(filter_json)?)
    }

    /// Streams the stored receipts that match `filter_json`, oldest first.
    pub fn receipts_iter(&self, filter_json: Option<&str>) -> Result<Records> {
        self.check_process()?;
        self.inner.store.iter(Filter::from_json(filter_json)?)
    }

    /// Statistics over the store: a [`crate::stats::Query`] in, the statistics JSON out.
    pub fn stats(&self, query_json: Option<&str>) -> Result<String> {
        self.check_process()?;
        let query = crate::stats::Query::from_json(query_json)?;
        crate::receipt::to_json(&crate::stats::run(&self.inner.store, &query)?)
    }

    /// Exports receipts as [`crate::export::ExportOptions`] say; returns
    /// `{"exported": N, "format", "output"}`.
    pub fn export(&self, options_json: &str) -> Result<String> {
        self.check_process()?;
        let options = crate::export::ExportOptions::from_json(options_json)?;
        let n = crate::export::export(&self.inner.store, &options)?;
        let format = match options.format {
            crate::export::Format::Json => "json",
            crate::export::Format::Csv => "csv",
        };
        let summary = serde_json::json!({
            "exported": n,
            "format": format,
            "output": options.output.display().to_string(),
        });
        crate::receipt::to_json(&summary)
    }

    /// Verifies the store: the hash chain (file store) and every signature, with the keys in
    /// `options_json` (see [`VerifyOptions::from_json`]) or, when it names none, the public key
    /// of the client's signing key. Returns the report JSON (`ok`, counts, problems with
    /// their positions).
    pub fn verify_store(&self, options_json: Option<&str>) -> Result<String> {
        self.check_process()?;
        let options = self.verify_options(options_json)?;
        crate::receipt::to_json(&self.inner.store.verify(&options)?.to_json())
    }

    /// Verify options, with the client's own public key when they name no key.
    pub fn verify_options(&self, options_json: Option<&str>) -> Result<VerifyOptions> {
        let mut options = VerifyOptions::from_json(options_json)?;
        if options.keys.is_empty() {
            options.keys.extend(self.public_key());
        }
        Ok(options)
    }

    /// The public key of the configured signing key.
    pub fn public_key(&self) -> Option<keys::VerifyingKey> {
        self.inner
            .signing_key
            .as_ref()
            .map(SigningKey::verifying_key)
    }

    /// Every budget's window, spent, reserved, limit and remaining, now.
    pub fn budget_status(&self) -> Result<String> {
        self.check_process()?;
        self.inner.budgets.sync(&self.inner.store)?;
        crate::receipt::to_json(&self.inner.budgets.ledger.status(chrono::Utc::now()))
    }

    /// Sets (or clears) the function called with each budget past its soft threshold after a
    /// call; it runs on the thread that finished the call. Does nothing in a forked child
    /// (see [`Client::check_process`]).
    pub fn on_budget_warning(&self, callback: Option<budget::WarningCallback>) {
        if self.check_process().is_err() {
            return;
        }
        *self
            .inner
            .budgets
            .on_warning
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = callback;
    }

    /// The receipt store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// What opening the store repaired (a torn last record saved aside), if anything.
    pub fn store_repair(&self) -> Option<&RepairReport> {
        self.inner.repair.as_ref()
    }

    /// Prices usage obtained elsewhere: `model` is `provider:model`, `usage_json` the
    /// provider's own usage object. Returns the `usage` object a response would carry.
    pub fn calculate_cost(&self, model: &str, usage_json: &str) -> Result<String> {
        let model = ModelRef::parse(model)?;
        let raw = crate::receipt::json::parse_strict(usage_json)?;
        let usage = cost::normalize_usage(&model.provider, &raw)?;
        let cost = cost::calculate_cost(&self.inner.registry, &model, usage.as_ref());
        crate::receipt::to_json(&Value::Object(cost::usage_json(usage.as_ref(), &cost)))
    }

    /// The registry prices come from.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The lockfile in force.
    pub fn lockfile(&self) -> &Lockfile {
        &self.inner.lockfile
    }
}

impl Drop for Client {
    /// Completes every call still in flight with `Cancelled` (their callbacks run), then stops
    /// the runtime. Called from inside a runtime (a callback freeing its own client), it cannot
    /// wait: the runtime is then shut down in the background. In a forked child it is leaked
    /// instead (its threads, its locks' owners and its calls live only in the parent, so
    /// waiting for them could hang forever): the memory goes when the child exits.
    fn drop(&mut self) {
        if self.check_process().is_err() {
            std::mem::forget(self.runtime.take());
            std::mem::forget(Arc::clone(&self.inner));
            std::mem::forget(Arc::clone(&self.inflight));
            return;
        }
        let tasks = self.inflight.cancel_all();
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
            return;
        }
        runtime.block_on(async {
            for task in tasks {
                let _ = task.await;
            }
        });
    }
}

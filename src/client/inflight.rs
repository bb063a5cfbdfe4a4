//! Calls in flight: each has an id, a cancel signal and (for the callback API) its task, so
//! a call can be cancelled by id from any thread and a client being freed can complete every
//! call it still has (with `Cancelled`) before its runtime goes away.
//!
//! Asynchronous calls are registered when they start ([`InFlight::register`]). A streamed
//! call, which runs on the host's thread, is registered before it starts: the host reserves
//! an id ([`InFlight::reserve`]), hands it to the thread that may cancel, and starts the
//! stream under it ([`InFlight::start`]). A reserved id cancelled before its stream starts
//! stays known (cancelled) until then, so that the stream ends at once instead of running.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};

/// One call in flight.
struct Entry {
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
    /// A reserved id whose streamed call has not started yet.
    reserved: bool,
}

/// The calls in flight of one client.
#[derive(Default)]
pub struct InFlight {
    next_id: AtomicU64,
    calls: Mutex<HashMap<u64, Entry>>,
}

/// The error of a cancelled call.
pub fn cancelled(id: u64) -> Error {
    Error::new(ErrorKind::Cancelled, format!("call {id} was cancelled"))
}

impl InFlight {
    /// Registers a new call: its id and the token its task watches for cancellation.
    pub fn register(&self) -> (u64, CancellationToken) {
        self.insert(false)
    }

    /// Reserves an id for a streamed call that [`InFlight::start`] starts later.
    pub fn reserve(&self) -> u64 {
        self.insert(true).0
    }

    /// Starts the streamed call reserved as `id`: the token it watches for cancellation
    /// (already cancelled when [`InFlight::cancel`] came first). Each id starts one call: an
    /// unknown id, or one already started, is an invalid argument.
    pub fn start(&self, id: u64) -> Result<CancellationToken> {
        let mut calls = self.lock();
        match calls.get_mut(&id) {
            Some(entry) if entry.reserved => {
                entry.reserved = false;
                Ok(entry.cancel.clone())
            }
            _ => Err(Error::invalid_argument(format!(
                "call id {id} was not reserved with llmring_call_id_new, or was already used"
            ))),
        }
    }

    /// Records the task of call `id` (unless it already finished).
    pub fn set_task(&self, id: u64, task: JoinHandle<()>) {
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.task = Some(task);
        }
    }

    /// Forgets call `id` (its task is finishing).
    pub fn finish(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Signals call `id` to stop. Returns false when no such call is in flight (unknown id, or
    /// it already finished): cancelling is best effort and never an error.
    pub fn cancel(&self, id: u64) -> bool {
        let mut calls = self.lock();
        let Some(entry) = calls.get(&id) else {
            return false;
        };
        entry.cancel.cancel();
        if !entry.reserved {
            // The call still runs to its end (with Cancelled); keep nothing.
            calls.remove(&id);
        }
        true
    }

    /// Signals every call to stop and returns their tasks, to be awaited.
    pub fn cancel_all(&self) -> Vec<JoinHandle<()>> {
        let calls: Vec<Entry> = self.lock().drain().map(|(_, e)| e).collect();
        calls
            .into_iter()
            .filter_map(|entry| {
                entry.cancel.cancel();
                entry.task
            })
            .collect()
    }

    fn insert(&self, reserved: bool) -> (u64, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let cancel = CancellationToken::new();
        let entry = Entry {
            cancel: cancel.clone(),
            task: None,
            reserved,
        };
        self.lock().insert(id, entry);
        (id, cancel)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

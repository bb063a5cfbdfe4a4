//! Calls in flight for the callback API: each has an id, a cancel signal and its task, so a
//! call can be cancelled by id and a client being freed can complete every call it still
//! has (with `Cancelled`) before its runtime goes away.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One call in flight.
struct Entry {
    cancel: oneshot::Sender<()>,
    task: Option<JoinHandle<()>>,
}

/// The calls in flight of one client.
#[derive(Default)]
pub struct InFlight {
    next_id: AtomicU64,
    calls: Mutex<HashMap<u64, Entry>>,
}

impl InFlight {
    /// Registers a new call: its id and the receiver its task watches for cancellation.
    pub fn register(&self) -> (u64, oneshot::Receiver<()>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (cancel, cancelled) = oneshot::channel();
        self.lock().insert(id, Entry { cancel, task: None });
        (id, cancelled)
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
        match self.lock().remove(&id) {
            Some(entry) => {
                let _ = entry.cancel.send(());
                // The task still runs to its end (calling back with Cancelled); keep nothing.
                true
            }
            None => false,
        }
    }

    /// Signals every call to stop and returns their tasks, to be awaited.
    pub fn cancel_all(&self) -> Vec<JoinHandle<()>> {
        let calls: Vec<Entry> = self.lock().drain().map(|(_, e)| e).collect();
        calls
            .into_iter()
            .filter_map(|entry| {
                let _ = entry.cancel.send(());
                entry.task
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

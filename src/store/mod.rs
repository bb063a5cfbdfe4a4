//! Where receipts are kept. For now an in-memory list per client (the store issue adds the
//! durable, append-only file store behind the same interface).

mod filter;

pub use filter::Filter;

use std::sync::Mutex;

/// The receipts a client issued, as canonical JSON text with the fields used for filtering.
#[derive(Debug, Default)]
pub struct MemoryStore {
    receipts: Mutex<Vec<Stored>>,
}

/// One stored receipt.
#[derive(Debug, Clone)]
pub struct Stored {
    pub json: String,
    pub fields: filter::Fields,
}

impl MemoryStore {
    /// Appends a receipt (canonical JSON text).
    pub fn append(&self, json: String, fields: filter::Fields) {
        self.lock().push(Stored { json, fields });
    }

    /// The receipts matching `filter`, oldest first, copied out so the caller iterates
    /// without holding the lock.
    pub fn select(&self, filter: &Filter) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|r| filter.matches(&r.fields))
            .map(|r| r.json.clone())
            .collect()
    }

    /// How many receipts are stored.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Stored>> {
        // A panic while holding the lock cannot leave the Vec half-written (push is atomic
        // from the outside), so a poisoned lock is still usable.
        self.receipts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

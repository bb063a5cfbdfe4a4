//! Status codes with stable numbers. New codes are only ever appended.

use crate::error::ErrorKind;

/// The result of every fallible llmring function. The numbers are stable across versions.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum llmring_status_t {
    /// Success.
    LLMRING_OK = 0,
    /// An iterator has no more items (not an error).
    LLMRING_END = 1,
    /// An argument is NULL, not UTF-8, or out of range.
    LLMRING_INVALID_ARGUMENT = 2,
    /// Input is not acceptable JSON (syntax, duplicate keys, unsafe integers).
    LLMRING_INVALID_JSON = 3,
    /// Invalid configuration, lockfile or registry.
    LLMRING_CONFIG = 4,
    /// The provider rejected the credentials.
    LLMRING_AUTH = 5,
    /// The provider kept answering 429.
    LLMRING_RATE_LIMITED = 6,
    /// A request timed out.
    LLMRING_TIMEOUT = 7,
    /// A connection failed.
    LLMRING_NETWORK = 8,
    /// The provider answered with an error or an unreadable body.
    LLMRING_PROVIDER = 9,
    /// A call could not be priced in strict cost mode.
    LLMRING_COST_UNKNOWN = 10,
    /// A call would exceed a budget.
    LLMRING_BUDGET_EXCEEDED = 11,
    /// A signature is malformed.
    LLMRING_SIGNATURE = 12,
    /// A key is malformed, unreadable or too widely readable.
    LLMRING_KEY = 13,
    /// The receipt store failed.
    LLMRING_STORE = 14,
    /// The call was cancelled.
    LLMRING_CANCELLED = 15,
    /// A panic inside the library was caught at the boundary (a bug; please report it).
    LLMRING_PANIC = 16,
    /// An internal error (a bug; please report it).
    LLMRING_INTERNAL = 17,
    /// The client was created by another process (used in a child after `fork()`): create a
    /// new client in the child.
    LLMRING_FORKED = 18,
    /// The llmring server refused the API key or a report for good.
    LLMRING_SERVER = 19,
}

impl From<ErrorKind> for llmring_status_t {
    fn from(kind: ErrorKind) -> Self {
        use llmring_status_t::*;
        match kind {
            ErrorKind::InvalidArgument => LLMRING_INVALID_ARGUMENT,
            ErrorKind::InvalidJson => LLMRING_INVALID_JSON,
            ErrorKind::Config => LLMRING_CONFIG,
            ErrorKind::Auth => LLMRING_AUTH,
            ErrorKind::RateLimited => LLMRING_RATE_LIMITED,
            ErrorKind::Timeout => LLMRING_TIMEOUT,
            ErrorKind::Network => LLMRING_NETWORK,
            ErrorKind::Provider => LLMRING_PROVIDER,
            ErrorKind::CostUnknown => LLMRING_COST_UNKNOWN,
            ErrorKind::BudgetExceeded => LLMRING_BUDGET_EXCEEDED,
            ErrorKind::Signature => LLMRING_SIGNATURE,
            ErrorKind::Key => LLMRING_KEY,
            ErrorKind::Store => LLMRING_STORE,
            ErrorKind::Cancelled => LLMRING_CANCELLED,
            ErrorKind::Internal => LLMRING_INTERNAL,
            ErrorKind::Forked => LLMRING_FORKED,
            ErrorKind::Server => LLMRING_SERVER,
        }
    }
}

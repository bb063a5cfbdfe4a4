//! The one error type of the library. Every failure has a [`ErrorKind`] (a stable class that
//! the C ABI maps to a status number) and a human-readable message that never contains a
//! secret.

use std::fmt;

/// The class of a failure. The C ABI gives each a stable status number
/// (see `docs/errors.md`); new kinds are only ever appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument is missing, NULL, not UTF-8, or out of range.
    InvalidArgument,
    /// Input text is not acceptable JSON (syntax, duplicate keys, numbers out of range).
    InvalidJson,
    /// Configuration is invalid (unknown keys, bad lockfile, bad registry).
    Config,
    /// The provider rejected the credentials.
    Auth,
    /// The provider answered 429 after every retry.
    RateLimited,
    /// A request timed out.
    Timeout,
    /// A connection could not be made or broke.
    Network,
    /// The provider answered with an error or an unreadable body.
    Provider,
    /// A call could not be priced while strict cost mode is on.
    CostUnknown,
    /// A call would exceed a budget.
    BudgetExceeded,
    /// A signature is malformed (an invalid but well-formed signature is a result, not an error).
    Signature,
    /// A key is malformed, unreadable or too widely readable.
    Key,
    /// The receipt store failed.
    Store,
    /// The call was cancelled.
    Cancelled,
    /// A bug: something that should not happen.
    Internal,
    /// The client was created by another process: it is used in a child after `fork()`.
    Forked,
    /// The llmring server refused a request for good (its API key, or a report it will
    /// never accept), or answered something that cannot be read.
    Server,
}

impl ErrorKind {
    /// Stable upper-case name, used in error JSON (`"code"`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "LLMRING_INVALID_ARGUMENT",
            ErrorKind::InvalidJson => "LLMRING_INVALID_JSON",
            ErrorKind::Config => "LLMRING_CONFIG",
            ErrorKind::Auth => "LLMRING_AUTH",
            ErrorKind::RateLimited => "LLMRING_RATE_LIMITED",
            ErrorKind::Timeout => "LLMRING_TIMEOUT",
            ErrorKind::Network => "LLMRING_NETWORK",
            ErrorKind::Provider => "LLMRING_PROVIDER",
            ErrorKind::CostUnknown => "LLMRING_COST_UNKNOWN",
            ErrorKind::BudgetExceeded => "LLMRING_BUDGET_EXCEEDED",
            ErrorKind::Signature => "LLMRING_SIGNATURE",
            ErrorKind::Key => "LLMRING_KEY",
            ErrorKind::Store => "LLMRING_STORE",
            ErrorKind::Cancelled => "LLMRING_CANCELLED",
            ErrorKind::Internal => "LLMRING_INTERNAL",
            ErrorKind::Forked => "LLMRING_FORKED",
            ErrorKind::Server => "LLMRING_SERVER",
        }
    }
}

/// A failure: its kind, a message, and optional structured details (provider, model, HTTP
/// status, budget figures, ...), all safe to show to a user or write to a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    /// Adds a structured detail (shown in the error JSON beside code and message).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The error as a JSON object: `{"code": NAME, "message": TEXT, ...details}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        obj.insert("code".into(), self.kind.name().into());
        obj.insert("message".into(), self.message.clone().into());
        for (k, v) in &self.details {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
        serde_json::Value::Object(obj)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Result with the library's error.
pub type Result<T> = std::result::Result<T, Error>;

macro_rules! constructors {
    ($($fn_name:ident => $kind:ident),* $(,)?) => {
        impl Error {
            $(
                #[doc = concat!("An error of kind [`ErrorKind::", stringify!($kind), "`].")]
                pub fn $fn_name(message: impl Into<String>) -> Self {
                    Error::new(ErrorKind::$kind, message)
                }
            )*
        }
    };
}

constructors! {
    invalid_argument => InvalidArgument,
    invalid_json => InvalidJson,
    config => Config,
    signature => Signature,
    key => Key,
    store => Store,
    internal => Internal,
}

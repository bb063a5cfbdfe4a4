//! Server mode in the C ABI: flush the outbox, its status, the server's receipts and
//! statistics. See `docs/server.md`.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{call, opt_str_arg};
use super::client::{llmring_t, text_from_client};
use super::status::llmring_status_t;

/// Sends the reports waiting in the outbox, blocking up to `timeout_ms` while the server is
/// unreachable or failing (retrying with backoff). `*out_json` receives `{"sent": N
/// (delivered by this client since it was created), "pending": N, "failed": [{"key", "kind",
/// "local_receipt_id", "error", "at"}], "error": {...} | null (the last transient failure),
/// "blocked": false}`.
///
/// Errors: `LLMRING_SERVER` when the server refused the API key (the reports stay pending;
/// they are not retried in the background until the next call) or refused reports for good
/// since the last sync; the error JSON then has `sync` (the object above) and `http_status`
/// in `sync.error`. `LLMRING_CONFIG` when no server is configured.
///
/// Ownership: `client` is borrowed. On success `*out_json` receives a new string owned by
/// the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed,
/// out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_sync(
    client: *const llmring_t,
    timeout_ms: u64,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe {
            text_from_client(client, out_json, "out_json", |c| {
                c.sync(Duration::from_millis(timeout_ms))
            })
        }
    })
}

/// The outbox's state without sending anything: the JSON of `llmring_sync`, with `blocked:
/// true` while the server refuses the API key.
///
/// Ownership: `client` is borrowed. On success `*out_json` receives a new string owned by
/// the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed,
/// out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_server_status(
    client: *const llmring_t,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.server_status()) }
    })
}

/// The server's receipts (`GET /api/v1/receipts`), as the server answers. `filter_json` may
/// be NULL or `{"limit"?, "offset"?, "start_date"?, "end_date"?}`.
///
/// Ownership: `client` and `filter_json` are borrowed. On success `*out_json` receives a new
/// string owned by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_server_receipts(
    client: *const llmring_t,
    filter_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let filter = unsafe { opt_str_arg(filter_json, "filter_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.server_receipts(filter)) }
    })
}

/// The server's usage statistics (`GET /api/v1/stats`), as the server answers. `query_json`
/// may be NULL or `{"start_date"?, "end_date"? (YYYY-MM-DD), "group_by"? ("day", "week",
/// "month")}`.
///
/// Ownership: `client` and `query_json` are borrowed. On success `*out_json` receives a new
/// string owned by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_server_stats(
    client: *const llmring_t,
    query_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let query = unsafe { opt_str_arg(query_json, "query_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.server_stats(query)) }
    })
}

//! Store functions of the C ABI: statistics, export, verification.

use std::ffi::c_char;

use super::boundary::{call, opt_str_arg, str_arg};
use super::client::{llmring_t, text_from_client};
use super::status::llmring_status_t;

/// Statistics over the client's store: request count, tokens and cost (exact decimal sums) in
/// total and grouped by provider, alias, model, profile and UTC day, and the most expensive
/// alias. `query_json` may be NULL or `{"since"?, "until"?, "alias"?, "provider"?, "model"?,
/// "profile"?, "by"?: "provider"|"alias"|"model"|"profile"|"day" or a list}`.
///
/// Ownership: `client` and `query_json` are borrowed. On success `*out_json` receives a new
/// string owned by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_stats(
    client: *const llmring_t,
    query_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let query = unsafe { opt_str_arg(query_json, "query_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.stats(query)) }
    })
}

/// Exports receipts to a file: `options_json` is `{"format": "json"|"csv", "output": PATH,
/// "since"?, "until"?, "alias"?, "provider"?, "model"?, "profile"?}`. JSON has the reference's
/// shape (`exported_at`, `receipts` with every field and signature); CSV has a header row,
/// RFC 4180 quoting and formula-looking cells neutralised. The file appears complete or not
/// at all (written aside, then renamed).
///
/// Ownership: `client` and `options_json` are borrowed. On success `*out_json` receives
/// `{"exported": N, "format", "output"}`, owned by the caller (free with
/// `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_export(
    client: *const llmring_t,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let options = unsafe { str_arg(options_json, "options_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.export(options)) }
    })
}

/// Verifies the client's store: the hash chain (a changed, deleted, inserted or reordered
/// record is found, with its position) and every signature. `options_json` may be NULL or
/// `{"public_key"?, "public_keys"?: [...], "require_signed"?, "max_problems"?}`; without keys
/// the public key of the client's signing key is used. Problems are a result (`"ok": false`
/// in the report), not an error.
///
/// Ownership: `client` and `options_json` are borrowed. On success `*out_report_json`
/// receives the report, owned by the caller (free with `llmring_string_free`). `out_error` is
/// optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_verify_store(
    client: *const llmring_t,
    options_json: *const c_char,
    out_report_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe {
            text_from_client(client, out_report_json, "out_report_json", |c| {
                c.verify_store(options)
            })
        }
    })
}

//! Client functions of the C ABI: create, chat, iterate receipts, price usage, free.

use std::ffi::c_char;

use super::boundary::{c_string, call, opt_str_arg, out_arg, str_arg, write};
use super::status::llmring_status_t;
use crate::client::Client;

/// A client: configuration, lockfile, registry, signing key, receipts, one async runtime and
/// one HTTP connection pool. Thread-safe: one handle may be used from many threads at once.
#[allow(non_camel_case_types)]
pub struct llmring_t {
    client: Client,
}

/// An iterator over stored receipts. It streams the store (memory stays bounded whatever
/// its size) up to where the store ended when the iterator was created. Not thread-safe: use
/// it from one thread at a time.
#[allow(non_camel_case_types)]
pub struct llmring_receipts_iter_t {
    records: crate::store::Records,
}

/// Creates a client. `config_json` may be NULL or `"{}"` for every default; see
/// `docs/configuration.md` for the keys (unknown keys are `LLMRING_CONFIG`).
///
/// Ownership: `config_json` is borrowed. On success `*out_client` receives a new client owned
/// by the caller; release it with `llmring_free`. `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_new(
    config_json: *const c_char,
    out_client: *mut *mut llmring_t,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let config = unsafe { opt_str_arg(config_json, "config_json") }?;
        out_arg(out_client, "out_client")?;
        let client = Box::new(llmring_t {
            client: Client::new(config)?,
        });
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_client, Box::into_raw(client)) };
        Ok(())
    })
}

/// Releases a client. Accepts NULL. Receipts already returned stay valid (they are separate
/// strings). Do not call it while another thread is still using the client.
///
/// Ownership: takes ownership of `client`, which must not be used afterwards.
///
/// # Safety
/// `client` must be NULL or a pointer returned by `llmring_new` and not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_free(client: *mut llmring_t) {
    if client.is_null() {
        return;
    }
    super::boundary::release(|| {
        // SAFETY: non-NULL and, by contract, from `Box::into_raw` in `llmring_new`.
        drop(unsafe { Box::from_raw(client) });
    });
}

/// Sends one chat request and waits for the answer. Many threads may call it on the same
/// client at once. Do not call it from inside one of llmring's own callbacks.
///
/// `request_json`: `{"model": ALIAS | "provider:model", "messages": [...], "system"?,
/// "temperature"?, "max_tokens"?, "response_format"?, "tools"?, "tool_choice"?, "profile"?,
/// "metadata"?, "mock_response"?, "mock_usage"?}`. The response JSON has `content`, `model`,
/// `alias`, `profile`, `finish_reason`, `tool_calls`, `usage` (tokens, `cost`, `input_cost`,
/// `output_cost`, `cost_breakdown`, `cost_status`) and `receipt`. A failed call has no
/// receipt.
///
/// Ownership: `client` and `request_json` are borrowed. On success `*out_response_json`
/// receives a new string owned by the caller (free with `llmring_string_free`). `out_error`
/// is optional; its JSON names provider, model and HTTP status, never an API key.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_chat(
    client: *const llmring_t,
    request_json: *const c_char,
    out_response_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let request = unsafe { str_arg(request_json, "request_json") }?;
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe {
            text_from_client(client, out_response_json, "out_response_json", |c| {
                c.chat(request)
            })
        }
    })
}

/// Starts an iteration over the receipts in the client's store, oldest first. `filter_json` may be NULL or
/// `{"since"?, "until"? (RFC 3339; since inclusive, until exclusive), "alias"?, "provider"?,
/// "model"?, "profile"?}`.
///
/// Ownership: `client` and `filter_json` are borrowed; the iterator does not borrow the
/// client and may outlive it. On success `*out_iter` receives a new iterator owned by the
/// caller; release it with `llmring_receipts_iter_free`. `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipts_iter(
    client: *const llmring_t,
    filter_json: *const c_char,
    out_iter: *mut *mut llmring_receipts_iter_t,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let filter = unsafe { opt_str_arg(filter_json, "filter_json") }?;
        out_arg(out_iter, "out_iter")?;
        let records = client.receipts_iter(filter)?;
        // SAFETY: checked by `out_arg`.
        unsafe {
            write(
                out_iter,
                Box::into_raw(Box::new(llmring_receipts_iter_t { records })),
            )
        };
        Ok(())
    })
}

/// The next receipt: returns `LLMRING_OK` with `*out_receipt_json` set, or `LLMRING_END`
/// (and leaves `*out_receipt_json` untouched) when there are no more. A damaged record in
/// the store is `LLMRING_STORE`, with its line and byte offset in the message.
///
/// Ownership: `iter` is borrowed. Each receipt string is owned by the caller (free with
/// `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// `iter` must be NULL or a live iterator from `llmring_receipts_iter`, used by one thread at
/// a time; `out_receipt_json` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipts_iter_next(
    iter: *mut llmring_receipts_iter_t,
    out_receipt_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    let mut end = false;
    let status = call(out_error, || {
        if iter.is_null() {
            return Err(crate::Error::invalid_argument("iter is NULL"));
        }
        out_arg(out_receipt_json, "out_receipt_json")?;
        // SAFETY: non-NULL; a live iterator used by one thread at a time (function contract).
        let iter = unsafe { &mut *iter };
        match iter.records.next().transpose()? {
            Some(record) => {
                let receipt = c_string(record.json)?;
                // SAFETY: checked by `out_arg`.
                unsafe { write(out_receipt_json, receipt) };
            }
            None => end = true,
        }
        Ok(())
    });
    if end {
        llmring_status_t::LLMRING_END
    } else {
        status
    }
}

/// Releases an iterator. Accepts NULL.
///
/// Ownership: takes ownership of `iter`, which must not be used afterwards.
///
/// # Safety
/// `iter` must be NULL or a pointer returned by `llmring_receipts_iter` and not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipts_iter_free(iter: *mut llmring_receipts_iter_t) {
    if iter.is_null() {
        return;
    }
    super::boundary::release(|| {
        // SAFETY: non-NULL and, by contract, from `Box::into_raw` in `llmring_receipts_iter`.
        drop(unsafe { Box::from_raw(iter) });
    });
}

/// Prices usage obtained elsewhere with the client's registry. `model` is `provider:model`;
/// `usage_json` is that provider's own usage object (OpenAI `usage`, Anthropic `usage`,
/// Gemini `usageMetadata`, Ollama's final message). The result is the `usage` object a chat
/// response carries (`cost`, `input_cost`, `output_cost`, `cost_breakdown`, `cost_status`).
///
/// Ownership: all inputs are borrowed. On success `*out_json` receives a new string owned by
/// the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_calculate_cost(
    client: *const llmring_t,
    model: *const c_char,
    usage_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        // SAFETY: NULL or NUL-terminated strings (function contract).
        let model = unsafe { str_arg(model, "model") }?;
        // SAFETY: as above.
        let usage = unsafe { str_arg(usage_json, "usage_json") }?;
        out_arg(out_json, "out_json")?;
        let priced = c_string(client.calculate_cost(model, usage)?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_json, priced) };
        Ok(())
    })
}

/// The body of every function that asks a client for one text: borrows the client, checks
/// the out-pointer (named `out_name` in the error), runs `query`, and writes the text it gives
/// to `*out`, a new string owned by the caller.
///
/// # Safety
/// `client` must be NULL or a live handle from `llmring_new`; `out` NULL or writable.
pub(super) unsafe fn text_from_client(
    client: *const llmring_t,
    out: *mut *mut c_char,
    out_name: &str,
    query: impl FnOnce(&Client) -> crate::Result<String>,
) -> crate::Result<()> {
    // SAFETY: forwarded contract.
    let client = unsafe { client_arg(client) }?;
    out_arg(out, out_name)?;
    let text = c_string(query(client)?)?;
    // SAFETY: checked by `out_arg`; writable by the caller's contract.
    unsafe { write(out, text) };
    Ok(())
}

/// Borrows the client behind a handle.
///
/// # Safety
/// `ptr` must be NULL or a live handle from `llmring_new`.
pub(super) unsafe fn client_arg<'a>(ptr: *const llmring_t) -> crate::Result<&'a Client> {
    if ptr.is_null() {
        return Err(crate::Error::invalid_argument("client is NULL"));
    }
    // SAFETY: non-NULL and live (caller's contract); `Client` is `Sync`.
    Ok(unsafe { &(*ptr).client })
}

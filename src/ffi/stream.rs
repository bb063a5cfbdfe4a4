//! The streaming call of the C ABI.

use std::ffi::{CString, c_char, c_int, c_void};

use super::boundary::{c_string, call, out_arg, str_arg, to_c_string_lossy, write};
use super::client::{client_arg, llmring_t};
use super::status::llmring_status_t;

/// Returned by an `llmring_chunk_fn` for more chunks.
pub const LLMRING_STREAM_CONTINUE: c_int = 0;
/// Returned by an `llmring_chunk_fn` to stop the stream (any non-zero value does the same).
pub const LLMRING_STREAM_STOP: c_int = 1;

/// Called once per chunk of a streamed answer, on the thread that called
/// `llmring_chat_stream`, before that function returns.
///
/// `chunk_json` is `{"delta": "text"}` (more answer text, never empty) or
/// `{"tool_call_delta": {"index": N, "id": "...", "name": "...", "arguments": "..."}}` (a tool
/// call started or grew: `id` and `name` only on the call's first delta, `arguments` the next
/// piece of its JSON text). It is borrowed: valid only until the callback returns (copy what
/// you keep; do not free it).
///
/// Return `LLMRING_STREAM_CONTINUE` (0) for more, or `LLMRING_STREAM_STOP` (any non-zero
/// value) to stop: the connection is closed and `llmring_chat_stream` returns the response
/// for what was received.
///
/// The callback runs inside `llmring_chat_stream` and must not block for long. It must not
/// call `llmring_free` on the client, nor any function that blocks on a client
/// (`llmring_new`, `llmring_chat`, `llmring_chat_stream`: they fail with `LLMRING_PANIC`); it
/// may call `llmring_chat_async`, `llmring_cancel`, `llmring_receipts_iter`,
/// `llmring_calculate_cost` and every function that does not take a client.
#[allow(non_camel_case_types)]
pub type llmring_chunk_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, chunk_json: *const c_char) -> c_int>;

/// Sends one chat request with a streamed answer and blocks until it ends, calling `on_chunk`
/// on the calling thread for each chunk as it arrives (see `llmring_chunk_fn`).
///
/// The final response JSON is what `llmring_chat` returns for the same answer (`content`,
/// `usage`, `receipt`, ...), with the same receipt but for its id, timestamp and signature.
/// A stream that fails or ends before the provider's terminal event is an error (detail
/// `"stream": "cut"` for a cut stream) and issues no receipt; before the first chunk it is
/// retried and falls back to the next model like `llmring_chat`, after it neither. When the
/// callback stops the stream, the response has `"stopped_early": true` and is priced from
/// the usage the provider had reported; when that was missing or not final, the usage is
/// estimated and `cost_status` is `"estimated"` (in the receipt too), which strict cost mode
/// refuses with `LLMRING_COST_UNKNOWN` and no receipt.
///
/// Ownership: `client` and `request_json` are borrowed. `user_data` is passed to `on_chunk`
/// untouched and is not kept after this returns. On success `*out_final_json` receives a new
/// string owned by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable; `on_chunk` must be safe to call with
/// `user_data` on the calling thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_chat_stream(
    client: *const llmring_t,
    request_json: *const c_char,
    on_chunk: llmring_chunk_fn,
    user_data: *mut c_void,
    out_final_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: the caller's pointers, under this function's contract.
        unsafe {
            stream(
                client,
                None,
                request_json,
                on_chunk,
                user_data,
                out_final_json,
            )
        }
    })
}

/// Reserves a call id for `llmring_chat_stream_with_id`, so that another thread can cancel
/// that stream with `llmring_cancel(client, id)`, at any point: before the stream starts,
/// while it waits for the provider's first byte, or between chunks.
///
/// Each id starts one stream. An id reserved and never used is kept (a few bytes) until the
/// client is freed.
///
/// Ownership: `client` is borrowed; `*out_id` receives the id (a plain number, nothing to
/// free). `out_error` is optional. Thread-safe.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, `out_id`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_call_id_new(
    client: *const llmring_t,
    out_id: *mut u64,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        out_arg(out_id, "out_id")?;
        let id = client.call_id()?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_id, id) };
        Ok(())
    })
}

/// `llmring_chat_stream` under the call id `id` from `llmring_call_id_new`, so that
/// `llmring_cancel(client, id)` from any other thread ends it promptly with
/// `LLMRING_CANCELLED` (at once when the cancel came before this call). An id that was not
/// reserved, or was already used, is `LLMRING_INVALID_ARGUMENT`.
///
/// Cancelled before any chunk reached `on_chunk`: nothing is priced and no receipt is issued.
/// Cancelled after a chunk: the call is priced and receipted as if `on_chunk` had returned
/// `LLMRING_STREAM_STOP` (`"stopped_early": true`, the provider's usage or an estimate), and
/// the error JSON carries that final response, receipt included, in its `"response"` member
/// (`"not_receipted"` instead, with the error, when strict cost mode refused the estimate).
/// Either way `*out_final_json` is not written. Once cancelled, the stream reads nothing more
/// from the provider (chunks of a read already being delivered may still reach `on_chunk`).
///
/// Ownership: `client` and `request_json` are borrowed; `id` is a plain number. `user_data`
/// is passed to `on_chunk` untouched and is not kept after this returns. On success
/// `*out_final_json` receives a new string owned by the caller (free with
/// `llmring_string_free`). `out_error` is optional; on `LLMRING_CANCELLED` it receives the
/// error JSON (with `"response"` as above), owned by the caller.
///
/// Threads: `on_chunk` runs on the calling thread; `llmring_cancel` may be called from any
/// thread, and from `on_chunk`.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable; `on_chunk` must be safe to call with
/// `user_data` on the calling thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_chat_stream_with_id(
    client: *const llmring_t,
    id: u64,
    request_json: *const c_char,
    on_chunk: llmring_chunk_fn,
    user_data: *mut c_void,
    out_final_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: the caller's pointers, under this function's contract.
        unsafe {
            stream(
                client,
                Some(id),
                request_json,
                on_chunk,
                user_data,
                out_final_json,
            )
        }
    })
}

/// Reads the arguments of both streaming functions and runs the stream.
///
/// # Safety
/// The contract of `llmring_chat_stream`.
unsafe fn stream(
    client: *const llmring_t,
    id: Option<u64>,
    request_json: *const c_char,
    on_chunk: llmring_chunk_fn,
    user_data: *mut c_void,
    out_final_json: *mut *mut c_char,
) -> crate::Result<()> {
    // SAFETY: NULL or a live client (function contract).
    let client = unsafe { client_arg(client) }?;
    // SAFETY: NULL or a NUL-terminated string (function contract).
    let request = unsafe { str_arg(request_json, "request_json") }?;
    let on_chunk = on_chunk.ok_or_else(|| crate::Error::invalid_argument("on_chunk is NULL"))?;
    out_arg(out_final_json, "out_final_json")?;
    let deliver = |chunk: &str| {
        let chunk: CString = to_c_string_lossy(chunk.to_owned());
        // SAFETY: the host's function, called on this thread as its contract says; the
        // string outlives the call.
        unsafe { on_chunk(user_data, chunk.as_ptr()) == LLMRING_STREAM_CONTINUE }
    };
    let response = match id {
        None => client.chat_stream(request, deliver),
        Some(id) => client.chat_stream_with_id(id, request, deliver),
    }?;
    let response = c_string(response)?;
    // SAFETY: checked by `out_arg`.
    unsafe { write(out_final_json, response) };
    Ok(())
}

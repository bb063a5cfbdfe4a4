//! The callback API of the C ABI: asynchronous chat calls and their cancellation.

use std::ffi::{c_char, c_void};

use super::boundary::{call, error_json, out_arg, release, str_arg, to_c_string_lossy, write};
use super::client::{client_arg, llmring_t};
use super::status::llmring_status_t;

/// Called exactly once when an asynchronous call ends, on one of the client's own threads
/// (never the thread that started the call).
///
/// On success `status` is `LLMRING_OK`, `response_json` the response (as `llmring_chat`
/// returns it) and `error_json` NULL; on failure `response_json` is NULL and `error_json` the
/// error JSON. Both strings are borrowed: valid only until the callback returns (copy what you
/// keep; do not free them). The callback must return promptly and must not call
/// `llmring_chat` or `llmring_free` on the same client; it may call `llmring_chat_async`,
/// `llmring_cancel` and every function that does not take a client.
#[allow(non_camel_case_types)]
pub type llmring_done_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: llmring_status_t,
        response_json: *const c_char,
        error_json: *const c_char,
    ),
>;

/// The host's `user_data` pointer, handed back to its callback on another thread.
struct UserData(*mut c_void);
// SAFETY: llmring never dereferences it; the host promises (function contract) that its
// callback may use it from another thread.
unsafe impl Send for UserData {}

/// Starts a chat call without blocking: returns at once with the call's id in
/// `*out_request_id`, and `on_done` runs exactly once when the call ends (see
/// `llmring_done_fn`), with `LLMRING_CANCELLED` after `llmring_cancel` or when the client is
/// freed first. A request that cannot be read fails here and `on_done` is not called.
///
/// Ownership: `client` and `request_json` are borrowed (the request is read before this
/// returns). `user_data` is passed to `on_done` untouched and must stay valid until then.
/// `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: `client` from `llmring_new` and not freed, input
/// strings NUL-terminated, out-pointers writable; `on_done` must be safe to call from another
/// thread with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_chat_async(
    client: *const llmring_t,
    request_json: *const c_char,
    on_done: llmring_done_fn,
    user_data: *mut c_void,
    out_request_id: *mut u64,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let request = unsafe { str_arg(request_json, "request_json") }?;
        let on_done = on_done.ok_or_else(|| crate::Error::invalid_argument("on_done is NULL"))?;
        out_arg(out_request_id, "out_request_id")?;
        let user_data = UserData(user_data);
        let id = client.chat_async(
            request,
            Box::new(move |result| {
                let user_data = user_data;
                release(|| deliver(on_done, user_data.0, result));
            }),
        )?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_request_id, id) };
        Ok(())
    })
}

/// Calls the host's callback with the outcome; the strings live until it returns.
fn deliver(
    on_done: unsafe extern "C" fn(*mut c_void, llmring_status_t, *const c_char, *const c_char),
    user_data: *mut c_void,
    result: crate::Result<String>,
) {
    let (status, response, error) = match result {
        Ok(response) => (
            llmring_status_t::LLMRING_OK,
            Some(to_c_string_lossy(response)),
            None,
        ),
        Err(e) => {
            let status = llmring_status_t::from(e.kind);
            (
                status,
                None,
                Some(to_c_string_lossy(error_json(&e, status))),
            )
        }
    };
    let ptr = |s: &Option<std::ffi::CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: the host's function, called as its contract says; the strings outlive the call.
    unsafe { on_done(user_data, status, ptr(&response), ptr(&error)) };
}

/// Cancels an asynchronous call: its callback receives `LLMRING_CANCELLED` unless it already
/// completed. Cancelling an unknown or finished id does nothing. The provider request is
/// abandoned (its connection closed), not only the wait.
///
/// Ownership: `client` is borrowed. `out_error` is optional.
///
/// # Safety
/// `client` must be NULL or a live client from `llmring_new`; `out_error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_cancel(
    client: *const llmring_t,
    request_id: u64,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        client.check_process()?;
        client.cancel(request_id);
        Ok(())
    })
}

//! Budget functions of the C ABI.

use std::ffi::{c_char, c_void};

use super::boundary::{call, release, to_c_string_lossy};
use super::client::{client_arg, llmring_t, text_from_client};
use super::status::llmring_status_t;

/// Called after a call with each budget past its soft threshold, on the thread that finished
/// the call. `warning_json` (`{"budget","window","spent","reserved","limit","threshold"}`) is
/// borrowed until the callback returns. It must return promptly and must not call
/// `llmring_chat` or `llmring_free`.
#[allow(non_camel_case_types)]
pub type llmring_budget_warning_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, warning_json: *const c_char)>;

struct UserData(*mut c_void);
// SAFETY: llmring never dereferences it; the host promises (function contract) that its
// callback may use it from any thread.
unsafe impl Send for UserData {}
// SAFETY: as above; the pointer is only handed back to the host's callback.
unsafe impl Sync for UserData {}

/// Every budget with its window, window start, spent, reserved, limit and remaining (exact
/// decimals): `{"budgets": [...]}`. Spend includes receipts other processes appended to the
/// same store.
///
/// Ownership: `client` is borrowed. On success `*out_json` receives a new string owned by the
/// caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// `client` must be NULL or a live client from `llmring_new`; out-pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_budget_status(
    client: *const llmring_t,
    out_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client, out-pointer NULL or writable (function contract).
        unsafe { text_from_client(client, out_json, "out_json", |c| c.budget_status()) }
    })
}

/// Sets the function called with each budget past its soft threshold after a call (the
/// warnings are also in the response JSON as `budget_warnings`). NULL clears it.
///
/// Ownership: `client` is borrowed; `user_data` is passed to `on_warning` untouched and must
/// stay valid until the callback is cleared or the client freed. `out_error` is optional.
///
/// # Safety
/// `client` must be NULL or a live client from `llmring_new`; `on_warning` must be safe to call
/// from any thread with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_on_budget_warning(
    client: *const llmring_t,
    on_warning: llmring_budget_warning_fn,
    user_data: *mut c_void,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a live client (function contract).
        let client = unsafe { client_arg(client) }?;
        client.check_process()?;
        let user_data = UserData(user_data);
        client.on_budget_warning(on_warning.map(|f| {
            Box::new(move |w: &crate::budget::Warning| {
                let data = &user_data;
                release(|| {
                    let json = crate::receipt::to_json(&w.to_json()).unwrap_or_default();
                    let text = to_c_string_lossy(json);
                    // SAFETY: the host's function, called as its contract says.
                    unsafe { f(data.0, text.as_ptr()) };
                });
            }) as crate::client::budget::WarningCallback
        }));
        Ok(())
    })
}

//! The C ABI: a thin shell over the core. Each exported function checks its pointers,
//! converts strings, calls one core function inside the panic boundary ([`boundary::call`]),
//! and writes its outputs. No business logic lives here.
//!
//! Conventions (also in the generated header and `docs/c-api.md`):
//! - every fallible function returns [`status::llmring_status_t`];
//! - outputs are written only on success; strings returned through `char **` belong to the
//!   caller and are released with [`llmring_string_free`];
//! - `char **out_error` is optional (may be NULL); on failure it receives an error JSON object
//!   `{"code","status","message",...}` owned by the caller, on success it is set to NULL;
//! - strings passed in are borrowed, must be NUL-terminated UTF-8, and are not kept.

pub mod boundary;
pub mod budget;
pub mod callback;
pub mod client;
pub mod keys;
pub mod receipt;
pub mod server;
pub mod status;
pub mod store;
pub mod stream;

use std::ffi::{CString, c_char};

/// Releases a string returned by any llmring function, overwriting it with zeros first (it
/// may hold a private key). Accepts NULL.
///
/// Ownership: takes ownership of `s`, which must have come from llmring and must not be used
/// afterwards. Never pass a string that llmring did not return.
///
/// # Safety
/// `s` must be NULL or a string returned by llmring that was not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    boundary::release(|| {
        // SAFETY: `s` is non-NULL and, by this function's contract, was returned by
        // `CString::into_raw` in this library and not freed before.
        let bytes = unsafe { CString::from_raw(s) }.into_bytes_with_nul();
        // Returned strings may hold key material (llmring_keypair_generate): wipe them all.
        zeroize::Zeroizing::new(bytes);
    });
}

/// The library version as `"MAJOR.MINOR.PATCH"`, the same as `LLMRING_VERSION`.
///
/// Ownership: the returned string is static; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn llmring_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

//! The C entry points that take strings and no client, called as C would call them: with
//! arbitrary NUL-terminated bytes (input lines: 1 a JSON text, 2 a key, 3 a key format name),
//! with and without `out_error`, every output freed with `llmring_string_free`. No call may
//! panic (`LLMRING_PANIC`), and the canonical JSON and digest agree with the Rust API.
#![no_main]

use std::ffi::{CStr, CString, c_char};
use std::ptr::{null, null_mut};

use libfuzzer_sys::fuzz_target;
use llmring::ffi::keys::{llmring_keypair_generate, llmring_public_key_from_private};
use llmring::ffi::llmring_string_free;
use llmring::ffi::receipt::{
    llmring_receipt_canonical_json, llmring_receipt_digest, llmring_receipt_generate,
    llmring_receipt_sign, llmring_verify_receipt,
};
use llmring::ffi::status::llmring_status_t;
use llmring::receipt::api;
use llmring_fuzz::{c_string, fields};

/// Runs `f` (given an output and an error out-pointer) with and without the error
/// out-pointer; checks the status, frees the outputs, and returns the status and the first
/// call's output text.
fn both(
    mut f: impl FnMut(*mut *mut c_char, *mut *mut c_char) -> llmring_status_t,
) -> (llmring_status_t, String) {
    let mut out: *mut c_char = null_mut();
    let mut error: *mut c_char = null_mut();
    let status = f(&mut out, &mut error);
    assert_ne!(
        status,
        llmring_status_t::LLMRING_PANIC,
        "panic: {}",
        take(error)
    );
    assert_eq!(status == llmring_status_t::LLMRING_OK, error.is_null());
    take(error);
    let text = take(out);
    let mut out: *mut c_char = null_mut();
    assert_eq!(
        f(&mut out, null_mut()),
        status,
        "the status depends on out_error"
    );
    take(out);
    (status, text)
}

/// The text of a string returned by llmring (empty for NULL), freed.
fn take(s: *mut c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string returned by llmring, not freed yet.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    // SAFETY: returned by llmring and freed once, here.
    unsafe { llmring_string_free(s) };
    text
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

fuzz_target!(|data: &[u8]| {
    let parts = fields(data, 3);
    let json = c_string(parts[0]);
    let key = c_string(parts[1]);
    let format = c_string(parts[2]);
    let rust_json = json.to_str().ok();
    for key in [Some(key.clone()), None] {
        for json in [Some(json.clone()), None] {
            // SAFETY (all calls below): NUL-terminated strings or NULL, writable out-pointers.
            both(|o, e| unsafe { llmring_receipt_generate(ptr(&json), ptr(&key), o, e) });
            both(|o, e| unsafe { llmring_receipt_sign(ptr(&json), ptr(&key), o, e) });
            let mut valid = false;
            both(|_, e| unsafe { llmring_verify_receipt(ptr(&json), ptr(&key), &mut valid, e) });
            both(|o, e| unsafe { llmring_public_key_from_private(ptr(&key), ptr(&json), o, e) });
        }
        // SAFETY: as above.
        both(|o, e| unsafe { llmring_public_key_from_private(ptr(&key), format.as_ptr(), o, e) });
    }

    // SAFETY: as above.
    let (status, canonical) =
        both(|o, e| unsafe { llmring_receipt_canonical_json(json.as_ptr(), o, e) });
    if let Some(text) = rust_json {
        assert_eq!(
            status == llmring_status_t::LLMRING_OK,
            api::canonical(text).is_ok()
        );
        if let Ok(expected) = api::canonical(text) {
            assert_eq!(canonical, expected);
        }
    }
    // SAFETY: as above.
    let (status, digest) = both(|o, e| unsafe { llmring_receipt_digest(json.as_ptr(), o, e) });
    if let (Some(text), llmring_status_t::LLMRING_OK) = (rust_json, status) {
        assert_eq!(digest, api::digest(text).expect("the C API accepted it"));
    }

    // SAFETY: as above.
    both(|_, e| {
        let mut private: *mut c_char = null_mut();
        let mut public: *mut c_char = null_mut();
        let status =
            unsafe { llmring_keypair_generate(format.as_ptr(), &mut private, &mut public, e) };
        take(private);
        take(public);
        status
    });
});

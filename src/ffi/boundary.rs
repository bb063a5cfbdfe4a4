//! The panic boundary and the pointer helpers every exported function uses.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::status::llmring_status_t;
use crate::error::{Error, Result};

/// Runs `body` inside the panic boundary: a returned error or a caught panic becomes a
/// status, and its JSON is written to `out_error` when that is not NULL (set to NULL on
/// success). `body` writes the function's outputs itself, after all fallible work.
///
/// `out_error` must be NULL or writable: every exported function states this in its
/// `# Safety` section, so the check is the exported function's contract, not this helper's.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn call(out_error: *mut *mut c_char, body: impl FnOnce() -> Result<()>) -> llmring_status_t {
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let (status, error) = match outcome {
        Ok(Ok(())) => (llmring_status_t::LLMRING_OK, None),
        Ok(Err(e)) => (llmring_status_t::from(e.kind), Some(e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            (
                llmring_status_t::LLMRING_PANIC,
                Some(Error::internal(format!("panic inside llmring: {what}"))),
            )
        }
    };
    if !out_error.is_null() {
        let text = error.map(|e| error_json(&e, status));
        let ptr = text.map_or(std::ptr::null_mut(), |t| to_c_string_lossy(t).into_raw());
        // SAFETY: `out_error` is non-NULL and, by every function's contract, points to
        // writable storage for one `char *`.
        unsafe { *out_error = ptr };
    }
    status
}

/// The error JSON handed to C: `{"code","status","message",...details}`.
pub fn error_json(error: &Error, status: llmring_status_t) -> String {
    let mut value = error.to_json();
    if status == llmring_status_t::LLMRING_PANIC {
        value["code"] = "LLMRING_PANIC".into();
    }
    value["status"] = (status as i32).into();
    value.to_string()
}

/// A C string from text that might hold a NUL (which C cannot carry): NULs become U+FFFD.
pub fn to_c_string_lossy(text: String) -> CString {
    CString::new(text).unwrap_or_else(|e| {
        let cleaned = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{fffd}");
        CString::new(cleaned).expect("NULs were replaced")
    })
}

/// Runs a `*_free` function's body: a panic is swallowed (a free function has no status to
/// report it with, and unwinding into C is undefined behaviour).
pub fn release(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Borrows a required string argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that stays valid for `'a`.
pub unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes)
        .map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// Borrows an optional string argument (NULL is `None`).
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// Checks that a required out-pointer is not NULL, before any work is done.
pub fn out_arg<T>(ptr: *mut T, name: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::invalid_argument(format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Converts an output string for C. Text with a NUL cannot cross the boundary intact.
pub fn c_string(text: String) -> Result<*mut c_char> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Error::internal("output text contains a NUL byte"))
}

/// Writes an output value.
///
/// # Safety
/// `ptr` must have been checked with [`out_arg`] and point to writable storage for a `T`.
pub unsafe fn write<T>(ptr: *mut T, value: T) {
    // SAFETY: checked non-NULL by `out_arg`; writability is the caller's contract.
    unsafe { ptr.write(value) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::llmring_string_free;

    fn take(ptr: *mut c_char) -> String {
        // SAFETY: the pointer came from `call`, which made it with `CString::into_raw`.
        let s = unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned();
        unsafe { llmring_string_free(ptr) };
        s
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        let mut err: *mut c_char = std::ptr::null_mut();
        let status = call(&mut err, || panic!("boom"));
        assert_eq!(status, llmring_status_t::LLMRING_PANIC);
        let json: serde_json::Value = serde_json::from_str(&take(err)).unwrap();
        assert_eq!(json["code"], "LLMRING_PANIC");
        assert_eq!(json["status"], 16);
        assert!(json["message"].as_str().unwrap().contains("boom"));
    }

    #[test]
    fn errors_carry_code_status_and_details() {
        let mut err: *mut c_char = std::ptr::null_mut();
        let status = call(&mut err, || {
            Err(Error::key("bad key").with("provider", "openai"))
        });
        assert_eq!(status, llmring_status_t::LLMRING_KEY);
        let json: serde_json::Value = serde_json::from_str(&take(err)).unwrap();
        assert_eq!(json["code"], "LLMRING_KEY");
        assert_eq!(json["status"], 13);
        assert_eq!(json["provider"], "openai");
    }

    #[test]
    fn success_clears_the_error_pointer_and_null_is_allowed() {
        let mut err: *mut c_char = std::ptr::dangling_mut();
        assert_eq!(call(&mut err, || Ok(())), llmring_status_t::LLMRING_OK);
        assert!(err.is_null());
        assert_eq!(
            call(std::ptr::null_mut(), || Err(Error::internal("x"))),
            llmring_status_t::LLMRING_INTERNAL
        );
    }
}

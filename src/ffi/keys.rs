//! Key functions of the C ABI.

use std::ffi::c_char;

use super::boundary::{c_string, call, opt_str_arg, out_arg, str_arg, write};
use super::status::llmring_status_t;
use crate::receipt::keys::{self, KeyFormat};

/// Generates a new Ed25519 key pair.
///
/// `format` is `"base64url"` (the default when NULL), `"base64"`, `"hex"` or `"pem"`
/// (PKCS#8 private, SPKI public).
///
/// Ownership: `format` is borrowed. On success `*out_private_key` and `*out_public_key`
/// receive new strings owned by the caller; free each with `llmring_string_free` (the private
/// key is secret: overwrite it before freeing if it was copied). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_keypair_generate(
    format: *const c_char,
    out_private_key: *mut *mut c_char,
    out_public_key: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: `format` is NULL or a NUL-terminated string (function contract).
        let format = parse_format(unsafe { opt_str_arg(format, "format") }?)?;
        out_arg(out_private_key, "out_private_key")?;
        out_arg(out_public_key, "out_public_key")?;
        let key = keys::generate()?;
        let private = c_string(keys::encode_private(&key, format)?.to_string())?;
        let public = c_string(keys::encode_public(&key.verifying_key(), format)?)?;
        // SAFETY: both out-pointers were checked by `out_arg`.
        unsafe {
            write(out_private_key, private);
            write(out_public_key, public);
        }
        Ok(())
    })
}

/// Derives the public key of a private key given in any accepted form (base64url, base64,
/// hex or PKCS#8 PEM), written in `format` (NULL means `"base64url"`).
///
/// Ownership: `private_key` and `format` are borrowed. On success `*out_public_key` receives a
/// new string owned by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_public_key_from_private(
    private_key: *const c_char,
    format: *const c_char,
    out_public_key: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or NUL-terminated strings (function contract).
        let private_key = unsafe { str_arg(private_key, "private_key") }?;
        // SAFETY: as above.
        let format = parse_format(unsafe { opt_str_arg(format, "format") }?)?;
        out_arg(out_public_key, "out_public_key")?;
        let key = keys::parse_private(private_key)?;
        let public = c_string(keys::encode_public(&key.verifying_key(), format)?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_public_key, public) };
        Ok(())
    })
}

fn parse_format(name: Option<&str>) -> crate::Result<KeyFormat> {
    name.map_or(Ok(KeyFormat::default()), KeyFormat::parse)
}

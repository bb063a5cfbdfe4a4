//! Receipt functions of the C ABI.

use std::ffi::c_char;

use super::boundary::{c_string, call, opt_str_arg, out_arg, str_arg, write};
use super::status::llmring_status_t;
use crate::receipt::{api, keys};

/// Builds a receipt (the reference's ReceiptGenerator), for hosts that call a provider
/// themselves: fills a new UUID and the current UTC timestamp and signs it when
/// `private_key` is not NULL.
///
/// `input_json`: `{"alias","profile","lock_digest","provider","model","usage":
/// {"prompt_tokens","completion_tokens","total_tokens"?},"costs":{"input_cost","output_cost",
/// "total_cost"?},"extra"?:{...}}`; costs are numbers or decimal strings; missing totals are
/// the sums, given totals must equal them.
///
/// Ownership: `input_json` and `private_key` are borrowed. On success `*out_receipt_json`
/// receives the receipt as canonical JSON, owned by the caller (free with
/// `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipt_generate(
    input_json: *const c_char,
    private_key: *const c_char,
    out_receipt_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or NUL-terminated strings (function contract).
        let input = unsafe { str_arg(input_json, "input_json") }?;
        // SAFETY: as above.
        let key = unsafe { opt_str_arg(private_key, "private_key") }?;
        out_arg(out_receipt_json, "out_receipt_json")?;
        let key = key.map(keys::parse_private).transpose()?;
        let receipt = c_string(api::generate(input, key.as_ref())?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_receipt_json, receipt) };
        Ok(())
    })
}

/// Signs a receipt: sets `signature` to `ed25519:<base64url>` over the RFC 8785 form of the
/// other members (any existing signature is replaced).
///
/// Ownership: `receipt_json` and `private_key` are borrowed. On success `*out_signed_json`
/// receives the signed receipt as canonical JSON, owned by the caller (free with
/// `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipt_sign(
    receipt_json: *const c_char,
    private_key: *const c_char,
    out_signed_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or NUL-terminated strings (function contract).
        let receipt = unsafe { str_arg(receipt_json, "receipt_json") }?;
        // SAFETY: as above.
        let key = unsafe { str_arg(private_key, "private_key") }?;
        out_arg(out_signed_json, "out_signed_json")?;
        let key = keys::parse_private(key)?;
        let signed = c_string(api::sign(receipt, &key)?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_signed_json, signed) };
        Ok(())
    })
}

/// Verifies a receipt's signature with a public key (base64url, base64, hex or SPKI PEM).
///
/// A wrong, missing or malformed signature is a result: the call returns `LLMRING_OK` and sets
/// `*out_valid` to false. Malformed JSON (`LLMRING_INVALID_JSON`) or a malformed key
/// (`LLMRING_KEY`) is an error. Accepts signatures as `ed25519:<base64url>` or plain standard
/// base64, over RFC 8785 bytes or the reference Python signer's bytes.
///
/// Ownership: `receipt_json` and `public_key` are borrowed. `*out_valid` is written on
/// success. `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_verify_receipt(
    receipt_json: *const c_char,
    public_key: *const c_char,
    out_valid: *mut bool,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or NUL-terminated strings (function contract).
        let receipt = unsafe { str_arg(receipt_json, "receipt_json") }?;
        // SAFETY: as above.
        let key = unsafe { str_arg(public_key, "public_key") }?;
        out_arg(out_valid, "out_valid")?;
        let key = keys::parse_public(key)?;
        let verification = api::verify(receipt, &key)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_valid, verification.valid) };
        Ok(())
    })
}

/// The RFC 8785 canonical JSON of any JSON value; for an object, its `signature` member is
/// left out (these are the bytes that are signed).
///
/// Ownership: `json` is borrowed. On success `*out_canonical_json` receives a new string owned
/// by the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipt_canonical_json(
    json: *const c_char,
    out_canonical_json: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let json = unsafe { str_arg(json, "json") }?;
        out_arg(out_canonical_json, "out_canonical_json")?;
        let canonical = c_string(api::canonical(json)?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_canonical_json, canonical) };
        Ok(())
    })
}

/// The hex SHA-256 digest of `llmring_receipt_canonical_json`'s bytes (64 lower-case hex
/// characters).
///
/// Ownership: `json` is borrowed. On success `*out_digest_hex` receives a new string owned by
/// the caller (free with `llmring_string_free`). `out_error` is optional.
///
/// # Safety
/// Each pointer must be NULL or valid: input strings NUL-terminated and readable for the
/// call, out-pointers writable. NULL where a value is required is reported as
/// `LLMRING_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn llmring_receipt_digest(
    json: *const c_char,
    out_digest_hex: *mut *mut c_char,
    out_error: *mut *mut c_char,
) -> llmring_status_t {
    call(out_error, || {
        // SAFETY: NULL or a NUL-terminated string (function contract).
        let json = unsafe { str_arg(json, "json") }?;
        out_arg(out_digest_hex, "out_digest_hex")?;
        let digest = c_string(api::digest(json)?)?;
        // SAFETY: checked by `out_arg`.
        unsafe { write(out_digest_hex, digest) };
        Ok(())
    })
}

//! The C entry points of a client, with arbitrary NUL-terminated text. Input lines:
//! 1 configuration JSON for `llmring_new`, 2 a chat request, 3 a model (`provider:model`),
//! 4 usage JSON, 5 a query / options / filter JSON. The configuration is confined: receipts in
//! memory (`store: ":memory:"`), no lockfile, registry or key file paths, every provider at a
//! closed loopback port, no retries; when it is not a JSON object it is passed as is (and the
//! calls then use a default confined client). No call may panic (`LLMRING_PANIC`); outputs are
//! freed with `llmring_string_free`, clients with `llmring_free`.
#![no_main]

use std::ffi::{CString, c_char};
use std::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use llmring::ffi::budget::llmring_budget_status;
use llmring::ffi::client::{
    llmring_calculate_cost, llmring_chat, llmring_free, llmring_new, llmring_receipts_iter,
    llmring_receipts_iter_free, llmring_receipts_iter_next, llmring_t,
};
use llmring::ffi::llmring_string_free;
use llmring::ffi::status::llmring_status_t;
use llmring::ffi::store::{llmring_export, llmring_stats, llmring_verify_store};
use llmring_fuzz::{c_string, fields};
use serde_json::{Map, Value, json};

const CLOSED_PORT: &str = "http://127.0.0.1:9";

/// The configuration with everything that reaches the disk or the network confined.
fn confine(mut config: Map<String, Value>) -> Map<String, Value> {
    for key in ["lockfile", "registry", "signing_key_file"] {
        config.remove(key);
    }
    config.insert("store".into(), ":memory:".into());
    config.insert("max_retries".into(), 0.into());
    config.insert("timeout_ms".into(), 2000.into());
    let providers = config
        .entry("providers")
        .or_insert_with(|| Value::Object(Map::new()));
    if !providers.is_object() {
        *providers = Value::Object(Map::new());
    }
    let providers = providers.as_object_mut().expect("an object");
    for name in ["openai", "anthropic", "google", "ollama"] {
        let provider = providers.entry(name).or_insert_with(|| json!({}));
        if !provider.is_object() {
            *provider = json!({});
        }
        provider["base_url"] = CLOSED_PORT.into();
    }
    config
}

/// Runs `f` with fresh output and error out-pointers; checks the status (never a panic) and
/// frees both.
fn call(
    f: impl FnOnce(*mut *mut c_char, *mut *mut c_char) -> llmring_status_t,
) -> llmring_status_t {
    let mut out: *mut c_char = null_mut();
    let mut error: *mut c_char = null_mut();
    let status = f(&mut out, &mut error);
    let message = take(error);
    assert_ne!(status, llmring_status_t::LLMRING_PANIC, "{message}");
    take(out);
    status
}

/// The text of a string returned by llmring (empty for NULL), freed.
fn take(s: *mut c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string returned by llmring, not freed yet.
    let text = unsafe { std::ffi::CStr::from_ptr(s) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: returned by llmring and freed once, here.
    unsafe { llmring_string_free(s) };
    text
}

fn new_client(config: &CString) -> Option<*mut llmring_t> {
    let mut client: *mut llmring_t = null_mut();
    // SAFETY: a NUL-terminated string and writable out-pointers.
    let status = call(|_, e| unsafe { llmring_new(config.as_ptr(), &mut client, e) });
    (status == llmring_status_t::LLMRING_OK).then_some(client)
}

fuzz_target!(|data: &[u8]| {
    let parts = fields(data, 5);
    let config = match serde_json::from_slice::<Map<String, Value>>(parts[0]) {
        Ok(map) => CString::new(Value::Object(confine(map)).to_string()).expect("JSON has no NUL"),
        Err(_) => c_string(parts[0]),
    };
    let client = match new_client(&config) {
        Some(client) => client,
        None => {
            let fallback = Value::Object(confine(Map::new())).to_string();
            new_client(&CString::new(fallback).expect("no NUL")).expect("the default client")
        }
    };
    let request = c_string(parts[1]);
    let model = c_string(parts[2]);
    let usage = c_string(parts[3]);
    let query = c_string(parts[4]);
    // SAFETY (every call below): `client` is live until `llmring_free`; strings are
    // NUL-terminated; out-pointers are writable.
    unsafe {
        call(|o, e| llmring_chat(client, request.as_ptr(), o, e));
        call(|o, e| llmring_calculate_cost(client, model.as_ptr(), usage.as_ptr(), o, e));
        call(|o, e| llmring_stats(client, query.as_ptr(), o, e));
        call(|o, e| llmring_export(client, query.as_ptr(), o, e));
        call(|o, e| llmring_verify_store(client, query.as_ptr(), o, e));
        call(|o, e| llmring_budget_status(client, o, e));
        let mut iter = null_mut();
        if call(|_, e| llmring_receipts_iter(client, query.as_ptr(), &mut iter, e))
            == llmring_status_t::LLMRING_OK
        {
            while call(|o, e| llmring_receipts_iter_next(iter, o, e))
                == llmring_status_t::LLMRING_OK
            {}
            llmring_receipts_iter_free(iter);
        }
        llmring_free(client);
    }
});

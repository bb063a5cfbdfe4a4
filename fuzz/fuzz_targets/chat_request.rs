//! Chat request JSON (`ChatRequest::from_json`, what `llmring_chat` reads): never panics, and
//! every request it accepts maps to each provider's plain and streaming HTTP request (or a
//! clear error) and, with `mock_response`, to the mock's answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::chat::ChatRequest;
use llmring::providers::{Endpoint, Provider, mock};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = ChatRequest::from_json(text) else {
        return;
    };
    let endpoint = Endpoint::new("http://127.0.0.1:9", Some("fuzz-key".to_owned()));
    for provider in Provider::ALL {
        if let Ok(http) = provider.build_request(&req, &req.model, &endpoint) {
            let _ = http.body_bytes();
        }
        if let Ok(http) = provider.build_stream_request(&req, &req.model, &endpoint) {
            let _ = http.body_bytes();
        }
    }
    if req.mock_response.is_some() {
        let reply = mock::reply(&req).expect("a validated mock request has an answer");
        let usage = reply.usage.expect("the mock always reports usage");
        llmring::cost::normalize_usage("openai", &usage).expect("the mock's usage normalizes");
    }
});

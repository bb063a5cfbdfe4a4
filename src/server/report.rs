//! The bodies reported to the server after a call, built from the request and the response
//! JSON the host gets (so they say exactly what the local receipt says).

use std::time::Duration;

use serde_json::{Value, json};

use super::config::Settings;
use super::outbox::Report;
use crate::chat::ChatRequest;

/// The usage report of a call (and its conversation report when conversations are on).
/// `response` is the call's response JSON, `receipt` included.
pub fn reports(
    settings: &Settings,
    request: &ChatRequest,
    response: &Value,
    latency: Duration,
) -> Vec<Report> {
    let receipt = &response["receipt"];
    let id = receipt["receipt_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let usage = &response["usage"];
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let mut metadata = serde_json::Map::new();
    metadata.insert("receipt_digest".into(), usage["receipt_digest"].clone());
    metadata.insert("lock_digest".into(), receipt["lock_digest"].clone());
    if let Some(status) = usage.get("cost_status") {
        metadata.insert("cost_status".into(), status.clone());
    }
    if let Some(m) = &request.metadata {
        metadata.insert("request".into(), Value::Object(m.clone()));
    }
    let usage_body = json!({
        "provider": receipt["provider"],
        "model": receipt["model"],
        "input_tokens": count(&usage["prompt_tokens"]),
        "output_tokens": count(&usage["completion_tokens"]),
        "cached_input_tokens": count(&usage["cached_tokens"]),
        "alias": response["alias"],
        "profile": response["profile"],
        "cost": usage["cost"],
        "latency_ms": u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "origin": settings.origin,
        "id_at_origin": id,
        "idempotency_key": id,
        "local_receipt_id": id,
        "timestamp": receipt["timestamp"],
        "metadata": metadata,
    });
    let mut out = vec![Report {
        key: id.clone(),
        kind: "usage".into(),
        path: "/api/v1/log".into(),
        local_receipt_id: id.clone(),
        server: settings.url.clone(),
        body: usage_body,
    }];
    if settings.conversations {
        let key = format!("{id}:conversation");
        let mut messages: Vec<Value> = Vec::new();
        if let Some(system) = &request.system {
            messages.push(json!({"role": "system", "content": system}));
        }
        messages.extend(
            request
                .messages
                .iter()
                .map(|m| serde_json::to_value(m).unwrap_or(Value::Null)),
        );
        out.push(Report {
            key: key.clone(),
            kind: "conversation".into(),
            path: "/api/v1/conversations/log".into(),
            local_receipt_id: id.clone(),
            server: settings.url.clone(),
            body: json!({
                "idempotency_key": key,
                "local_receipt_id": id,
                "messages": messages,
                "response": {
                    "content": response["content"],
                    "model": response["model"],
                    "finish_reason": response["finish_reason"],
                    "tool_calls": response["tool_calls"],
                    "usage": usage,
                },
                "metadata": {
                    "alias": response["alias"],
                    "profile": response["profile"],
                    "origin": settings.origin,
                },
            }),
        });
    }
    out
}

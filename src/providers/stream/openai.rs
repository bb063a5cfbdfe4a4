//! OpenAI chat completions stream: `data: {chat.completion.chunk}` events, then
//! `data: [DONE]`. With `stream_options.include_usage` the last chunk before `[DONE]` has
//! `usage` and empty `choices` (other chunks have `usage: null`). Only choice 0 is read.

use serde_json::Value;

use super::{Acc, StreamEvent, error_event, malformed, parse_object};
use crate::chat::{ToolCall, finish_reason};
use crate::error::Result;
use crate::providers::Provider;

const P: Provider = Provider::OpenAi;

pub(super) fn map_finish(raw: &str) -> String {
    match raw {
        "function_call" => finish_reason::TOOL_CALLS.to_owned(),
        other => other.to_owned(),
    }
}

pub(super) fn on_event(acc: &mut Acc, data: &str, out: &mut Vec<StreamEvent>) -> Result<()> {
    if data.trim() == "[DONE]" {
        acc.terminal = true;
        out.push(StreamEvent::Done);
        return Ok(());
    }
    let chunk = Value::Object(parse_object(P, data)?);
    if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
        let msg = err
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| err.as_str())
            .unwrap_or("(no message)");
        return Err(error_event(P, msg, err.get("type").and_then(Value::as_str)));
    }
    Acc::set_once(&mut acc.id, chunk.get("id").and_then(Value::as_str));
    Acc::set_once(&mut acc.model, chunk.get("model").and_then(Value::as_str));

    let choices = match chunk.get("choices") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(c)) => c.as_slice(),
        Some(_) => return Err(malformed(P, "`choices` is not an array")),
    };
    for (ci, choice) in choices.iter().enumerate() {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(ci as u64);
        if index != 0 {
            continue;
        }
        if let Some(delta) = choice.get("delta").filter(|d| !d.is_null()) {
            if !delta.is_object() {
                return Err(malformed(P, "`choices[].delta` is not an object"));
            }
            for (key, target) in [("content", &mut acc.content), ("refusal", &mut acc.refusal)] {
                match delta.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => {
                        if !s.is_empty() {
                            target.push_str(s);
                            out.push(StreamEvent::Delta { text: s.clone() });
                        }
                    }
                    Some(_) => {
                        return Err(malformed(P, format!("`delta.{key}` is not a string")));
                    }
                }
            }
            match delta.get("tool_calls") {
                None | Some(Value::Null) => {}
                Some(Value::Array(calls)) => {
                    for (j, call) in calls.iter().enumerate() {
                        tool_call_delta(acc, j, call, out)?;
                    }
                }
                Some(_) => return Err(malformed(P, "`delta.tool_calls` is not an array")),
            }
        }
        match choice.get("finish_reason") {
            None | Some(Value::Null) => {}
            Some(Value::String(r)) => {
                acc.finish_raw = Some(r.clone());
                out.push(StreamEvent::Finish(map_finish(r)));
            }
            Some(_) => return Err(malformed(P, "`finish_reason` is not a string")),
        }
    }

    if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
        if !usage.is_object() {
            return Err(malformed(P, "`usage` is not an object"));
        }
        acc.usage = Some(usage.clone());
        acc.usage_final = true;
        out.push(StreamEvent::Usage(usage.clone()));
    }
    Ok(())
}

fn tool_call_delta(
    acc: &mut Acc,
    j: usize,
    call: &Value,
    out: &mut Vec<StreamEvent>,
) -> Result<()> {
    let key = match call.get("index") {
        None => j,
        Some(v) => v
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| malformed(P, "`tool_calls[].index` is not an integer"))?,
    };
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let f = call.get("function");
    let name = f
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let args = match f.and_then(|f| f.get("arguments")) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        // Some compatible servers send the arguments as an object.
        Some(other) => other.to_string(),
    };
    let pos = match acc.tool_keys.iter().position(|k| *k == key) {
        Some(pos) => pos,
        None => {
            acc.tool_keys.push(key);
            acc.tool_calls.push(ToolCall::function("", "", ""));
            acc.tool_calls.len() - 1
        }
    };
    let slot = &mut acc.tool_calls[pos];
    if let Some(id) = id {
        if slot.id.is_empty() {
            slot.id = id.to_owned();
        }
    }
    if let Some(name) = name {
        if slot.function.name.is_empty() {
            slot.function.name = name.to_owned();
        }
    }
    slot.function.arguments.push_str(&args);
    out.push(StreamEvent::ToolCallDelta {
        index: pos,
        id: id.map(str::to_owned),
        name: name.map(str::to_owned),
        arguments: args,
    });
    Ok(())
}

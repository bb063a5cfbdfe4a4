//! Gemini `streamGenerateContent?alt=sse`: every event's data is a whole
//! `GenerateContentResponse` holding the next parts; the chunk with `finishReason` ends the
//! answer and carries the final `usageMetadata` (the last one received is kept). A chunk
//! without candidates whose prompt was blocked (`promptFeedback.blockReason`) ends it too.
//! Function calls arrive whole, one part each.

use serde_json::Value;

use super::{Acc, StreamEvent, error_event, malformed, parse_object, restate};
use crate::chat::finish_reason;
use crate::error::Result;
use crate::providers::Provider;
use crate::providers::google::{error_fields, map_finish_reason, read_candidate_parts};

const P: Provider = Provider::Google;

pub(super) fn on_event(acc: &mut Acc, data: &str, out: &mut Vec<StreamEvent>) -> Result<()> {
    let chunk = match serde_json::from_str::<Value>(data) {
        // The endpoint may send an error as a one-element array.
        Ok(v @ Value::Array(_)) if error_fields(&v).is_some() => v,
        _ => Value::Object(parse_object(P, data)?),
    };
    if let Some(f) = error_fields(&chunk) {
        return Err(error_event(
            P,
            f.message.as_deref().unwrap_or("(no message)"),
            f.status.as_deref(),
        ));
    }
    Acc::set_once(&mut acc.id, chunk.get("responseId").and_then(Value::as_str));
    Acc::set_once(
        &mut acc.model,
        chunk.get("modelVersion").and_then(Value::as_str),
    );
    let was_terminal = acc.terminal;

    let candidate = match chunk.get("candidates") {
        None | Some(Value::Null) => None,
        Some(Value::Array(c)) => c.first(),
        Some(_) => return Err(malformed(P, "`candidates` is not an array")),
    };
    let mut finished = false;
    if let Some(candidate) = candidate {
        let text_before = acc.content.len();
        let calls_before = acc.tool_calls.len();
        read_candidate_parts(
            candidate,
            acc.id.as_deref(),
            &mut acc.content,
            &mut acc.tool_calls,
            "candidates[0]",
        )
        .map_err(|e| restate(P, e))?;
        if acc.content.len() > text_before {
            out.push(StreamEvent::Delta {
                text: acc.content[text_before..].to_owned(),
            });
        }
        for (i, call) in acc.tool_calls.iter().enumerate().skip(calls_before) {
            out.push(StreamEvent::ToolCallDelta {
                index: i,
                id: Some(call.id.clone()),
                name: Some(call.function.name.clone()),
                arguments: call.function.arguments.clone(),
            });
        }
        match candidate.get("finishReason") {
            None | Some(Value::Null) => {}
            Some(Value::String(r)) => {
                acc.finish_raw = Some(r.clone());
                out.push(StreamEvent::Finish(map_finish_reason(
                    r,
                    !acc.tool_calls.is_empty(),
                )));
                finished = true;
            }
            Some(_) => return Err(malformed(P, "`finishReason` is not a string")),
        }
    } else if chunk
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
        .is_some()
    {
        acc.finish_fixed = Some(finish_reason::CONTENT_FILTER.to_owned());
        out.push(StreamEvent::Finish(
            finish_reason::CONTENT_FILTER.to_owned(),
        ));
        finished = true;
    }

    if let Some(u) = chunk.get("usageMetadata").filter(|u| !u.is_null()) {
        if !u.is_object() {
            return Err(malformed(P, "`usageMetadata` is not an object"));
        }
        acc.usage = Some(u.clone());
        acc.usage_final = finished || was_terminal;
        out.push(StreamEvent::Usage(u.clone()));
    }
    if finished && !was_terminal {
        acc.terminal = true;
        out.push(StreamEvent::Done);
    }
    Ok(())
}

//! Ollama `/api/chat` with `"stream": true`: NDJSON, one message object per line, each with
//! the next `message.content` piece (tool calls arrive whole); the line with `"done": true`
//! ends the answer and carries `done_reason` and the counts.

use serde_json::Value;

use super::{Acc, StreamEvent, error_event, malformed, parse_object, restate};
use crate::error::Result;
use crate::providers::Provider;
use crate::providers::ollama::{map_finish_reason, read_message, usage_from};

const P: Provider = Provider::Ollama;

pub(super) fn on_line(acc: &mut Acc, line: &str, out: &mut Vec<StreamEvent>) -> Result<()> {
    let obj = Value::Object(parse_object(P, line)?);
    if let Some(err) = obj.get("error").filter(|e| !e.is_null()) {
        let msg = err
            .as_str()
            .or_else(|| err.get("message").and_then(Value::as_str))
            .unwrap_or("(no message)");
        return Err(error_event(P, msg, None));
    }
    Acc::set_once(&mut acc.model, obj.get("model").and_then(Value::as_str));
    match obj.get("message") {
        None | Some(Value::Null) => {}
        Some(m @ Value::Object(_)) => {
            let text_before = acc.content.len();
            let calls_before = acc.tool_calls.len();
            read_message(m, &mut acc.content, &mut acc.tool_calls).map_err(|e| restate(P, e))?;
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
        }
        Some(_) => return Err(malformed(P, "`message` is not an object")),
    }
    match obj.get("done") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            if let Some(r) = obj.get("done_reason").and_then(Value::as_str) {
                acc.finish_raw = Some(r.to_owned());
                out.push(StreamEvent::Finish(map_finish_reason(
                    r,
                    !acc.tool_calls.is_empty(),
                )));
            }
            acc.usage = usage_from(&obj);
            acc.usage_final = true;
            if let Some(u) = &acc.usage {
                out.push(StreamEvent::Usage(u.clone()));
            }
            acc.terminal = true;
            out.push(StreamEvent::Done);
        }
        Some(_) => return Err(malformed(P, "`done` is not a boolean")),
    }
    Ok(())
}

//! Anthropic messages stream: `message_start` (id, model, usage with the input and cache
//! counts), `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`,
//! thinking deltas ignored) / `content_block_stop`, `message_delta` (`stop_reason`, usage with
//! the final `output_tokens`), `message_stop`; `ping` is ignored, `error` is an error, and
//! unknown event types are ignored (Anthropic may add some). The event type is read from the
//! data's `type` (the SSE `event:` name is only used when the data has none).
//!
//! Usage: the `message_start` usage object, with every non-null key of each `message_delta`
//! usage written over it: one object in the shape of the unstreamed `usage`.

use serde_json::{Map, Value};

use super::{Acc, StreamEvent, error_event, malformed, parse_object};
use crate::chat::{ToolCall, finish_reason};
use crate::error::Result;
use crate::providers::Provider;
use crate::providers::anthropic::JSON_TOOL_NAME;

const P: Provider = Provider::Anthropic;

/// A content block of the streamed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    Text,
    /// A tool call, at this position of `tool_calls`.
    Tool(usize),
    /// The JSON-mode tool.
    JsonAnswer,
    /// Thinking, server tools, ...: skipped.
    Other,
}

/// The normalized finish reason, as the unstreamed parse gives it.
pub(super) fn map_finish(raw: &str, acc: &Acc) -> String {
    if raw == "tool_use" && acc.json_answer.is_some() && acc.tool_calls.is_empty() {
        return finish_reason::STOP.to_owned();
    }
    match raw {
        "end_turn" | "stop_sequence" => finish_reason::STOP,
        "max_tokens" => finish_reason::LENGTH,
        "tool_use" => finish_reason::TOOL_CALLS,
        "refusal" => finish_reason::CONTENT_FILTER,
        other => other,
    }
    .to_owned()
}

fn block_index(ev: &Value, kind: &str) -> Result<usize> {
    ev.get("index")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| malformed(P, format!("`{kind}` without an integer `index`")))
}

pub(super) fn on_event(
    acc: &mut Acc,
    event: Option<&str>,
    data: &str,
    out: &mut Vec<StreamEvent>,
) -> Result<()> {
    let ev = Value::Object(parse_object(P, data)?);
    let kind = ev
        .get("type")
        .and_then(Value::as_str)
        .or(event)
        .ok_or_else(|| malformed(P, "an event without a `type`"))?
        .to_owned();
    match kind.as_str() {
        "message_start" => {
            let msg = ev
                .get("message")
                .filter(|m| m.is_object())
                .ok_or_else(|| malformed(P, "`message_start` without a `message`"))?;
            Acc::set_once(&mut acc.id, msg.get("id").and_then(Value::as_str));
            Acc::set_once(&mut acc.model, msg.get("model").and_then(Value::as_str));
            if let Some(u) = msg.get("usage").filter(|u| !u.is_null()) {
                merge_usage(acc, u)?;
                acc.usage_final = false;
                out.push(StreamEvent::Usage(acc.usage.clone().expect("just merged")));
            }
        }
        "content_block_start" => {
            let index = block_index(&ev, &kind)?;
            let block = ev
                .get("content_block")
                .filter(|b| b.is_object())
                .ok_or_else(|| malformed(P, "`content_block_start` without a `content_block`"))?;
            let b = match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    if let Some(t) = block.get("text").and_then(Value::as_str) {
                        if !t.is_empty() {
                            acc.content.push_str(t);
                            out.push(StreamEvent::Delta { text: t.to_owned() });
                        }
                    }
                    Block::Text
                }
                Some("tool_use") => {
                    let name = block
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| malformed(P, "a tool_use block without `name`"))?;
                    if name == JSON_TOOL_NAME {
                        acc.json_answer = Some(String::new());
                        Block::JsonAnswer
                    } else {
                        let id = block.get("id").and_then(Value::as_str).unwrap_or_default();
                        // A non-empty `input` at the start (not sent today) is the whole input.
                        let initial = match block.get("input") {
                            Some(Value::Object(m)) if !m.is_empty() => {
                                Value::Object(m.clone()).to_string()
                            }
                            _ => String::new(),
                        };
                        acc.tool_calls
                            .push(ToolCall::function(id, name, initial.clone()));
                        acc.tool_keys.push(index);
                        let pos = acc.tool_calls.len() - 1;
                        out.push(StreamEvent::ToolCallDelta {
                            index: pos,
                            id: Some(id.to_owned()),
                            name: Some(name.to_owned()),
                            arguments: initial,
                        });
                        Block::Tool(pos)
                    }
                }
                _ => Block::Other,
            };
            acc.blocks.retain(|(i, _)| *i != index);
            acc.blocks.push((index, b));
        }
        "content_block_delta" => {
            let index = block_index(&ev, &kind)?;
            let block = acc
                .blocks
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, b)| *b)
                .ok_or_else(|| {
                    malformed(
                        P,
                        format!("a delta for content block {index}, which was not started"),
                    )
                })?;
            let delta = ev
                .get("delta")
                .filter(|d| d.is_object())
                .ok_or_else(|| malformed(P, "`content_block_delta` without a `delta`"))?;
            let str_of = |key: &str| -> Result<&str> {
                delta
                    .get(key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed(P, format!("a delta without a string `{key}`")))
            };
            match delta.get("type").and_then(Value::as_str) {
                Some("text_delta") => {
                    let t = str_of("text")?;
                    if block == Block::Text {
                        acc.content.push_str(t);
                        out.push(StreamEvent::Delta { text: t.to_owned() });
                    }
                }
                Some("input_json_delta") => {
                    let piece = str_of("partial_json")?;
                    match block {
                        Block::Tool(pos) => {
                            acc.tool_calls[pos].function.arguments.push_str(piece);
                            out.push(StreamEvent::ToolCallDelta {
                                index: pos,
                                id: None,
                                name: None,
                                arguments: piece.to_owned(),
                            });
                        }
                        Block::JsonAnswer => {
                            if let Some(a) = &mut acc.json_answer {
                                a.push_str(piece);
                            }
                            if !piece.is_empty() {
                                out.push(StreamEvent::Delta {
                                    text: piece.to_owned(),
                                });
                            }
                        }
                        Block::Text | Block::Other => {}
                    }
                }
                // thinking_delta, signature_delta, citations_delta, ...
                _ => {}
            }
        }
        "content_block_stop" | "ping" => {}
        "message_delta" => {
            if let Some(r) = ev.pointer("/delta/stop_reason") {
                match r {
                    Value::Null => {}
                    Value::String(r) => {
                        acc.finish_raw = Some(r.clone());
                        out.push(StreamEvent::Finish(map_finish(r, acc)));
                    }
                    _ => return Err(malformed(P, "`delta.stop_reason` is not a string")),
                }
            }
            if let Some(u) = ev.get("usage").filter(|u| !u.is_null()) {
                merge_usage(acc, u)?;
                acc.usage_final = true;
                out.push(StreamEvent::Usage(acc.usage.clone().expect("just merged")));
            }
        }
        "message_stop" => {
            acc.terminal = true;
            out.push(StreamEvent::Done);
        }
        "error" => {
            let err = ev.get("error");
            let msg = err
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            let t = err.and_then(|e| e.get("type")).and_then(Value::as_str);
            return Err(error_event(P, msg, t));
        }
        _ => {}
    }
    Ok(())
}

/// Writes the non-null keys of `u` over the usage so far.
fn merge_usage(acc: &mut Acc, u: &Value) -> Result<()> {
    let Value::Object(update) = u else {
        return Err(malformed(P, "`usage` is not an object"));
    };
    let current = acc
        .usage
        .get_or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("usage is an object");
    for (k, v) in update {
        if !v.is_null() {
            current.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}

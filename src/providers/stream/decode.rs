//! Framing: Server-Sent Events and newline-delimited JSON, decoded incrementally from byte
//! chunks of any size (an event or a UTF-8 character split across reads is reassembled).
//! Lines end with `\n` or `\r\n`.

/// The longest line buffered while waiting for its end, in bytes.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Splits bytes into lines, keeping the unfinished tail for the next chunk.
#[derive(Debug, Default)]
pub(super) struct LineSplitter {
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a newline.
    scanned: usize,
}

impl LineSplitter {
    /// Calls `on_line` with every complete line (without its `\n` / `\r\n`).
    pub(super) fn push(
        &mut self,
        bytes: &[u8],
        mut on_line: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(pos) = self.buf[from..].iter().position(|&b| b == b'\n') {
            let end = from + pos;
            let line = line_text(&self.buf[start..end])?;
            on_line(line)?;
            start = end + 1;
            from = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(format!(
                "a line is longer than {MAX_LINE_BYTES} bytes without ending"
            ));
        }
        Ok(())
    }

    /// The unfinished last line, if any (the stream ended without a final newline).
    pub(super) fn take_rest(&mut self) -> Result<Option<String>, String> {
        self.scanned = 0;
        if self.buf.is_empty() {
            return Ok(None);
        }
        let rest = std::mem::take(&mut self.buf);
        Ok(Some(line_text(&rest)?.to_owned()))
    }

    /// Whether bytes of an unfinished line are buffered.
    pub(super) fn has_partial_line(&self) -> bool {
        !self.buf.is_empty()
    }
}

fn line_text(bytes: &[u8]) -> Result<&str, String> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| format!("a line is not valid UTF-8 ({e})"))
}

/// One Server-Sent Event: its `event` name (if any) and its `data` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// An incremental Server-Sent Events decoder (comments, `id` and `retry` are ignored).
#[derive(Debug, Default)]
pub(super) struct SseDecoder {
    lines: LineSplitter,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    pub(super) fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), String> {
        let Self {
            lines,
            event,
            data,
            has_data,
        } = self;
        lines.push(bytes, |line| {
            sse_line(line, event, data, has_data, out);
            Ok(())
        })
    }

    /// At the end of the stream: the last line without its newline, and an event whose
    /// closing blank line never came, are dispatched too.
    pub(super) fn flush(&mut self, out: &mut Vec<SseEvent>) -> Result<(), String> {
        if let Some(rest) = self.lines.take_rest()? {
            sse_line(
                &rest,
                &mut self.event,
                &mut self.data,
                &mut self.has_data,
                out,
            );
        }
        sse_line("", &mut self.event, &mut self.data, &mut self.has_data, out);
        Ok(())
    }

    /// Whether part of an event is buffered (received but not yet dispatched).
    pub(super) fn has_pending(&self) -> bool {
        self.has_data || self.lines.has_partial_line()
    }
}

fn sse_line(
    line: &str,
    event: &mut Option<String>,
    data: &mut String,
    has_data: &mut bool,
    out: &mut Vec<SseEvent>,
) {
    if line.is_empty() {
        if *has_data {
            out.push(SseEvent {
                event: event.take(),
                data: std::mem::take(data),
            });
        }
        *event = None;
        *has_data = false;
        return;
    }
    if line.starts_with(':') {
        return;
    }
    let (field, value) = match line.split_once(':') {
        Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
        None => (line, ""),
    };
    match field {
        "data" => {
            if *has_data {
                data.push('\n');
            }
            data.push_str(value);
            *has_data = true;
        }
        "event" => *event = Some(value.to_owned()),
        _ => {}
    }
}

/// An incremental NDJSON decoder: every non-blank line is one JSON text.
#[derive(Debug, Default)]
pub(super) struct NdjsonDecoder {
    lines: LineSplitter,
}

impl NdjsonDecoder {
    pub(super) fn push(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), String> {
        self.lines.push(bytes, |line| {
            if !line.trim().is_empty() {
                out.push(line.to_owned());
            }
            Ok(())
        })
    }

    /// At the end of the stream: the last line, when it has no final newline.
    pub(super) fn flush(&mut self, out: &mut Vec<String>) -> Result<(), String> {
        if let Some(rest) = self.lines.take_rest()? {
            if !rest.trim().is_empty() {
                out.push(rest);
            }
        }
        Ok(())
    }

    pub(super) fn has_pending(&self) -> bool {
        self.lines.has_partial_line()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.push(c, &mut out).unwrap();
        }
        d.flush(&mut out).unwrap();
        out
    }

    #[test]
    fn sse_framing() {
        let text = b": comment\r\nevent: a\r\ndata: x\r\ndata:y\r\n\r\ndata: {\"k\":\"\xc3\xa9\"}\n\nid: 3\nretry: 5\n\n";
        let whole = sse_all(&[text]);
        assert_eq!(
            whole,
            vec![
                SseEvent {
                    event: Some("a".into()),
                    data: "x\ny".into()
                },
                SseEvent {
                    event: None,
                    data: "{\"k\":\"é\"}".into()
                },
            ]
        );
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(sse_all(&bytes), whole);
        // No final newline: still dispatched at flush.
        assert_eq!(sse_all(&[b"data: [DONE]"])[0].data, "[DONE]");
    }

    #[test]
    fn ndjson_framing() {
        let mut d = NdjsonDecoder::default();
        let mut out = Vec::new();
        d.push(b"{\"a\":1}\r\n\n{\"b\"", &mut out).unwrap();
        assert!(d.has_pending());
        d.push(b":2}\n{\"c\":3}", &mut out).unwrap();
        d.flush(&mut out).unwrap();
        assert_eq!(out, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }
}

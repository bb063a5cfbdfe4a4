//! Streamed provider bodies (SSE for OpenAI, Anthropic, Google; NDJSON for Ollama): for each
//! provider the body is fed whole and split at pseudo-random points (derived from the input,
//! empty chunks included). Nothing panics, and the split makes no difference: the same
//! events, the same error, the same final reply. `finish_early` never fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::Error;
use llmring::providers::stream::StreamEvent;
use llmring::providers::{Provider, ProviderReply};

struct Outcome {
    events: Vec<StreamEvent>,
    error: Option<Error>,
    finish: Result<ProviderReply, Error>,
}

fn run(provider: Provider, chunks: &[&[u8]]) -> Outcome {
    let mut parser = provider.stream_parser();
    let mut events = Vec::new();
    let mut error = None;
    for chunk in chunks {
        match parser.feed(chunk) {
            Ok(more) => events.extend(more),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    Outcome {
        events,
        error,
        finish: parser.finish(),
    }
}

/// Chunks of 0 to 15 bytes, sizes from a xorshift generator seeded by the input.
fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) | 1;
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % 16) as usize;
        let (head, tail) = rest.split_at(n.min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks
}

fuzz_target!(|data: &[u8]| {
    let chunks = split(data);
    for provider in Provider::ALL {
        let whole = run(provider, &[data]);
        let pieces = run(provider, &chunks);
        assert_eq!(
            whole.error, pieces.error,
            "{provider}: error depends on the split"
        );
        if whole.error.is_none() {
            assert_eq!(
                whole.events, pieces.events,
                "{provider}: events depend on the split"
            );
        }
        assert_eq!(
            whole.finish, pieces.finish,
            "{provider}: reply depends on the split"
        );

        let mut parser = provider.stream_parser();
        for chunk in &chunks {
            if parser.feed(chunk).is_err() {
                break;
            }
        }
        let partial = parser.finish_early();
        if let Ok(reply) = &whole.finish {
            assert!(
                partial.complete,
                "{provider}: finish succeeded on an incomplete stream"
            );
            assert_eq!(
                &partial.reply, reply,
                "{provider}: finish_early differs from finish"
            );
        }
    }
});

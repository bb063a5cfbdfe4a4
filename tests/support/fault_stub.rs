//! A raw HTTP/1.1 stub of OpenAI's chat completions on 127.0.0.1 that misbehaves on purpose,
//! for the fault-injection and soak tests (`tests/faults.rs`, `tests/soak.rs`): what wiremock
//! cannot do (reset a connection in the middle of a body, trickle bytes, lie about the
//! length). Standard library threads, one per connection; every response closes its
//! connection, so each attempt of the client is one connection and one counted request.
//!
//! A [`Plan`] decides the [`Fault`] for each request from its number (0, 1, ...).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// What the stub does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A normal answer: the completion JSON, or the SSE stream when the request streams.
    Ok,
    /// The normal answer after a pause (a latency spike).
    Delay(Duration),
    /// An OpenAI error body with this status.
    Status(u16),
    /// The status line, the headers (with the full `content-length`) and part of the body,
    /// then a TCP reset.
    ResetMidBody,
    /// Reads the request and resets the connection without answering.
    ResetBeforeResponse,
    /// The headers at once, then the normal answer one byte at a time, `gap` apart.
    Slowloris { gap: Duration },
    /// The status line and headers trickled one byte at a time, `gap` apart.
    SlowHeaders { gap: Duration },
    /// A 200 with this content type and body (for a streaming request too).
    Body {
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// A 200 JSON body of `bytes` bytes (a completion padded with spaces), with its
    /// `content-length` when `announce`, else chunked.
    Huge { bytes: usize, announce: bool },
}

/// Chooses the fault for request number `n`.
pub type Plan = Box<dyn Fn(usize) -> Fault + Send + Sync>;

/// The stub: serves until dropped.
pub struct FaultStub {
    url: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// The completion the stub answers with: 1200 prompt tokens (200 cached), 300 completion.
pub const COMPLETION: &str = r#"{"id":"chatcmpl-fault","object":"chat.completion","created":1754000000,"model":"gpt-stub","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fault stub","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}"#;

impl FaultStub {
    /// Starts a stub answering request `n` as `plan(n)` says.
    pub fn start(plan: Plan) -> FaultStub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let plan = Arc::new(plan);
        let (counter, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (plan, counter) = (Arc::clone(&plan), Arc::clone(&counter));
                std::thread::spawn(move || {
                    // The client going away mid-answer is part of the game.
                    let _ = handle(stream, &plan, &counter);
                });
            }
        });
        FaultStub {
            url,
            requests,
            stop,
        }
    }

    /// Every request gets `fault`.
    pub fn always(fault: Fault) -> FaultStub {
        FaultStub::start(Box::new(move |_| fault.clone()))
    }

    /// Request `n` gets `first[n]`, later ones `then`.
    pub fn sequence(first: Vec<Fault>, then: Fault) -> FaultStub {
        FaultStub::start(Box::new(move |n| first.get(n).unwrap_or(&then).clone()))
    }

    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Requests received so far (complete requests, whatever was answered).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// Reads one request (headers and `content-length` body) and answers it as planned.
fn handle(stream: TcpStream, plan: &Plan, counter: &AtomicUsize) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0usize;
    let mut first = true;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(()); // closed without a (complete) request
        }
        let line = line.trim_end();
        if line.is_empty() && !first {
            break;
        }
        first = false;
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let streaming = String::from_utf8_lossy(&body).contains(r#""stream":true"#);
    let n = counter.fetch_add(1, Ordering::SeqCst);
    answer(stream, plan(n), streaming)
}

fn answer(mut stream: TcpStream, fault: Fault, streaming: bool) -> std::io::Result<()> {
    let (content_type, normal) = if streaming {
        ("text/event-stream", sse_answer())
    } else {
        ("application/json", COMPLETION.as_bytes().to_vec())
    };
    match fault {
        Fault::Ok => write_response(&mut stream, 200, content_type, &normal),
        Fault::Delay(wait) => {
            std::thread::sleep(wait);
            write_response(&mut stream, 200, content_type, &normal)
        }
        Fault::Status(status) => {
            let body = br#"{"error":{"message":"injected failure","type":"server_error"}}"#;
            write_response(&mut stream, status, "application/json", body)
        }
        Fault::ResetMidBody => {
            let head = head(200, content_type, Some(normal.len()));
            stream.write_all(head.as_bytes())?;
            stream.write_all(&normal[..normal.len() / 3])?;
            stream.flush()?;
            std::thread::sleep(Duration::from_millis(20));
            reset(stream)
        }
        Fault::ResetBeforeResponse => reset(stream),
        Fault::Slowloris { gap } => {
            let head = head(200, content_type, Some(normal.len()));
            stream.write_all(head.as_bytes())?;
            trickle(&mut stream, &normal, gap)
        }
        Fault::SlowHeaders { gap } => {
            let head = head(200, content_type, Some(normal.len()));
            trickle(&mut stream, head.as_bytes(), gap)?;
            stream.write_all(&normal)
        }
        Fault::Body { content_type, body } => write_response(&mut stream, 200, content_type, &body),
        Fault::Huge { bytes, announce } => huge(&mut stream, bytes, announce),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

fn head(status: u16, content_type: &str, length: Option<usize>) -> String {
    let length = match length {
        Some(n) => format!("content-length: {n}\r\n"),
        None => "transfer-encoding: chunked\r\n".to_owned(),
    };
    format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n{length}connection: close\r\n\r\n",
        reason(status)
    )
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    stream.write_all(head(status, content_type, Some(body.len())).as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn trickle(stream: &mut TcpStream, bytes: &[u8], gap: Duration) -> std::io::Result<()> {
    for byte in bytes {
        stream.write_all(std::slice::from_ref(byte))?;
        stream.flush()?;
        std::thread::sleep(gap);
    }
    Ok(())
}

/// Closes with a TCP RST (SO_LINGER 0) instead of a FIN.
fn reset(stream: TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

/// A completion JSON of `bytes` bytes: the object, then spaces (valid JSON throughout).
fn huge(stream: &mut TcpStream, bytes: usize, announce: bool) -> std::io::Result<()> {
    let bytes = bytes.max(COMPLETION.len());
    let length = announce.then_some(bytes);
    stream.write_all(head(200, "application/json", length).as_bytes())?;
    let pad = vec![b' '; 64 * 1024];
    let mut parts: Vec<&[u8]> = vec![COMPLETION.as_bytes()];
    let mut left = bytes - COMPLETION.len();
    while left > 0 {
        let n = left.min(pad.len());
        parts.push(&pad[..n]);
        left -= n;
    }
    for part in parts {
        if announce {
            stream.write_all(part)?;
        } else {
            write!(stream, "{:x}\r\n", part.len())?;
            stream.write_all(part)?;
            stream.write_all(b"\r\n")?;
        }
    }
    if !announce {
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()
}

/// One OpenAI stream chunk event with this `delta` object and finish reason.
pub fn sse_chunk(delta: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"chatcmpl-fault\",\"object\":\"chat.completion.chunk\",\"created\":1754000000,\"model\":\"gpt-stub\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

/// The streamed answer: "Hello", " from", " the", " stub", the finish reason, the usage
/// chunk and `[DONE]`.
pub fn sse_answer() -> Vec<u8> {
    let mut text = sse_chunk(r#"{"role":"assistant","content":""}"#, None);
    for word in ["Hello", " from", " the", " stub"] {
        text.push_str(&sse_chunk(&format!("{{\"content\":\"{word}\"}}"), None));
    }
    text.push_str(&sse_chunk("{}", Some("stop")));
    text.push_str("data: {\"id\":\"chatcmpl-fault\",\"object\":\"chat.completion.chunk\",\"created\":1754000000,\"model\":\"gpt-stub\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":300,\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":200}}}\n\n");
    text.push_str("data: [DONE]\n\n");
    text.into_bytes()
}

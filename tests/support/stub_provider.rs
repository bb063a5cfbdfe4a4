//! A stub OpenAI chat-completions server for the C test (tests/c/test_chat.c), standard
//! library only, so CMake builds it with `rustc` alone (no crates, no network).
//!
//! Usage: `stub_provider [--expect N] -- COMMAND [ARGS...]`
//!
//! Listens on 127.0.0.1 (a free port), runs COMMAND with `LLMRING_STUB_URL` set to
//! `http://127.0.0.1:PORT`, serves until COMMAND exits, and exits with COMMAND's status; or
//! with 1 when `--expect N` was given and the server did not receive exactly N requests.
//!
//! `POST /v1/chat/completions` with `Authorization: Bearer sk-c-test-KEY-0042` and model
//! `gpt-stub`: a chat completion ("Hello from the stub", usage 1200 prompt tokens of which
//! 200 cached, 300 completion tokens); when the body contains `please fail`, HTTP 500; when
//! it contains `please wait`, the same completion after 1.5 s. A wrong key is a 401, another
//! model a 400, another path a 404. Every response closes the connection.
//!
//! A streaming request (`"stream":true`) gets the same answer as SSE (`text/event-stream`):
//! the deltas "Hello", " from", " the", " stub" 5 ms apart, then the finish reason, the usage
//! chunk and `data: [DONE]`. When the body contains `please trickle`, 100 deltas `w0 `, `w1 `,
//! ... 20 ms apart come first (two seconds: time for the client to stop early).
//!
//! When the body contains `please hold`, the stub sends nothing at all (`please hold after
//! hello`: the headers and the first delta "Hello", then nothing) and waits for the client to
//! close the connection (a cancelled call). Each held connection appends a line to the file
//! named by `LLMRING_STUB_HELD_FILE` (set for COMMAND), once the stub holds it silent. After
//! COMMAND exits the stub waits for every held connection to be closed (ten seconds at most),
//! and fails when one was not.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const API_KEY: &str = "sk-c-test-KEY-0042";

/// Connections held silent (`please hold`), and those of them the client has closed.
static HELD: AtomicUsize = AtomicUsize::new(0);
static RELEASED: AtomicUsize = AtomicUsize::new(0);

const COMPLETION: &str = r#"{"id":"chatcmpl-stub","object":"chat.completion","created":1754000000,"model":"gpt-stub","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the stub","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}"#;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut expect: Option<usize> = None;
    if args.first().map(String::as_str) == Some("--expect") {
        if args.len() < 2 {
            return usage();
        }
        match args[1].parse() {
            Ok(n) => expect = Some(n),
            Err(_) => return usage(),
        }
        args.drain(..2);
    }
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    if args.is_empty() {
        return usage();
    }

    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("stub_provider: cannot listen on 127.0.0.1: {e}");
            return ExitCode::from(1);
        }
    };
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    let served = Arc::new(AtomicUsize::new(0));
    let held_file = std::env::temp_dir().join(format!("stub_provider_held_{}", std::process::id()));
    let _ = std::fs::remove_file(&held_file);
    let held_path = held_file.clone();
    let counter = Arc::clone(&served);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            let held_path = held_path.clone();
            std::thread::spawn(move || {
                if let Err(e) = handle(stream, &counter, &held_path) {
                    eprintln!("stub_provider: connection error: {e}");
                }
            });
        }
    });

    let status = match Command::new(&args[0])
        .args(&args[1..])
        .env("LLMRING_STUB_URL", &url)
        .env("LLMRING_STUB_HELD_FILE", &held_file)
        .status()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("stub_provider: cannot run {}: {e}", args[0]);
            return ExitCode::from(1);
        }
    };
    let served = served.load(Ordering::SeqCst);
    eprintln!("stub_provider: served {served} request(s) at {url}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while RELEASED.load(Ordering::SeqCst) < HELD.load(Ordering::SeqCst) && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (held, released) = (HELD.load(Ordering::SeqCst), RELEASED.load(Ordering::SeqCst));
    if released < held {
        eprintln!("stub_provider: the client closed {released} of {held} held connection(s)");
        return ExitCode::from(1);
    }
    let _ = std::fs::remove_file(&held_file);
    if !status.success() {
        eprintln!("stub_provider: {} failed: {status}", args[0]);
        return ExitCode::from(1);
    }
    if let Some(n) = expect {
        if served != n {
            eprintln!("stub_provider: expected {n} request(s), served {served}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: stub_provider [--expect N] -- COMMAND [ARGS...]");
    ExitCode::from(2)
}

/// Reads one request and answers it.
fn handle(
    stream: TcpStream,
    served: &AtomicUsize,
    held_file: &std::path::Path,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(()); // connected and closed without a request
    }
    let mut content_length = 0usize;
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            if name == "content-length" {
                content_length = value.parse().unwrap_or(0);
            } else if name == "authorization" {
                authorization = value.to_owned();
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    served.fetch_add(1, Ordering::SeqCst);
    let body = String::from_utf8_lossy(&body);

    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, text) = if method != "POST" || path != "/v1/chat/completions" {
        (
            404,
            r#"{"error":{"message":"no such route","type":"invalid_request_error"}}"#,
        )
    } else if authorization != format!("Bearer {API_KEY}") {
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        )
    } else if !body.contains(r#""model":"gpt-stub""#) {
        (
            400,
            r#"{"error":{"message":"unknown model","type":"invalid_request_error"}}"#,
        )
    } else if body.contains("please hold") {
        return hold(
            stream,
            reader,
            body.contains("please hold after hello"),
            held_file,
        );
    } else if body.contains(r#""stream":true"#) && !body.contains("please fail") {
        return stream_answer(stream, body.contains("please trickle"));
    } else if body.contains("please fail") {
        (
            500,
            r#"{"error":{"message":"stub failure","type":"server_error"}}"#,
        )
    } else {
        (200, COMPLETION)
    };
    if body.contains("please wait") {
        std::thread::sleep(Duration::from_millis(1500));
    }
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}

/// Holds the connection silent (after the headers and one delta when `hello`) until the
/// client closes it.
fn hold(
    mut stream: TcpStream,
    mut reader: BufReader<TcpStream>,
    hello: bool,
    held_file: &std::path::Path,
) -> std::io::Result<()> {
    HELD.fetch_add(1, Ordering::SeqCst);
    if hello {
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{}",
            sse_chunk(r#"{"content":"Hello"}"#, None)
        )?;
        stream.flush()?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(held_file)?
        .write_all(b"held\n")?;
    // Nothing more comes from the client: reading ends (0 or an error) once it has closed.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    RELEASED.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// One SSE chunk of the streamed answer.
fn sse_chunk(delta: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"chatcmpl-stub\",\"object\":\"chat.completion.chunk\",\"created\":1754000000,\"model\":\"gpt-stub\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

/// Streams the answer (see the module documentation), each event in its own write. A write
/// error ends it quietly: the client stopped the stream and closed the connection.
fn stream_answer(mut stream: TcpStream, trickle: bool) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    let mut events = Vec::new();
    if trickle {
        for i in 0..100 {
            events.push((sse_chunk(&format!("{{\"content\":\"w{i} \"}}"), None), 20));
        }
    }
    events.push((sse_chunk(r#"{"role":"assistant","content":""}"#, None), 5));
    for word in ["Hello", " from", " the", " stub"] {
        events.push((sse_chunk(&format!("{{\"content\":\"{word}\"}}"), None), 5));
    }
    events.push((sse_chunk("{}", Some("stop")), 0));
    events.push((
        "data: {\"id\":\"chatcmpl-stub\",\"object\":\"chat.completion.chunk\",\"created\":1754000000,\"model\":\"gpt-stub\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":300,\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":200}}}\n\n".to_owned(),
        0,
    ));
    events.push(("data: [DONE]\n\n".to_owned(), 0));
    for (event, gap_ms) in events {
        std::thread::sleep(Duration::from_millis(gap_ms));
        if stream.write_all(event.as_bytes()).and_then(|()| stream.flush()).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

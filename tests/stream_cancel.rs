//! Cancelling a streamed call from another thread ([`Client::call_id`],
//! [`Client::chat_stream_with_id`], [`Client::cancel`]), against [`Hold`], a server on
//! 127.0.0.1 that answers with a fixed prefix (nothing, or the headers and a first chunk) and
//! then stays silent until the client closes the connection. The client timeout is ten
//! minutes: a test whose cancel did not work waits that long and then fails.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use llmring::ErrorKind;
use llmring::client::Client;
use serde_json::json;
use support::*;

/// What [`Hold`] saw of one connection.
enum Seen {
    /// The whole request was read (and the prefix written).
    Request,
    /// The client closed the connection.
    Closed,
}

/// A raw HTTP server answering every connection with `prefix`, then silence.
struct Hold {
    url: String,
    seen: Mutex<mpsc::Receiver<Seen>>,
    connections: Arc<Mutex<usize>>,
}

impl Hold {
    fn start(prefix: &'static str) -> Hold {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        let connections = Arc::new(Mutex::new(0));
        let count = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                *count.lock().unwrap() += 1;
                let tx = tx.clone();
                std::thread::spawn(move || hold(stream, prefix, &tx));
            }
        });
        Hold {
            url,
            seen: Mutex::new(rx),
            connections,
        }
    }

    /// The next thing the server saw (waits for it).
    fn next(&self) -> Seen {
        self.seen.lock().unwrap().recv().expect("the server runs")
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

fn hold(stream: std::net::TcpStream, prefix: &str, seen: &mpsc::Sender<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let mut writer = stream;
    writer.write_all(prefix.as_bytes()).unwrap();
    writer.flush().unwrap();
    let _ = seen.send(Seen::Request);
    // Silent from here on; reading returns 0 (or fails) once the client has closed.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    let _ = seen.send(Seen::Closed);
}

const HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
const FIRST_CHUNK: &str = concat!(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,",
    "\"delta\":{\"content\":\"Hello there\"},\"finish_reason\":null}]}\n\n"
);

fn client_for(hold: &Hold, extra: serde_json::Value) -> Client {
    let mut extra = extra;
    extra["timeout_ms"] = json!(600_000);
    new_client(&config_all(&hold.url, extra))
}

/// Streams `fast` under a new id on another thread; returns the id, the chunks channel and
/// the thread's result.
fn spawn_stream(
    client: &Arc<Client>,
) -> (
    u64,
    mpsc::Receiver<String>,
    std::thread::JoinHandle<llmring::Result<String>>,
) {
    let id = client.call_id().unwrap();
    let (tx, rx) = mpsc::channel();
    let c = Arc::clone(client);
    let thread = std::thread::spawn(move || {
        c.chat_stream_with_id(id, &request("fast", json!({})), |chunk| {
            tx.send(chunk.to_owned()).unwrap();
            true
        })
    });
    (id, rx, thread)
}

#[test]
fn cancel_before_the_first_byte_ends_the_stream_without_receipt() {
    for prefix in ["", HEAD] {
        let server = Hold::start(prefix);
        let client = Arc::new(client_for(&server, json!({})));
        let (id, chunks, thread) = spawn_stream(&client);
        assert!(matches!(server.next(), Seen::Request));
        assert!(client.cancel(id), "the stream was in flight");
        let err = thread.join().unwrap().expect_err("cancelled");
        assert_eq!(err.kind, ErrorKind::Cancelled, "{}", err.to_json());
        assert_eq!(err.message, format!("call {id} was cancelled"));
        assert!(err.details.get("response").is_none(), "{}", err.to_json());
        assert!(chunks.try_recv().is_err(), "no chunk");
        assert!(matches!(server.next(), Seen::Closed), "connection closed");
        assert!(client.receipts(None).unwrap().is_empty());
        assert_eq!(server.connections(), 1, "neither retried nor fallen back");
        assert!(!client.cancel(id), "finished calls are forgotten");
    }
}

#[test]
fn cancel_after_a_chunk_receipts_what_was_streamed() {
    let server = Hold::start(FIRST_CHUNK);
    let (private, public) = signing_key();
    let client = Arc::new(client_for(&server, json!({"signing_key": private})));
    let (id, chunks, thread) = spawn_stream(&client);
    assert_eq!(
        parse(&chunks.recv().unwrap()),
        json!({"delta": "Hello there"})
    );
    assert!(client.cancel(id));
    let err = thread.join().unwrap().expect_err("cancelled");
    assert_eq!(err.kind, ErrorKind::Cancelled, "{}", err.to_json());
    assert!(matches!(server.next(), Seen::Request));
    assert!(matches!(server.next(), Seen::Closed));
    let response = &err.details["response"];
    assert_eq!(response["stopped_early"], true);
    assert_eq!(response["content"], "Hello there");
    assert_eq!(response["usage"]["cost_status"], "estimated");
    let stored = client.receipts(None).unwrap();
    assert_eq!(stored.len(), 1, "the streamed part has its receipt");
    assert_eq!(parse(&stored[0])["id"], response["receipt"]["id"]);
    assert_verifies(&stored[0], &public);
}

#[test]
fn cancel_after_a_chunk_in_strict_cost_mode_is_not_receipted() {
    let server = Hold::start(FIRST_CHUNK);
    let client = Arc::new(client_for(&server, json!({"strict_cost": true})));
    let (id, chunks, thread) = spawn_stream(&client);
    chunks.recv().unwrap();
    client.cancel(id);
    let err = thread.join().unwrap().expect_err("cancelled");
    assert_eq!(err.kind, ErrorKind::Cancelled, "{}", err.to_json());
    assert_eq!(err.details["not_receipted"]["code"], "LLMRING_COST_UNKNOWN");
    assert!(err.details.get("response").is_none());
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn cancel_from_the_callback_itself() {
    let server = Hold::start(FIRST_CHUNK);
    let client = client_for(&server, json!({}));
    let id = client.call_id().unwrap();
    let mut chunks = 0;
    let err = client
        .chat_stream_with_id(id, &request("fast", json!({})), |_| {
            chunks += 1;
            client.cancel(id);
            true
        })
        .expect_err("cancelled");
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert_eq!(chunks, 1);
    assert_eq!(client.receipts(None).unwrap().len(), 1);
}

#[test]
fn cancel_before_the_stream_starts_sends_nothing() {
    let server = Hold::start("");
    let client = client_for(&server, json!({}));
    let id = client.call_id().unwrap();
    assert!(client.cancel(id), "a reserved id is in flight");
    let err = client
        .chat_stream_with_id(id, &request("fast", json!({})), |_| true)
        .expect_err("cancelled");
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert_eq!(server.connections(), 0);
    assert!(client.receipts(None).unwrap().is_empty());
}

#[test]
fn ids_must_be_reserved_and_start_one_stream() {
    let client = new_client(&config_all(&closed_port_url(), json!({})));
    let mock = request("fast", json!({"mock_response": "hi"}));
    let err = client
        .chat_stream_with_id(12345, &mock, |_| true)
        .expect_err("unknown id");
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    let id = client.call_id().unwrap();
    assert_ne!(client.call_id().unwrap(), id, "ids are distinct");
    let r = parse(&client.chat_stream_with_id(id, &mock, |_| true).unwrap());
    assert_eq!(r["content"], "hi");
    let err = client
        .chat_stream_with_id(id, &mock, |_| true)
        .expect_err("used id");
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    // A bad request still uses up its id.
    let id = client.call_id().unwrap();
    let err = client
        .chat_stream_with_id(id, "{", |_| true)
        .expect_err("bad request");
    assert_eq!(err.kind, ErrorKind::InvalidJson);
    assert!(!client.cancel(id));
}

#[test]
fn cancel_releases_the_budget_hold() {
    let server = Hold::start("");
    let budgets = json!({"budgets": [{"limit_usd": "100", "window": "day"}]});
    let client = Arc::new(client_for(&server, budgets));
    let (id, _chunks, thread) = spawn_stream(&client);
    assert!(matches!(server.next(), Seen::Request));
    let status = parse(&client.budget_status().unwrap());
    assert!(dec(&status["budgets"][0]["reserved"]) > d("0"), "{status}");
    client.cancel(id);
    thread.join().unwrap().expect_err("cancelled");
    let status = parse(&client.budget_status().unwrap());
    assert_eq!(dec(&status["budgets"][0]["reserved"]), d("0"), "{status}");
}

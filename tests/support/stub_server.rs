//! A stub llmring server on 127.0.0.1 for the server-mode tests (tests/server*.rs), standard
//! library only (no wiremock: it cannot drop a connection or stop listening).
//!
//! It serves the subset in docs/server.md: `POST /api/v1/log` and
//! `POST /api/v1/conversations/log` (deduplicated by `Idempotency-Key`, answering with a
//! receipt it signed), `GET /api/v1/receipts/public-keys.json`, `GET /api/v1/receipts` and
//! `GET /api/v1/stats`. A request without the right `X-API-Key` gets 401.
//!
//! Switches: [`StubServer::stop`] / [`StubServer::resume`] (refuse connections, then listen
//! again on the same port), and [`Mode`]: delay, answer a status (500, 401...), or drop the
//! connection after receiving (and processing) the request. [`StubServer::bad_signatures`]
//! makes the receipts it signs fail verification.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use llmring::receipt::keys::{self, KeyFormat, SigningKey};
use serde_json::{Value, json};

/// How the stub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Answers this HTTP status (with a FastAPI-style `detail`), processing nothing.
    Status(u16),
    /// Processes the request, then closes the connection without answering.
    DropAfterReceive,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

struct Shared {
    api_key: String,
    mode: Mutex<Mode>,
    bad_signatures: AtomicBool,
    key: SigningKey,
    requests: Mutex<Vec<Received>>,
    /// Accepted reports by path, deduplicated, in arrival order: (idempotency key, body).
    accepted: Mutex<Vec<(String, String, Value)>>,
    /// The answer given to each idempotency key (given again for a duplicate).
    answers: Mutex<HashMap<String, Value>>,
}

pub struct StubServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listening: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
    /// While stopped: a socket bound to the port but not listening, so connections are
    /// refused and no other listener (nor a client's own source port) can take the port.
    reserved: Mutex<Option<socket2::Socket>>,
}

/// A socket bound to `addr` (SO_REUSEADDR), not listening yet.
fn bound(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

pub const KEY_ID: &str = "stub-key-1";

impl StubServer {
    /// Starts listening on a free port; `api_key` is the one key it accepts.
    pub fn start(api_key: &str) -> StubServer {
        let socket = bound("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1");
        socket.listen(128).unwrap();
        let listener: TcpListener = socket.into();
        let stub = StubServer {
            addr: listener.local_addr().unwrap(),
            shared: Arc::new(Shared {
                api_key: api_key.to_owned(),
                mode: Mutex::new(Mode::Normal),
                bad_signatures: AtomicBool::new(false),
                key: keys::generate().unwrap(),
                requests: Mutex::default(),
                accepted: Mutex::default(),
                answers: Mutex::default(),
            }),
            listening: Mutex::new(None),
            reserved: Mutex::new(None),
        };
        stub.listen(listener);
        stub
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    pub fn bad_signatures(&self, on: bool) {
        self.shared.bad_signatures.store(on, Ordering::SeqCst);
    }

    /// The public key it signs with, base64url.
    pub fn public_key(&self) -> String {
        keys::encode_public(&self.shared.key.verifying_key(), KeyFormat::Base64Url).unwrap()
    }

    /// Stops listening: connections are refused until [`StubServer::resume`].
    pub fn stop(&self) {
        if let Some((stop, handle)) = self.listening.lock().unwrap().take() {
            stop.store(true, Ordering::SeqCst);
            handle.join().unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let socket = loop {
            match bound(self.addr) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot keep {} bound: {e}",
                        self.addr
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        };
        *self.reserved.lock().unwrap() = Some(socket);
        assert!(
            TcpStream::connect(self.addr).is_err(),
            "the port still accepts"
        );
    }

    /// Listens again on the same port.
    pub fn resume(&self) {
        let socket = self.reserved.lock().unwrap().take().expect("stopped");
        socket.listen(128).unwrap();
        self.listen(socket.into());
    }

    fn listen(&self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::clone(&self.shared);
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || handle(stream, &shared));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        *self.listening.lock().unwrap() = Some((stop, handle));
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The reports accepted at `path` (each idempotency key once), in arrival order.
    pub fn accepted(&self, path: &str) -> Vec<(String, Value)> {
        self.shared
            .accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, k, b)| (k.clone(), b.clone()))
            .collect()
    }

    /// The idempotency keys of the usage reports accepted, in order.
    pub fn logged_keys(&self) -> Vec<String> {
        self.accepted("/api/v1/log")
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.listening.lock().unwrap().take() {
            stop.store(true, Ordering::SeqCst);
            let _ = handle.join();
        }
    }
}

/// Waits until `cond` holds, polling, at most `timeout`; panics with `what` otherwise.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(mut stream: &TcpStream, status: u16, body: &Value) {
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

fn handle(stream: TcpStream, shared: &Shared) {
    stream.set_nonblocking(false).unwrap();
    let Some(request) = read_request(&stream) else {
        return;
    };
    shared.requests.lock().unwrap().push(request.clone());
    let mode = *shared.mode.lock().unwrap();
    match mode {
        Mode::Status(code) => {
            return respond(
                &stream,
                code,
                &json!({"detail": format!("stub answers {code}")}),
            );
        }
        Mode::Delay(d) => std::thread::sleep(d),
        Mode::Normal | Mode::DropAfterReceive => {}
    }
    if request.header("x-api-key") != Some(shared.api_key.as_str()) {
        return respond(&stream, 401, &json!({"detail": "Invalid API key"}));
    }
    let path = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (status, answer) = match (request.method.as_str(), path.as_str()) {
        ("POST", "/api/v1/log" | "/api/v1/conversations/log") => report(shared, &path, &request),
        ("GET", "/api/v1/receipts/public-keys.json") => (
            200,
            json!({
                "keys": [{
                    "key_id": KEY_ID,
                    "public_key": keys::encode_public(&shared.key.verifying_key(),
                        KeyFormat::Base64Url).unwrap(),
                    "algorithm": "ed25519",
                }],
                "current_key_id": KEY_ID,
            }),
        ),
        ("GET", "/api/v1/receipts") => {
            let answers = shared.answers.lock().unwrap();
            let receipts: Vec<Value> = shared
                .accepted
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(_, k, _)| answers.get(k).map(|a| a["receipt"].clone()))
                .collect();
            (200, json!({"receipts": receipts, "total": receipts.len()}))
        }
        ("GET", "/api/v1/stats") => {
            let accepted = shared.accepted.lock().unwrap();
            let logs: Vec<&Value> = accepted
                .iter()
                .filter(|(p, _, _)| p == "/api/v1/log")
                .map(|(_, _, b)| b)
                .collect();
            let tokens: u64 = logs
                .iter()
                .map(|b| b["input_tokens"].as_u64().unwrap() + b["output_tokens"].as_u64().unwrap())
                .sum();
            (
                200,
                json!({
                    "summary": {"total_requests": logs.len(), "total_tokens": tokens,
                                "total_cost": "0", "unique_models": 1, "unique_origins": 1},
                    "by_day": [], "by_model": {}, "by_origin": {}, "by_alias": {},
                    "query": request.path,
                }),
            )
        }
        _ => (404, json!({"detail": "Not Found"})),
    };
    if mode == Mode::DropAfterReceive {
        // Processed, but the client never hears back.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    respond(&stream, status, &answer);
}

/// A report: deduplicated by idempotency key; a new one is accepted and gets a signed receipt.
fn report(shared: &Shared, path: &str, request: &Received) -> (u16, Value) {
    let body = request.json();
    let key = request
        .header("idempotency-key")
        .unwrap_or_default()
        .to_owned();
    if key.is_empty() || body["idempotency_key"] != key.as_str() {
        return (
            422,
            json!({"detail": "Idempotency-Key header and body disagree"}),
        );
    }
    let mut answers = shared.answers.lock().unwrap();
    if let Some(answer) = answers.get(&key) {
        return (200, answer.clone());
    }
    let n = answers.len() + 1;
    let mut receipt = json!({
        "receipt_id": format!("srv-{n}"),
        "id_at_origin": body["local_receipt_id"],
        "timestamp": "2026-01-01T00:00:00Z",
        "key_id": KEY_ID,
        "kind": path,
    });
    if path == "/api/v1/log" {
        receipt["model"] = body["model"].clone();
        receipt["input_tokens"] = body["input_tokens"].clone();
        receipt["output_tokens"] = body["output_tokens"].clone();
        receipt["cost"] = body["cost"].clone();
    }
    llmring::receipt::sign::sign(&mut receipt, &shared.key).unwrap();
    if shared.bad_signatures.load(Ordering::SeqCst) {
        // Signed, then changed: the signature no longer matches.
        receipt["input_tokens"] = json!(999_999);
    }
    let answer = json!({
        "log_id": format!("log-{n}"),
        "timestamp": "2026-01-01T00:00:00Z",
        "receipt": receipt,
    });
    answers.insert(key.clone(), answer.clone());
    shared
        .accepted
        .lock()
        .unwrap()
        .push((path.to_owned(), key, body));
    (200, answer)
}

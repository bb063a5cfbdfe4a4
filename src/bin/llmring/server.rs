//! `llmring sync`, `llmring stats --server`, and the server receipts part of `llmring verify`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use llmring::client::Client;
use llmring::store::Store;
use llmring::{Error, ErrorKind, Result};
use serde_json::{Value, json};

use crate::chat::config_text;

#[derive(Args)]
pub struct SyncArgs {
    /// Client configuration with its `server` section (a JSON file or the JSON itself; else
    /// LLMRING_SERVER_URL and LLMRING_API_KEY).
    #[arg(long)]
    config: Option<String>,
    /// How long to keep trying while the server is unreachable, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print the result as JSON (as llmring_sync returns it).
    #[arg(long)]
    json: bool,
}

fn client(config: Option<&str>) -> Result<Client> {
    let config = config_text(config)?;
    Client::new(config.as_deref())
}

/// `llmring sync`: exit 0 when nothing is left pending, 1 when some is, 2 on an error (the
/// server refused the key or reports).
pub fn sync(args: SyncArgs) -> Result<ExitCode> {
    let client = client(args.config.as_deref())?;
    let report = match client.sync(Duration::from_secs(args.timeout)) {
        Ok(text) => serde_json::from_str::<Value>(&text)
            .map_err(|e| Error::internal(format!("sync report: {e}")))?,
        Err(e) if e.kind == ErrorKind::Server => {
            if let Some(report) = e.details.get("sync") {
                print_sync(report, args.json);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    print_sync(&report, args.json);
    Ok(if report["pending"].as_u64() == Some(0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_sync(report: &Value, as_json: bool) {
    if as_json {
        println!("{report}");
        return;
    }
    let failed = report["failed"].as_array().map_or(0, Vec::len);
    println!(
        "sent {}, pending {}, failed {}",
        report["sent"], report["pending"], failed
    );
    for f in report["failed"].as_array().into_iter().flatten() {
        println!(
            "  failed {} ({}): {}",
            f["key"].as_str().unwrap_or_default(),
            f["kind"].as_str().unwrap_or_default(),
            f["error"]["message"].as_str().unwrap_or_default()
        );
    }
    if let Some(message) = report["error"]["message"].as_str() {
        println!("last error: {message}");
    }
}

/// After `llmring chat`: waits for the report to reach the server, saying so only when it
/// did not.
pub fn flush_quietly(client: &Client, timeout_ms: u64) {
    if !client.has_server() {
        return;
    }
    match client.sync(Duration::from_millis(timeout_ms)) {
        Ok(text) => {
            let report: Value = serde_json::from_str(&text).unwrap_or_default();
            if report["pending"].as_u64() != Some(0) {
                eprintln!(
                    "llmring: {} report(s) wait for the server (llmring sync sends them): {}",
                    report["pending"],
                    report["error"]["message"]
                        .as_str()
                        .unwrap_or("not sent yet")
                );
            }
        }
        Err(e) => eprintln!("llmring: server: {}", e.message),
    }
}

/// `llmring stats --server`.
pub fn stats(
    config: Option<&str>,
    since: Option<String>,
    until: Option<String>,
    as_json: bool,
) -> Result<ExitCode> {
    let client = client(config)?;
    let date = |t: Option<String>| t.map(|t| t.chars().take(10).collect::<String>());
    let query = json!({"start_date": date(since), "end_date": date(until)});
    let text = client.server_stats(Some(&query.to_string()))?;
    if as_json {
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| Error::internal(e.to_string()))?;
    let summary = &value["summary"];
    if summary.is_object() {
        println!(
            "server: {} requests, {} tokens, ${}",
            summary["total_requests"], summary["total_tokens"], summary["total_cost"]
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&value).map_err(|e| Error::internal(e.to_string()))?
    );
    Ok(ExitCode::SUCCESS)
}

/// The server receipts check of `llmring verify`: with a server configured (`--config` or
/// LLMRING_SERVER_URL), against the keys it publishes; else against the cached keys. `None`
/// when no server receipt is stored.
pub fn verify_receipts(config: Option<&str>, store: &Store) -> Result<Option<Value>> {
    let Some(path) = store.path() else {
        return Ok(None);
    };
    let configured = config.is_some() || std::env::var_os("LLMRING_SERVER_URL").is_some();
    if configured {
        // The server receipts beside the store being verified, whatever the config's store.
        let mut value: Value = match config_text(config)? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::invalid_json(format!("configuration: {e}")))?,
            None => json!({}),
        };
        if let Some(map) = value.as_object_mut() {
            map.insert("store".into(), path.display().to_string().into());
        }
        let client = Client::new(Some(&value.to_string()))?;
        if client.has_server() {
            let report: Value = serde_json::from_str(&client.verify_server_receipts()?)
                .map_err(|e| Error::internal(e.to_string()))?;
            return Ok((report["server_receipts"].as_u64() != Some(0)).then_some(report));
        }
    }
    llmring::server::verify_stored(path)
}

pub fn print_verification(report: &Value) {
    println!(
        "server receipts: {} valid, {} invalid, {} unchecked (no server key known)",
        report["valid"], report["invalid"], report["unchecked"]
    );
    for p in report["problems"].as_array().into_iter().flatten() {
        println!(
            "  server receipt for local receipt {}: {}",
            p["local_receipt_id"].as_str().unwrap_or_default(),
            p["reason"].as_str().unwrap_or_default()
        );
    }
}

//! `llmring chat` and `llmring info`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use llmring::client::Client;
use llmring::lockfile::ModelRef;
use llmring::{Error, Result};
use serde_json::{Value, json};

#[derive(Args)]
pub struct ChatArgs {
    /// Client configuration: a JSON file, or the JSON itself (as for `llmring_new`).
    #[arg(long)]
    config: Option<String>,
    /// Alias or `provider:model`.
    #[arg(long, default_value = "fast")]
    model: String,
    /// Profile (else the configuration's, LLMRING_PROFILE, the lockfile's default).
    #[arg(long)]
    profile: Option<String>,
    /// Answer offline with this text instead of calling a provider (used automatically when
    /// no API key is set anywhere).
    #[arg(long)]
    mock: Option<String>,
    /// Print the response JSON exactly as `llmring_chat` returns it.
    #[arg(long)]
    json: bool,
    /// Stream the answer: print its text as it arrives, then the cost line. With `--json`,
    /// print JSON Lines instead: each chunk as `llmring_chat_stream` gives it, then the final
    /// response JSON as the last line.
    #[arg(long)]
    stream: bool,
    /// In server mode, how long to wait for the call's report to reach the server before
    /// exiting (what is left is sent by the next client or `llmring sync`).
    #[arg(long, default_value_t = 5000)]
    sync_timeout_ms: u64,
    /// The user message.
    message: String,
}

#[derive(Args)]
pub struct InfoArgs {
    /// `provider:model`.
    model: String,
    /// Client configuration (its registry settings are used).
    #[arg(long)]
    config: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Reads `--config`: inline JSON when it starts with `{`, else a file path.
pub fn config_text(config: Option<&str>) -> Result<Option<String>> {
    match config {
        None => Ok(None),
        Some(text) if text.trim_start().starts_with('{') => Ok(Some(text.to_owned())),
        Some(path) => std::fs::read_to_string(Path::new(path))
            .map(Some)
            .map_err(|e| Error::config(format!("cannot read configuration {path}: {e}"))),
    }
}

/// True when no provider API key is configured or in the environment.
fn no_api_key(config: Option<&str>) -> bool {
    let env_keys = [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
    ];
    let in_env = env_keys
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    // Provider keys only: the `server` section's api_key is no provider's.
    let in_config = config
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|c| c.get("providers").cloned())
        .and_then(|p| p.as_object().cloned())
        .is_some_and(|p| p.values().any(|v| v.get("api_key").is_some()));
    !in_env && !in_config
}

pub fn chat(args: ChatArgs) -> Result<ExitCode> {
    let config = config_text(args.config.as_deref())?;
    let client = Client::new(config.as_deref())?;
    let mut request = json!({
        "model": args.model,
        "messages": [{"role": "user", "content": args.message}],
    });
    if let Some(profile) = args.profile {
        request["profile"] = profile.into();
    }
    let mock = args.mock.or_else(|| {
        no_api_key(config.as_deref()).then(|| {
            eprintln!("llmring: no API key set; answering with the offline mock");
            "This is the offline mock answering: set an API key for a real answer.".to_owned()
        })
    });
    if let Some(text) = mock {
        request["mock_response"] = text.into();
    }
    let response = if args.stream {
        stream(&client, &request.to_string(), args.json)?
    } else {
        client.chat(&request.to_string())?
    };
    crate::server::flush_quietly(&client, args.sync_timeout_ms);
    if args.json {
        println!("{response}");
        return Ok(ExitCode::SUCCESS);
    }
    let r: Value = serde_json::from_str(&response).map_err(|e| Error::internal(e.to_string()))?;
    if !args.stream {
        println!("{}", r["content"].as_str().unwrap_or_default());
    }
    let usage = &r["usage"];
    println!(
        "\n{} -> {} | {} prompt + {} completion tokens | ${} ({}) | receipt {}",
        r["alias"].as_str().unwrap_or_default(),
        r["model"].as_str().unwrap_or_default(),
        usage["prompt_tokens"],
        usage["completion_tokens"],
        llmring::cost::json::decimal_from_json(&usage["cost"], "cost")
            .map(|d| d.normalize().to_string())
            .unwrap_or_default(),
        usage["cost_status"].as_str().unwrap_or_default(),
        r["receipt"]["receipt_id"].as_str().unwrap_or_default(),
    );
    Ok(ExitCode::SUCCESS)
}

/// A streamed call: prints each text delta as it arrives (or, with `json`, each chunk as one
/// JSON line), flushing stdout, then a newline (text only). Returns the final response JSON.
fn stream(client: &Client, request: &str, json: bool) -> Result<String> {
    let mut out = std::io::stdout();
    let response = client.chat_stream(request, |chunk| {
        let written = if json {
            writeln!(out, "{chunk}")
        } else {
            match serde_json::from_str::<Value>(chunk) {
                Ok(Value::Object(c)) => match c.get("delta") {
                    Some(Value::String(text)) => out.write_all(text.as_bytes()),
                    _ => Ok(()),
                },
                _ => Ok(()),
            }
        };
        // A closed stdout (`| head`) stops the stream.
        written.and_then(|()| out.flush()).is_ok()
    })?;
    if !json {
        println!();
    }
    Ok(response)
}

pub fn info(args: InfoArgs) -> Result<ExitCode> {
    let config = config_text(args.config.as_deref())?;
    let client = Client::new(config.as_deref())?;
    let model = ModelRef::parse(&args.model)?;
    let info = client.registry().model(&model).ok_or_else(|| {
        Error::config(format!(
            "{model} is not in the registry ({})",
            client.registry().source()
        ))
    })?;
    let value = info.to_json();
    if args.json {
        println!("{}", llmring::receipt::to_json(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", args.model);
    if let Value::Object(fields) = &value {
        for (key, v) in fields {
            if !v.is_null() {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                println!("  {key:<42} {shown}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct BudgetArgs {
    /// Client configuration with its budgets (a JSON file or the JSON itself).
    #[arg(long)]
    config: Option<String>,
    /// Print JSON (as llmring_budget_status returns it).
    #[arg(long)]
    json: bool,
}

/// `llmring budget`: each budget's window, spent, reserved, limit and remaining, with a bar.
pub fn budget(args: BudgetArgs) -> Result<ExitCode> {
    let config = config_text(args.config.as_deref())?;
    let client = Client::new(config.as_deref())?;
    let status = client.budget_status()?;
    if args.json {
        println!("{status}");
        return Ok(ExitCode::SUCCESS);
    }
    let status: Value =
        serde_json::from_str(&status).map_err(|e| Error::internal(e.to_string()))?;
    let budgets = status["budgets"].as_array().cloned().unwrap_or_default();
    if budgets.is_empty() {
        println!("no budgets configured");
    }
    let dec = |v: &Value| llmring::cost::json::decimal_from_json(v, "amount").unwrap_or_default();
    for b in budgets {
        let (spent, reserved, limit) = (dec(&b["spent"]), dec(&b["reserved"]), dec(&b["limit"]));
        const WIDTH: u32 = 30;
        let cells = |amount: rust_decimal::Decimal| -> usize {
            if limit.is_zero() {
                return 0;
            }
            let share = (amount * rust_decimal::Decimal::from(WIDTH) / limit).round();
            u32::try_from(share).unwrap_or(WIDTH).min(WIDTH) as usize
        };
        let (s, r) = (cells(spent), cells(spent + reserved));
        let bar = format!(
            "{}{}{}",
            "#".repeat(s),
            "+".repeat(r - s),
            ".".repeat(WIDTH as usize - r)
        );
        println!(
            "{:<28} {:<5} since {}  [{bar}]  spent ${} + reserved ${} of ${}, ${} left",
            b["name"].as_str().unwrap_or_default(),
            b["window"].as_str().unwrap_or_default(),
            b["window_start"].as_str().unwrap_or_default(),
            spent.normalize(),
            reserved.normalize(),
            limit.normalize(),
            dec(&b["remaining"]).normalize(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

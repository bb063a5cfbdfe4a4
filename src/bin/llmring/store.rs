//! `llmring stats`, `export`, `report` and `verify`: reading the receipt store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use llmring::receipt::keys::VerifyingKey;
use llmring::stats::{self, GroupBy, Totals};
use llmring::store::{Filter, Record, Store, VerifyOptions, verify};
use llmring::{Result, export, keyfile};
use serde_json::json;

/// Where the store is and which receipts to read.
#[derive(Args)]
pub struct Selection {
    /// The store file (default: LLMRING_STORE, else the user's data directory).
    #[arg(long)]
    store: Option<String>,
    /// Receipts at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long)]
    since: Option<String>,
    /// Receipts before this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long)]
    until: Option<String>,
}

impl Selection {
    fn open(&self) -> Result<Store> {
        let spec = self
            .store
            .clone()
            .or_else(|| std::env::var("LLMRING_STORE").ok());
        let (store, repair) = Store::from_spec(spec.as_deref())?;
        if let Some(repair) = repair {
            eprintln!("llmring: repaired the store: {}", repair.to_json());
        }
        Ok(store)
    }

    fn filter(&self) -> Result<Filter> {
        let time = |t: &Option<String>| {
            t.as_ref().map(|t| {
                if t.len() == 10 {
                    format!("{t}T00:00:00Z")
                } else {
                    t.clone()
                }
            })
        };
        let spec = json!({"since": time(&self.since), "until": time(&self.until)});
        let spec: serde_json::Map<_, _> = spec
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Filter::from_json(Some(&serde_json::Value::Object(spec).to_string()))
    }
}

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    selection: Selection,
    /// Group by provider, alias, model, profile or day (repeatable; default: provider,
    /// alias and model; with --verbose all).
    #[arg(long)]
    by: Vec<String>,
    /// Every grouping.
    #[arg(long)]
    verbose: bool,
    /// Print JSON (as llmring_stats returns it).
    #[arg(long)]
    json: bool,
    /// Ask the llmring server instead (`GET /api/v1/stats`; --since/--until as dates, --by
    /// not used).
    #[arg(long)]
    server: bool,
    /// Client configuration (for --server: its `server` section).
    #[arg(long)]
    config: Option<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    selection: Selection,
    /// json or csv.
    #[arg(long, default_value = "json")]
    format: String,
    /// The file to write (written aside, then renamed).
    #[arg(long)]
    output: PathBuf,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    selection: Selection,
    /// The file to write.
    #[arg(long)]
    output: PathBuf,
    /// Public key (text or file) to check signatures with; repeatable.
    #[arg(long = "public-key", allow_hyphen_values = true)]
    public_keys: Vec<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The store file (default: LLMRING_STORE, else the user's data directory).
    #[arg(long)]
    store: Option<String>,
    /// Public key (text or file) to check signatures with; repeatable.
    #[arg(long = "public-key", allow_hyphen_values = true)]
    public_keys: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Client configuration: with a server configured (or LLMRING_SERVER_URL), the server
    /// receipts are checked against keys fetched from it, else against the cached keys.
    #[arg(long)]
    config: Option<String>,
}

fn keys(texts: &[String]) -> Result<Vec<VerifyingKey>> {
    texts.iter().map(|k| keyfile::read_public(k)).collect()
}

/// A progress bar over bytes of the store file, drawn only on a terminal.
fn progress(store: &Store, what: &str) -> ProgressBar {
    let len = store
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn tracked<'a>(
    records: impl Iterator<Item = Result<Record>> + 'a,
    bar: &'a ProgressBar,
) -> impl Iterator<Item = Result<Record>> + 'a {
    records.inspect(move |r| {
        if let Ok(record) = r {
            bar.set_position(record.offset);
        }
    })
}

pub fn stats(args: StatsArgs) -> Result<ExitCode> {
    if args.server {
        let (since, until) = (args.selection.since.clone(), args.selection.until.clone());
        return crate::server::stats(args.config.as_deref(), since, until, args.json);
    }
    let store = args.selection.open()?;
    let filter = args.selection.filter()?;
    let by: Vec<GroupBy> = if args.verbose {
        GroupBy::ALL.to_vec()
    } else if args.by.is_empty() {
        vec![GroupBy::Provider, GroupBy::Alias, GroupBy::Model]
    } else {
        args.by
            .iter()
            .map(|b| GroupBy::parse(b))
            .collect::<Result<_>>()?
    };
    let computed = stats::compute(store.iter(filter.clone())?, &by)?;
    if args.json {
        println!("{}", llmring::receipt::to_json(&computed.to_json(&filter))?);
        return Ok(ExitCode::SUCCESS);
    }
    let t = &computed.total;
    println!(
        "{} requests, {} tokens ({} prompt + {} completion), ${}",
        t.requests,
        t.total_tokens,
        t.prompt_tokens,
        t.completion_tokens,
        t.total_cost.normalize()
    );
    if let (Some(first), Some(last)) = (&computed.first_timestamp, &computed.last_timestamp) {
        println!("from {first} to {last}");
    }
    for group in by {
        print_table(group.name(), computed.group(group));
    }
    if let Some((alias, totals)) = computed.most_expensive_alias() {
        println!(
            "\nmost expensive alias: {alias} (${})",
            totals.total_cost.normalize()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An aligned table with a bar of each row's share of the cost.
fn print_table(name: &str, rows: &std::collections::BTreeMap<String, Totals>) {
    const BAR: usize = 24;
    println!();
    let width = rows
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0)
        .max(name.len());
    println!(
        "{name:<width$}  {:>9}  {:>12}  {:>14}  cost",
        "requests", "tokens", "cost ($)"
    );
    let max = rows
        .values()
        .map(|t| t.total_cost)
        .max()
        .unwrap_or_default();
    for (key, t) in rows {
        let cells = if max.is_zero() {
            0
        } else {
            let share = t.total_cost * rust_decimal::Decimal::from(BAR) / max;
            share.round().try_into().unwrap_or(0usize)
        };
        println!(
            "{key:<width$}  {:>9}  {:>12}  {:>14}  {}",
            t.requests,
            t.total_tokens,
            t.total_cost.normalize().to_string(),
            "#".repeat(cells)
        );
    }
}

pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let store = args.selection.open()?;
    let format = export::Format::parse(&args.format)?;
    let bar = progress(&store, "exporting");
    let records = tracked(store.iter(args.selection.filter()?)?, &bar);
    let n = export::export_to_path(records, format, &args.output)?;
    bar.finish_and_clear();
    eprintln!("exported {n} receipts to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

pub fn report(args: ReportArgs) -> Result<ExitCode> {
    let store = args.selection.open()?;
    let filter = args.selection.filter()?;
    let keys = keys(&args.public_keys)?;
    let bar = progress(&store, "reporting");
    let records = tracked(store.iter(filter.clone())?, &bar);
    let summary = export::write_atomically(&args.output, |out| {
        export::report::write_report(records, out, &filter, &keys)
    })?;
    bar.finish_and_clear();
    eprintln!(
        "report of {} receipts written to {} ({} signatures valid, {} invalid, {} unsigned, {} unchecked)",
        summary.receipts,
        args.output.display(),
        summary.signatures_valid,
        summary.signatures_invalid,
        summary.unsigned,
        summary.unchecked
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let selection = Selection {
        store: args.store,
        since: None,
        until: None,
    };
    let store = selection.open()?;
    let options = VerifyOptions::with_keys(keys(&args.public_keys)?);
    let report = match store.path() {
        Some(path) => {
            let bar = progress(&store, "verifying");
            let report = verify::verify_path_with_progress(path, &options, &mut |p| {
                bar.set_position(p.bytes_done)
            })?;
            bar.finish_and_clear();
            report
        }
        None => store.verify(&options)?,
    };
    let server = crate::server::verify_receipts(args.config.as_deref(), &store)?;
    if args.json {
        let mut value = report.to_json();
        if let Some(server) = &server {
            value["server_receipts"] = server.clone();
        }
        println!("{}", llmring::receipt::to_json(&value)?);
    } else {
        println!(
            "{} records; signatures: {} valid, {} invalid, {} unsigned, {} unchecked (no key); \
             {} chain breaks, {} unreadable records; head {}",
            report.records,
            report.signatures_valid,
            report.signatures_invalid,
            report.unsigned,
            report.signatures_unchecked,
            report.chain_breaks,
            report.bad_records,
            report.head
        );
    }
    if let Some(server) = &server {
        if !args.json {
            crate::server::print_verification(server);
        }
        if server["invalid"].as_u64() != Some(0) {
            eprintln!("llmring: server receipts do not verify");
            return Ok(ExitCode::from(1));
        }
    }
    match report.first_problem() {
        None if report.ok() => Ok(ExitCode::SUCCESS),
        first => {
            let at = first.map_or_else(String::new, |p| {
                format!(
                    " first problem at line {} (byte {}): {}",
                    p.line, p.offset, p.message
                )
            });
            eprintln!("llmring: the store does not verify;{at}");
            Ok(ExitCode::from(1))
        }
    }
}

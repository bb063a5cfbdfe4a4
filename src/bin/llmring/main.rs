//! The `llmring` command-line program: a client of the library like any host.

mod chat;
mod receipt;
mod server;
mod store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "llmring",
    version,
    about = "Cost-accountable LLM calls with signed receipts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an Ed25519 signing key: writes the private key (mode 0600), prints the public key.
    Keygen(receipt::KeygenArgs),
    /// Chat through an alias and print the answer and its cost.
    Chat(chat::ChatArgs),
    /// Show each budget's window, spent, reserved, limit and remaining.
    Budget(chat::BudgetArgs),
    /// Show a model's prices and limits from the registry.
    Info(chat::InfoArgs),
    /// Statistics over the receipt store: totals and tables by provider, alias, model, ...
    Stats(store::StatsArgs),
    /// Export the receipt store as JSON or CSV.
    Export(store::ExportArgs),
    /// Write a compliance report for a date range.
    Report(store::ReportArgs),
    /// Verify the whole store: hash chain and signatures (exit 1 on any problem).
    Verify(store::VerifyArgs),
    /// Send the reports waiting for the llmring server; print what was sent, is pending, failed.
    Sync(server::SyncArgs),
    /// Sign, verify, canonicalize and digest receipts.
    #[command(subcommand)]
    Receipt(receipt::ReceiptCommand),
}

/// Exit status of a failed command (1 is kept for "invalid signature").
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => receipt::keygen(args),
        Command::Receipt(cmd) => receipt::run(cmd),
        Command::Chat(args) => chat::chat(args),
        Command::Info(args) => chat::info(args),
        Command::Budget(args) => chat::budget(args),
        Command::Stats(args) => store::stats(args),
        Command::Export(args) => store::export(args),
        Command::Report(args) => store::report(args),
        Command::Verify(args) => store::verify(args),
        Command::Sync(args) => server::sync(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llmring: {}", e.message);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

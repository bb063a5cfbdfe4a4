//! `llmring keygen` and `llmring receipt ...`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use llmring::receipt::{api, keys};
use llmring::{Error, Result, keyfile};

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the private key (created with mode 0600, never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Key text format: base64url, base64, hex or pem.
    #[arg(long, default_value = "base64url")]
    format: String,
}

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Sign a receipt and print it as canonical JSON.
    Sign {
        /// Private key file (mode 0600).
        #[arg(long)]
        key: PathBuf,
        /// Receipt JSON file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Verify a receipt's signature: exit 0 valid, 1 invalid, 2 error.
    Verify {
        /// Public key text, or the path of a file holding it.
        #[arg(long = "public-key", allow_hyphen_values = true)]
        public_key: String,
        /// Receipt JSON file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Print the RFC 8785 form of a JSON value (an object's `signature` left out).
    Canonical {
        /// JSON file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Print the hex SHA-256 of the canonical form.
    Digest {
        /// JSON file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

pub fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    let format = keys::KeyFormat::parse(&args.format)?;
    let key = keys::generate()?;
    keyfile::write_private(&args.out, &key, format)?;
    println!(
        "{}",
        keys::encode_public(&key.verifying_key(), format)?.trim_end()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: ReceiptCommand) -> Result<ExitCode> {
    match cmd {
        ReceiptCommand::Sign { key, file } => {
            let key = keyfile::read_private(&key)?;
            println!("{}", api::sign(&read_input(file)?, &key)?);
        }
        ReceiptCommand::Verify { public_key, file } => {
            let key = keyfile::read_public(&public_key)?;
            let verification = api::verify(&read_input(file)?, &key)?;
            if !verification.valid {
                let reason = verification.reason.unwrap_or_default();
                println!("invalid: {reason}");
                return Ok(ExitCode::from(1));
            }
            println!("valid");
        }
        // No newline: the output is exactly the canonical bytes (`| sha256sum` gives the digest).
        ReceiptCommand::Canonical { file } => print!("{}", api::canonical(&read_input(file)?)?),
        ReceiptCommand::Digest { file } => println!("{}", api::digest(&read_input(file)?)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a file argument, or standard input for `-` or no argument.
fn read_input(file: Option<PathBuf>) -> Result<String> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(&path)
            .map_err(|e| Error::invalid_argument(format!("cannot read {}: {e}", path.display()))),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::invalid_argument(format!("cannot read standard input: {e}")))?;
            Ok(text)
        }
    }
}

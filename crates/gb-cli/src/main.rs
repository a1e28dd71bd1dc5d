//! `gb`: evaluate, explain, fetch and watch GrowthBook features from the shell.
//!
//! ```text
//! gb eval    --payload FILE [--attributes JSON|@FILE] [--json|--jsonl] [--users FILE] [FEATURE...]
//! gb explain --payload FILE [--attributes JSON|@FILE] FEATURE
//! gb lint    --payload FILE [--json]
//! gb fetch   --client-key KEY [--api-host URL] [--decryption-key KEY] [--output FILE]
//! gb watch   --client-key KEY [--api-host URL] [--sse auto|always|never] [--max-updates N] [--timeout SECS]
//! gb serve   --payload FILE [--port N] [--encrypt KEY] [--poll-interval SECS]
//! ```
//!
//! `eval` and `explain` read a local payload and need no server and no key. The tool is built
//! on `gb-core` (evaluation, and its trace hook for `explain`) and `gb-transport` (fetching,
//! streaming, decryption); `serve` uses `gb-sdk`'s remote-evaluation endpoint. See `README.md`
//! for examples.

extern crate alloc;

use core::time::Duration;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod eval;
mod explain;
mod input;
mod lint;
mod remote;
mod serve;

use input::CliError;

/// Evaluate, explain, fetch and watch GrowthBook features.
///
/// `eval` and `explain` work on a local payload file: no server, no key.
#[derive(Debug, Parser)]
#[command(name = "gb", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate features for a user (every feature unless some are named) and print each
    /// value and why it was chosen.
    Eval(EvalArgs),
    /// Explain one feature's evaluation step by step: each rule, its condition,
    /// prerequisites, filters, rollout, hash and bucket, sticky buckets, and the final value.
    Explain(ExplainArgs),
    /// Print the structured warnings of a payload: loose shapes (evaluated as the JS SDK
    /// does), shapes the JS SDK throws on, fail-closed regexes, unknown operators,
    /// prerequisite cycles and unreachable rules. Exits 1 when there are findings.
    Lint(LintArgs),
    /// Fetch (and decrypt) a payload from a GrowthBook API host and print it, ready to save
    /// as a local payload file.
    Fetch(FetchArgs),
    /// Stay subscribed to a GrowthBook API host (SSE or polling) and print a line for the
    /// first payload and for every change, naming what changed.
    Watch(WatchArgs),
    /// Serve a payload file as a local GrowthBook API on 127.0.0.1, for development and CI:
    /// features (with ETag), server-sent events pushing every change of the file, and remote
    /// evaluation. A change that does not load is not served (the last good payload stays).
    Serve(ServeArgs),
}

/// Who is evaluated, against which payload.
#[derive(Debug, Args)]
struct ContextArgs {
    /// The payload file (the JSON the GrowthBook API serves, or a `{payload, users}` workload).
    #[arg(long, value_name = "FILE")]
    payload: PathBuf,
    /// The user's attributes: a JSON object, or @FILE to read one from a file. Default `{}`.
    #[arg(long, short = 'a', value_name = "JSON|@FILE")]
    attributes: Option<String>,
    /// The current URL (for URL targeting and query-string forced variations).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Stored sticky buckets: a JSON array of {attributeName, attributeValue, assignments}.
    /// Turns sticky bucketing on (`[]` turns it on with nothing stored); in batch mode every
    /// user starts from these documents.
    #[arg(long, value_name = "FILE")]
    sticky_docs: Option<PathBuf>,
    /// Key for a payload with encrypted sections (`encryptedFeatures`, ...).
    #[arg(long, value_name = "KEY")]
    decryption_key: Option<String>,
}

/// Arguments of `gb eval`.
#[derive(Debug, Args)]
struct EvalArgs {
    #[command(flatten)]
    ctx: ContextArgs,
    /// Print one JSON object keyed by feature, each value the spec's FeatureResult.
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// Print one JSON line per feature: {"feature": KEY, "result": FeatureResult}.
    #[arg(long)]
    jsonl: bool,
    /// Batch mode: a JSON array of attribute objects (or a `{users}` workload file). Prints
    /// one line per user, in order: {"user": INDEX, "results": {KEY: FeatureResult}}, and
    /// the timing on stderr.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "jsonl", "attributes"])]
    users: Option<PathBuf>,
    /// Features to evaluate (default: every feature in the payload, in payload order).
    #[arg(value_name = "FEATURE")]
    features: Vec<String>,
}

/// Arguments of `gb explain`.
#[derive(Debug, Args)]
struct ExplainArgs {
    #[command(flatten)]
    ctx: ContextArgs,
    /// The feature to explain.
    #[arg(value_name = "FEATURE")]
    feature: String,
}

/// Arguments of `gb lint`.
#[derive(Debug, Args)]
struct LintArgs {
    /// The payload file.
    #[arg(long, value_name = "FILE")]
    payload: PathBuf,
    /// Key for a payload with encrypted sections.
    #[arg(long, value_name = "KEY")]
    decryption_key: Option<String>,
    /// Print the findings as one JSON array of {kind, location, message}.
    #[arg(long)]
    json: bool,
}

/// Where and how to reach the GrowthBook API.
#[derive(Debug, Args)]
struct RemoteArgs {
    /// The API host.
    #[arg(long, value_name = "URL", default_value = "https://cdn.growthbook.io")]
    api_host: String,
    /// The SDK client key (`sdk-...`).
    #[arg(long, value_name = "KEY")]
    client_key: String,
    /// The key for encrypted payloads.
    #[arg(long, value_name = "KEY")]
    decryption_key: Option<String>,
}

/// Arguments of `gb fetch`.
#[derive(Debug, Args)]
struct FetchArgs {
    #[command(flatten)]
    remote: RemoteArgs,
    /// Write the payload to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the JSON on one line instead of indented.
    #[arg(long)]
    compact: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    timeout: Duration,
}

/// When `watch` uses server-sent events.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sse {
    /// When the server says it supports them (`x-sse-support: enabled`).
    Auto,
    /// Always.
    Always,
    /// Never: poll.
    Never,
}

/// Arguments of `gb watch`.
#[derive(Debug, Args)]
struct WatchArgs {
    #[command(flatten)]
    remote: RemoteArgs,
    /// Server-sent events or polling.
    #[arg(long, value_enum, default_value_t = Sse::Auto)]
    sse: Sse,
    /// Seconds between polls when not streaming.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    poll_interval: Duration,
    /// Exit after this many changes (not counting the first payload).
    #[arg(long, value_name = "N")]
    max_updates: Option<u64>,
    /// Exit after this many seconds (an error if no payload arrived by then).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    timeout: Option<Duration>,
    /// Print each line as a JSON object.
    #[arg(long)]
    json: bool,
}

/// Arguments of `gb serve`.
#[derive(Debug, Args)]
struct ServeArgs {
    /// The payload file (the JSON the GrowthBook API serves, or a `{payload, users}` workload).
    #[arg(long, value_name = "FILE")]
    payload: PathBuf,
    /// The port on 127.0.0.1 (0: any free port; the address is printed first).
    #[arg(long, value_name = "N", default_value = "3100")]
    port: u16,
    /// Serve the payload encrypted with this key (base64 of 16 bytes), as `encryptedFeatures`.
    #[arg(long, value_name = "KEY")]
    encrypt: Option<String>,
    /// Seconds between checks of the file for changes.
    #[arg(long, value_name = "SECS", default_value = "0.2", value_parser = seconds)]
    poll_interval: Duration,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut clean = true;
    let result = match cli.command {
        Command::Lint(a) => lint::run(&a, &mut out).map(|c| clean = c),
        Command::Eval(a) => eval::run(&a, &mut out),
        Command::Explain(a) => explain::run(&a, &mut out),
        Command::Fetch(a) => remote::fetch(&a, &mut out),
        Command::Watch(a) => remote::watch(&a, &mut out),
        Command::Serve(a) => serve::run(&a, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(Failure::Io));
    match result {
        Ok(()) if clean => ExitCode::SUCCESS,
        Ok(()) => ExitCode::from(1),
        // `gb eval | head`: a closed pipe is the reader's choice, not an error.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("gb: cannot write output: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Cli(e)) => {
            eprintln!("gb: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command failed.
#[derive(Debug)]
enum Failure {
    /// Bad input or a failed request (printed as is).
    Cli(CliError),
    /// Writing the output failed.
    Io(io::Error),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Cli(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// What every command returns.
type Outcome = Result<(), Failure>;

/// Parses a number of seconds (`0.5`, `10`) for `--timeout` and `--poll-interval`.
fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{s:?} is not a usable number of seconds"))
}

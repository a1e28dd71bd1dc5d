//! Project tasks, run as `cargo xtask <task>` (the cargo-xtask pattern,
//! <https://github.com/matklad/cargo-xtask>).
//!
//! - `cargo xtask spec [SECTION...]`: run the GrowthBook spec suite and print one row per section.
//! - `cargo xtask no-std`: build the no_std crates for `thumbv7em-none-eabihf` and `wasm32-unknown-unknown`.
//! - `cargo xtask ci`: run `.ci/run`.
//! - `cargo xtask diff [--seconds N] [--seed S] [--pairs P]`: the differential fuzzer against
//!   the JavaScript SDK 1.8.0 (needs Node.js and npm; see `diff/mod.rs`).
//! - `cargo xtask lower-table`: regenerate gb-condition's lowercase tables (`lower_table.rs`).
//!
//! Dependencies: `gb-core` and `serde_json` for the fuzzer; everything else shells out.

mod diff;
mod lower_table;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn run(cmd: &mut Command) -> ExitCode {
    eprintln!("$ {cmd:?}");
    match cmd.current_dir(project_root()).status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("spec") => run(cargo()
            .args([
                "run",
                "-q",
                "--release",
                "-p",
                "spec-tests",
                "--bin",
                "spec-table",
                "--",
            ])
            .args(&args[1..])),
        Some("no-std") => {
            for target in ["thumbv7em-none-eabihf", "wasm32-unknown-unknown"] {
                let code = run(cargo().args([
                    "build",
                    "-p",
                    "gb-condition",
                    "-p",
                    "gb-core",
                    "--target",
                    target,
                ]));
                if code != ExitCode::SUCCESS {
                    return code;
                }
            }
            ExitCode::SUCCESS
        }
        Some("ci") => run(Command::new("bash").arg(".ci/run")),
        Some("diff") => diff::main(&project_root(), &args[1..]),
        Some("lower-table") => lower_table::main(&project_root()),
        _ => {
            eprintln!(
                "usage: cargo xtask <spec [SECTION...] | no-std | ci | diff [--seconds N] [--seed S] | lower-table>"
            );
            ExitCode::FAILURE
        }
    }
}

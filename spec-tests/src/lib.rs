//! Loads the shared GrowthBook spec suite (`cases.json`) and runs each section against the
//! workspace crates, reporting every failing case by name.
//!
//! See this crate's README for where `cases.json` is read from; it is never committed.
//!
//! ```
//! use serde_json::json;
//!
//! // A section runs against any document of the cases.json shape.
//! let cases = json!({"hash": [["seed", "a", 1, 0.22], ["seed", "a", 3, null]]});
//! let report = spec_tests::run_section(&cases, "hash");
//! assert_eq!((report.passed, report.total), (1, 2));
//! assert_eq!(spec_tests::SPEC_VERSION, "0.8.0");
//! ```
#![allow(clippy::unwrap_used, reason = "test harness")]

mod sections;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use sections::{SECTIONS, run_section};

/// The spec version this harness is written for.
pub const SPEC_VERSION: &str = "0.8.0";
/// The pinned upstream commit of `packages/sdk-js/test/cases.json`.
pub const UPSTREAM_COMMIT: &str = "05fe635c749bf7bac92cc5221cf523b69d572ada";
/// The sha256 of the pinned file.
pub const SHA256: &str = "1422cb1bfc6f6035f78aa21e5181ab91f758e37f1688e2c6142aface7d953886";

/// Cases that are known to fail, by section and case name, each with its reason.
/// A known failure still counts as a failure in the table and fails its test.
pub const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// The outcome of one section.
#[derive(Debug, Default)]
pub struct SectionReport {
    /// Cases that passed.
    pub passed: usize,
    /// Cases run.
    pub total: usize,
    /// One line per failing case: its name and what differed.
    pub failures: Vec<String>,
    /// Cases not run because this build lacks what they test (regex cases without the
    /// `regex` feature); not counted in `total`.
    pub skipped: usize,
}

impl SectionReport {
    pub(crate) fn check(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.total += 1;
        if ok {
            self.passed += 1;
        } else {
            self.failures.push(format!("{name}: {}", detail()));
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Finds, or fetches and verifies, `cases.json`.
pub fn cases_path() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("GB_SPEC_CASES") {
        return Ok(PathBuf::from(p));
    }
    let root = workspace_root();
    let shared = root.join("../shared/spec-tests/cases.json");
    if shared.is_file() {
        return Ok(shared);
    }
    let cache = root.join("spec-tests/.cache/cases.json");
    if cache.is_file() && sha256_hex(&std::fs::read(&cache).map_err(|e| e.to_string())?) == SHA256 {
        return Ok(cache);
    }
    let url = format!(
        "https://raw.githubusercontent.com/growthbook/growthbook/{UPSTREAM_COMMIT}/packages/sdk-js/test/cases.json"
    );
    std::fs::create_dir_all(cache.parent().unwrap()).map_err(|e| e.to_string())?;
    let status = Command::new("curl")
        .args(["-fsSL", "--max-time", "60", "-o"])
        .arg(&cache)
        .arg(&url)
        .status();
    let how = "set GB_SPEC_CASES to a copy of cases.json, or place the shared folder beside the checkout \
               (../shared/spec-tests/cases.json)";
    match status {
        Ok(s) if s.success() => {}
        _ => {
            return Err(format!(
                "cases.json not found and could not be downloaded from {url}; {how}"
            ));
        }
    }
    let bytes = std::fs::read(&cache).map_err(|e| e.to_string())?;
    if sha256_hex(&bytes) != SHA256 {
        let _ = std::fs::remove_file(&cache);
        return Err(format!(
            "downloaded cases.json has the wrong sha256 (want {SHA256}); {how}"
        ));
    }
    Ok(cache)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads and parses `cases.json`.
pub fn load_cases() -> Result<Value, String> {
    let p = cases_path()?;
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

//! The real JavaScript SDK 1.8.0 (npm, pinned by `xtask/js/package-lock.json`) against
//! `gb serve` on the shared 200-feature x 1000-user workload:
//! * in `remoteEval` mode (`POST /api/eval/{key}`) it gets, for every user and feature, the
//!   value it computes evaluating the payload locally, and tracks the same experiments;
//! * bootstrapped from gb-sdk's `client.payload()` it evaluates every user as the Rust client.
//!
//! Needs Node.js and npm (`bash .ci/node.sh` installs them) and `../shared/bench/workload.json`
//! (or `GB_WORKLOAD`); without them it says so and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

extern crate alloc;

mod common;
#[path = "common/served.rs"]
mod served;

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::{self, Value, json};
use served::Served;

/// Skips the test (or fails it under `CI=true`).
fn missing(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and {what}: the JS differential test cannot run"
    );
    eprintln!("SKIPPED: {what}");
}

fn js_dir() -> PathBuf {
    common::repo().join("xtask/js")
}

/// The pinned JS SDK in `xtask/js/node_modules`, installed with `npm ci` if missing.
fn js_sdk() -> bool {
    let installed = js_dir().join("node_modules/@growthbook/growthbook/package.json");
    let version_ok = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|v| v["version"] == "1.8.0")
    };
    if version_ok(&installed) {
        return true;
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(js_dir());
    let run = common::run_within(npm, Duration::from_secs(150));
    let (ok, err) = (run.code == Some(0), run.stderr);
    if !ok || !version_ok(&installed) {
        missing(&format!("`npm ci` in xtask/js failed: {err}"));
        return false;
    }
    true
}

fn workload() -> Option<PathBuf> {
    let path = std::env::var_os("GB_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("../shared/bench/workload.json"));
    path.exists().then_some(path)
}

#[test]
fn js_sdk_remote_eval_and_bootstrap_match_local_evaluation() {
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node is not installed");
    }
    let Some(workload_path) = workload() else {
        return missing("../shared/bench/workload.json is missing");
    };
    if !js_sdk() {
        return;
    }
    let workload: Value =
        serde_json::from_str(&std::fs::read_to_string(&workload_path).unwrap()).unwrap();
    let users = workload["users"].as_array().unwrap();
    let keys: Vec<&String> = workload["payload"]["features"]
        .as_object()
        .unwrap()
        .keys()
        .collect();

    let server = Served::start(&workload_path, &[]);

    // A Rust server's client, fetching from gb serve; its payload() bootstraps the JS client.
    let client = GrowthBook::builder()
        .api_host(server.url())
        .client_key("sdk-dev")
        .build_blocking()
        .unwrap();
    assert!(client.ready_blocking(Duration::from_secs(10)));
    let payload = client.payload().expect("a loaded client has a payload");
    let rust: Vec<Value> = users
        .iter()
        .map(|u| {
            let user = client.user(u.as_object().unwrap().clone());
            keys.iter()
                .map(|k| user.eval_feature(k).value().clone())
                .collect::<Vec<_>>()
                .into()
        })
        .collect();
    let bootstrap = common::scratch(
        "bootstrap.json",
        &json!({"payload": *payload, "rust": rust}).to_string(),
    );
    client.close();

    let mut node = Command::new("node");
    node.arg("remote_eval_check.js")
        .arg(server.url())
        .arg(&workload_path)
        .arg(&bootstrap)
        .current_dir(js_dir());
    let start = Instant::now();
    let run = common::run_within(node, Duration::from_secs(90));
    let (ok, out, err) = (run.code == Some(0), run.stdout, run.stderr);
    eprintln!("JS check in {:?}: {out}", start.elapsed());
    let summary: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|_| panic!("no summary from node: {out}\n{err}"));
    assert!(ok, "the JS SDK disagrees: {summary:#}");
    let pairs = (users.len() * keys.len()) as u64;
    assert_eq!(summary["remoteCompared"], pairs, "{summary}");
    assert_eq!(summary["bootstrapCompared"], pairs, "{summary}");
    assert!(summary["tracked"].as_u64().unwrap() > 0, "{summary}");
}

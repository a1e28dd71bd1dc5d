//! Writes seed corpora for the fuzz targets in `fuzz/` from the spec suite, at run time (the
//! corpora are never committed): `cargo run -p spec-tests --bin fuzz-seeds -- fuzz/corpus`.
//!
//! One file per case and target, in the input format that target reads (see `fuzz/README.md`).
#![allow(clippy::unwrap_used, reason = "a developer tool")]

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    let cases = match spec_tests::load_cases() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut n = 0usize;
    let mut write = |target: &str, name: usize, bytes: &[u8]| {
        let d = Path::new(&dir).join(target);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("spec-{name:04}")), bytes).unwrap();
        n += 1;
    };
    let section = |name: &str| cases[name].as_array().cloned().unwrap_or_default();

    // Payload targets: the case's context (features, saved groups, bandits, attributes) with
    // the sticky documents under `stickyDocs`.
    let mut i = 0;
    for s in [
        "feature",
        "contextualBandit",
        "stickyBucket",
        "run",
        "urlRedirect",
    ] {
        for case in section(s) {
            let Some(ctx) = case.get(1).and_then(Value::as_object) else {
                continue;
            };
            let mut p = ctx.clone();
            if s == "stickyBucket" {
                p.insert(
                    "stickyDocs".into(),
                    case.get(2).cloned().unwrap_or(Value::Null),
                );
            }
            if s == "run" {
                // An inline experiment becomes the payload's experiment list.
                p.insert(
                    "experiments".into(),
                    json!([case.get(2).cloned().unwrap_or(Value::Null)]),
                );
            }
            let text = serde_json::to_vec(&Value::Object(p)).unwrap();
            write("payload", i, &text);
            write("remote_eval", i, &text);
            write("json", i, &text);
            i += 1;
        }
    }

    // Conditions: {condition, attributes, savedGroups}.
    for (i, case) in section("evalCondition").iter().enumerate() {
        let doc = json!({
            "condition": case.get(1).cloned().unwrap_or(Value::Null),
            "attributes": case.get(2).cloned().unwrap_or(Value::Null),
            "savedGroups": case.get(4).cloned().unwrap_or(Value::Null),
        });
        write("condition", i, &serde_json::to_vec(&doc).unwrap());
    }

    // Decryption: 16 key bytes, 16 IV bytes, then the plaintext (the round-trip target), and
    // the spec's ciphertexts as text (the target also decrypts its input as is).
    for (i, case) in section("decrypt").iter().enumerate() {
        let plain = case.get(3).and_then(Value::as_str).unwrap_or("");
        let mut bytes: Vec<u8> = (0u8..32)
            .map(|b| b.wrapping_mul(7).wrapping_add(i as u8))
            .collect();
        bytes.extend_from_slice(plain.as_bytes());
        write("decrypt", i, &bytes);
        let line = format!(
            "{}\n{}",
            case.get(1).and_then(Value::as_str).unwrap_or(""),
            case.get(2).and_then(Value::as_str).unwrap_or("")
        );
        write("decrypt", 1000 + i, line.as_bytes());
    }

    // Server-sent events: a chunking seed byte, then a stream carrying payloads as events.
    for (i, case) in section("feature").iter().take(40).enumerate() {
        let data = serde_json::to_string(case.get(1).unwrap_or(&Value::Null)).unwrap();
        let stream = format!(
            "\x07: comment\r\nevent: features\nid: {i}\nretry: 1000\ndata: {data}\n\nevent: ping\ndata:\r\n\r\ndata: a\ndata: b\n\n"
        );
        write("sse", i, stream.as_bytes());
    }

    println!("wrote {n} seed files under {dir}");
    ExitCode::SUCCESS
}

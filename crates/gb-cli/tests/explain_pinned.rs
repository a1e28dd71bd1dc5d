//! `gb explain`'s whole output, pinned: every feature of `examples/payload.json` (the
//! README's examples) for a few users, with and without sticky documents, and payloads with
//! disabled rules. The golden file was written from the output before issue 12's gb-core
//! refactor; any change to it must be deliberate (`GB_BLESS=1` rewrites it).
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use core::fmt::Write as _;
use std::path::Path;

use common::{example_payload, gb, scratch};

const USERS: [&str; 4] = [
    r#"{"id": "user-42", "country": "US"}"#,
    r#"{"id": "user-7", "country": "DE", "plan": "pro", "email": "a@example.com"}"#,
    r#"{"id": "user-1001", "country": "CA", "beta": true, "company": "acme"}"#,
    r#"{}"#,
];

const DISABLED: &str = r#"{"features": {"f": {"defaultValue": 0, "rules": [
    {"condition": {"plan": "pro"}, "range": "x", "force": 1},
    {"condition": {"plan": {"$regex": "p(?=r)"}}, "force": 5},
    {"condition": {"plan": "pro"}, "coverage": "half", "force": 3},
    {"key": "e", "variations": [1, 2], "weights": "x"},
    {"condition": {"plan": "pro"}, "force": 2}
]}, "g": 7, "h": {"rules": [5, {"force": 1, "parentConditions": [{"id": "f", "condition": {"value": 2}}]}]}}}"#;

fn record(all: &mut String, title: &str, args: &[&str]) {
    let run = gb(args);
    let _ = writeln!(all, "### {title}\n--- exit {:?}", run.code);
    let _ = writeln!(all, "--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr);
}

#[test]
fn explain_output_is_unchanged_on_the_readme_examples() {
    let payload = example_payload();
    let text = std::fs::read_to_string(&payload).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<String> = json["features"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let empty_docs = scratch("empty-docs.json", "[]");
    let mut all = String::new();
    for (u, attrs) in USERS.iter().enumerate() {
        for key in &keys {
            let args = ["explain", "--payload", &payload, "--attributes", attrs, key];
            record(&mut all, &format!("user {u} feature {key}"), &args);
            let args = [
                "explain",
                "--payload",
                &payload,
                "--attributes",
                attrs,
                "--sticky-docs",
                &empty_docs,
                "--url",
                "https://example.com/pricing?pricing-page=1",
                key,
            ];
            record(
                &mut all,
                &format!("user {u} feature {key} sticky+url"),
                &args,
            );
        }
    }
    let disabled = scratch("disabled.json", DISABLED);
    for key in ["f", "g", "h"] {
        let args = [
            "explain",
            "--payload",
            &disabled,
            "-a",
            r#"{"plan": "pro", "id": "u"}"#,
            key,
        ];
        record(&mut all, &format!("disabled-rules feature {key}"), &args);
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/explain.txt");
    if std::env::var_os("GB_BLESS").is_some() {
        std::fs::write(&golden, &all).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    if want != all {
        let first = want
            .lines()
            .zip(all.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "gb explain output changed; first differing line {first}:\nwant: {:?}\ngot:  {:?}",
            want.lines().nth(first),
            all.lines().nth(first)
        );
    }
}

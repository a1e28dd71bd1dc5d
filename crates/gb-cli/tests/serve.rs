//! `gb serve`: features with ETag/304, SSE pushing every edit of the file to a streaming
//! gb-sdk client within a second, malformed edits not served, encryption, remote evaluation,
//! and gb-sdk's network examples doing what they say against it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

extern crate alloc;

mod common;
#[path = "common/served.rs"]
mod served;

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use gb_sdk::serde_json::{self, Value, json};
use gb_sdk::{GrowthBook, RefreshStrategy};
use served::{Served, header, replace};

/// A copy of `examples/payload.json` in a scratch file (the tests edit it).
fn payload_copy(name: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::example_payload()).unwrap();
    PathBuf::from(common::scratch(name, &text))
}

/// The example payload with `checkout-button` defaulting to `value`.
fn with_checkout(value: &str) -> String {
    let mut p: Value =
        serde_json::from_str(&std::fs::read_to_string(common::example_payload()).unwrap()).unwrap();
    p["features"]["checkout-button"]["defaultValue"] = json!(value);
    p.to_string()
}

#[test]
fn features_with_etag_and_304() {
    let file = payload_copy("etag.json");
    let server = Served::start(&file, &[]);
    let (status, head, body) = server.request("GET", "/api/features/sdk-any", &[], b"");
    assert_eq!(status, 200);
    assert_eq!(header(&head, "x-sse-support"), Some("enabled"));
    let etag = header(&head, "etag").unwrap().to_owned();
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        served["features"]["checkout-button"]["defaultValue"],
        "blue"
    );
    assert!(served["dateUpdated"].is_string());
    let (status, _, body) = server.request(
        "GET",
        "/api/features/sdk-any",
        &[("if-none-match", &etag)],
        b"",
    );
    assert_eq!((status, body.len()), (304, 0));
    let (status, _, _) = server.request(
        "GET",
        "/api/features/sdk-any",
        &[("if-none-match", "\"other\"")],
        b"",
    );
    assert_eq!(status, 200);
    // An edit changes the ETag.
    replace(&file, &with_checkout("red"));
    assert!(
        server.wait_stderr("serving version 2", Duration::from_secs(5)),
        "{}",
        server.stderr()
    );
    let (status, head, _) = server.request(
        "GET",
        "/api/features/sdk-any",
        &[("if-none-match", &etag)],
        b"",
    );
    assert_eq!(status, 200);
    assert_ne!(header(&head, "etag").unwrap(), etag);
    // Unknown routes and methods are clear.
    assert_eq!(server.request("GET", "/nope", &[], b"").0, 404);
    assert_eq!(server.request("POST", "/api/features/k", &[], b"").0, 405);
    assert_eq!(server.request("GET", "/api/eval/k", &[], b"").0, 405);
}

#[test]
fn remote_evaluation_on_the_same_payload() {
    let file = payload_copy("eval.json");
    let server = Served::start(&file, &[]);
    let body = json!({"attributes": {"id": "1", "country": "US"}, "forcedVariations": {}, "forcedFeatures": [], "url": ""});
    let (status, head, out) = server.request(
        "POST",
        "/api/eval/sdk-any",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["features"]["checkout-button"]["defaultValue"], "green");
    let (status, _, err) = server.request("POST", "/api/eval/sdk-any", &[], b"{\"url\": 1}");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&err));
    let big = vec![b' '; 200_000];
    assert_eq!(
        server.request("POST", "/api/eval/sdk-any", &[], &big).0,
        413
    );
}

#[test]
fn a_streaming_client_sees_an_edit_within_a_second_and_a_malformed_edit_is_not_served() {
    let file = payload_copy("stream.json");
    let server = Served::start(&file, &[]);
    let client = GrowthBook::builder()
        .api_host(server.url())
        .client_key("sdk-dev")
        .refresh(RefreshStrategy::Streaming)
        .build_blocking()
        .unwrap();
    assert!(client.ready_blocking(Duration::from_secs(5)));
    let user = client.user(
        json!({"id": "7", "country": "FR"})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(user.feature_value("checkout-button", String::new()), "blue");
    let value_within = |want: &str, limit: Duration| {
        let start = Instant::now();
        while start.elapsed() < limit {
            if user.feature_value("checkout-button", String::new()) == want {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    };
    // Give the stream a moment to open (the first payload came over a plain GET).
    std::thread::sleep(Duration::from_millis(300));

    replace(&file, &with_checkout("red"));
    let took = value_within("red", Duration::from_secs(3)).expect("the edit never arrived");
    eprintln!("edit seen by the streaming client after {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // A malformed edit: gb serve says why and keeps serving the last good payload.
    std::fs::write(&file, "{\"features\": {\"checkout-button\": ").unwrap();
    assert!(
        server.wait_stderr("not served", Duration::from_secs(5)),
        "{}",
        server.stderr()
    );
    assert!(
        server.stderr().contains("not valid JSON"),
        "{}",
        server.stderr()
    );
    std::fs::write(&file, "{\"features\": []}").unwrap();
    assert!(
        server.wait_stderr("`features`", Duration::from_secs(5)),
        "{}",
        server.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(user.feature_value("checkout-button", String::new()), "red");
    let (_, _, body) = server.request("GET", "/api/features/k", &[], b"");
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served["features"]["checkout-button"]["defaultValue"], "red");

    // Fixed again: served and streamed.
    replace(&file, &with_checkout("teal"));
    assert!(value_within("teal", Duration::from_secs(3)).is_some());
    client.close();
}

#[test]
fn encrypted_serving() {
    let file = payload_copy("encrypted.json");
    let server = Served::start(&file, &["--encrypt", common::KEY]);
    let (_, _, body) = server.request("GET", "/api/features/k", &[], b"");
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served["features"], json!({}));
    assert!(served["encryptedFeatures"].is_string());
    assert!(served["encryptedSavedGroups"].is_string());
    let client = GrowthBook::builder()
        .api_host(server.url())
        .client_key("sdk-dev")
        .decryption_key(common::KEY)
        .build_blocking()
        .unwrap();
    assert!(client.ready_blocking(Duration::from_secs(5)));
    let user = client.user(
        json!({"id": "1", "country": "CA"})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(
        user.feature_value("checkout-button", String::new()),
        "green"
    );
    client.close();
}

/// gb-sdk's example binaries (built by `cargo test --workspace`; built here otherwise).
fn example(name: &str) -> PathBuf {
    let gb = Path::new(env!("CARGO_BIN_EXE_gb"));
    let path = gb.parent().unwrap().join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "gb-sdk", "--example", name])
            .current_dir(common::repo())
            .status()
            .unwrap();
        assert!(status.success(), "cannot build the {name} example");
    }
    assert!(path.exists(), "{} not found", path.display());
    path
}

/// Runs an example against `server` (60 s at most) and returns its stdout.
fn run_example(name: &str, server: &Served, env: &[(&str, &str)], during: impl FnOnce()) -> String {
    let mut child = Command::new(example(name))
        .env("GB_API_HOST", server.url())
        .env("GB_CLIENT_KEY", "sdk-dev")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    during();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("example {name} ran longer than 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_network_examples_work_against_gb_serve() {
    let file = payload_copy("examples.json");
    let server = Served::start(&file, &[]);
    let out = run_example("polling", &server, &[], || {});
    assert!(
        out.contains("loaded: true, status: Ready, last error: None"),
        "{out}"
    );
    assert!(out.contains("\"checkout-button\""), "{out}");
    let out = run_example("blocking", &server, &[], || {});
    assert!(
        out.contains("loaded: true; dark-mode on: false (for staff: true)"),
        "{out}"
    );
    let out = run_example("remote_eval", &server, &[], || {});
    assert!(
        out.contains("ready: true, pricing-page: {\"value\":{\"plan\""),
        "{out}"
    );
    let out = run_example("streaming", &server, &[("GB_SECONDS", "4")], || {
        std::thread::sleep(Duration::from_millis(1500));
        replace(&file, &with_checkout("red"));
    });
    assert!(out.contains("checkout-button = \"blue\""), "{out}");
    assert!(out.contains("checkout-button = \"red\""), "{out}");
}

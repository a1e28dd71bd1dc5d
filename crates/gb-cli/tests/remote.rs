//! `gb fetch` and `gb watch` against a hyper server on 127.0.0.1: plain and encrypted
//! payloads, bad keys, an unreachable host, polling and server-sent events.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use bytes::Bytes;
use common::{ENCRYPTED, KEY, Run, WRONG_KEY, gb, gb_within, json_lines};
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

extern crate alloc;

type Body = BoxBody<Bytes, Infallible>;

/// The client key the test server accepts; any other gets 401.
const CLIENT_KEY: &str = "sdk-test123";

/// A server: `features(n)` answers the n-th (1-based) `/api/features/` request, `sub` the
/// `/sub/` requests. Returns the runtime (keep it alive) and the base URL.
fn serve(
    features: impl Fn(usize) -> Response<Body> + Send + Sync + 'static,
    sub: impl Fn() -> Response<Body> + Send + Sync + 'static,
) -> (Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(move |req: Request<Incoming>| {
        let path = req.uri().path().to_owned();
        if !path.ends_with(&format!("/{CLIENT_KEY}")) {
            return status(401, "unknown key");
        }
        if path.starts_with("/api/features/") {
            features(hits.fetch_add(1, Ordering::SeqCst) + 1)
        } else if path.starts_with("/sub/") {
            sub()
        } else {
            status(404, "no such path")
        }
    });
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let handler = Arc::clone(&handler);
                    async move { Ok::<_, Infallible>(handler(req)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (rt, url)
}

fn status(code: u16, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(http_body_util::Full::new(Bytes::from(body)).boxed())
        .unwrap()
}

fn json_response(value: &Value, sse: bool) -> Response<Body> {
    let mut r = Response::builder()
        .status(200)
        .header("content-type", "application/json");
    if sse {
        r = r.header("x-sse-support", "enabled");
    }
    r.body(http_body_util::Full::new(Bytes::from(value.to_string())).boxed())
        .unwrap()
}

/// Version `n` of a small payload: `n` sets `flag`'s default, `extra` adds a feature.
fn payload(n: u64, extra: bool) -> Value {
    let mut p = json!({
        "features": {"flag": {"defaultValue": n}, "stable": {"defaultValue": true}},
        "dateUpdated": format!("2026-01-01T00:00:{n:02}.000Z"),
    });
    if extra {
        p["features"]["added-later"] = json!({"defaultValue": "x"});
    }
    p
}

/// `gb watch --api-host URL --client-key KEY extra...`, bounded to 30 s.
fn watch(url: &str, key: &str, extra: &[&str]) -> Run {
    let args = [
        &["watch", "--api-host", url, "--client-key", key][..],
        extra,
    ]
    .concat();
    gb_within(Duration::from_secs(30), &args)
}

fn no_sse() -> Response<Body> {
    status(404, "no streaming")
}

#[test]
fn fetch_prints_the_payload_and_saves_it() {
    let (_rt, url) = serve(|_| json_response(&payload(1, false), false), no_sse);
    let run = gb(&["fetch", "--api-host", &url, "--client-key", CLIENT_KEY]);
    let got: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(got, payload(1, false));

    // Saved with --output, the file works as `eval --payload`.
    let path = common::scratch("fetched.json", "");
    let run = gb(&[
        "fetch",
        "--api-host",
        &url,
        "--client-key",
        CLIENT_KEY,
        "-o",
        &path,
    ]);
    run.ok();
    assert!(run.stderr.contains("saved 2 features"), "{}", run.stderr);
    let run = gb(&["eval", "--payload", &path, "--json", "flag"]);
    let got: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(got["flag"]["value"], 1);
}

#[test]
fn fetch_decrypts_with_the_key_and_refuses_a_wrong_or_missing_one() {
    let encrypted: Value = serde_json::from_str(ENCRYPTED).unwrap();
    let (_rt, url) = serve(move |_| json_response(&encrypted, false), no_sse);
    let base = [
        "fetch",
        "--api-host",
        &url,
        "--client-key",
        CLIENT_KEY,
        "--compact",
    ];
    let run = gb(&[&base[..], &["--decryption-key", KEY]].concat());
    let got: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(got["features"]["feature"]["defaultValue"], true);
    assert!(got.get("encryptedFeatures").is_none());

    let run = gb(&[&base[..], &["--decryption-key", WRONG_KEY]].concat());
    run.fails(1, &["decryption failed", "check --decryption-key"]);
    assert!(!run.stderr.contains(WRONG_KEY));
    gb(&base).fails(1, &["no decryption key", "check --decryption-key"]);
}

#[test]
fn fetch_with_a_bad_client_key_or_host_fails_clearly() {
    let (_rt, url) = serve(|_| json_response(&payload(1, false), false), no_sse);
    let run = gb(&["fetch", "--api-host", &url, "--client-key", "sdk-wrong"]);
    run.fails(1, &["401", "check --client-key"]);
    assert!(!run.stderr.contains("sdk-wrong"), "{}", run.stderr);

    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    gb(&[
        "fetch",
        "--api-host",
        &host,
        "--client-key",
        CLIENT_KEY,
        "--timeout",
        "5",
    ])
    .fails(1, &["fetching from", "check --api-host"]);
    gb(&[
        "fetch",
        "--api-host",
        "not a url",
        "--client-key",
        CLIENT_KEY,
    ])
    .fails(1, &["--api-host"]);
}

#[test]
fn watch_by_polling_prints_the_first_payload_and_each_change() {
    // Requests 1-2 see version 1; from the 3rd on, version 2 with a feature added.
    let (_rt, url) = serve(
        |n| json_response(&payload(if n < 3 { 1 } else { 2 }, n >= 3), false),
        no_sse,
    );
    let args = [
        "--sse",
        "never",
        "--poll-interval",
        "0.1",
        "--max-updates",
        "1",
        "--timeout",
        "20",
    ];
    let run = watch(&url, CLIENT_KEY, &args);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].ends_with("initial payload: 2 features, dateUpdated 2026-01-01T00:00:01.000Z"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1]
            .ends_with("update 1: added added-later; changed flag (defaultValue); 3 features now"),
        "{}",
        lines[1]
    );
}

#[test]
fn watch_over_sse_prints_json_lines() {
    let (_rt, url) = serve(
        |_| json_response(&payload(1, false), true),
        || {
            // One `features` event, then a clean end of stream (the client would reconnect).
            let event = format!("event: features\ndata: {}\n\n", payload(2, true));
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(http_body_util::Full::new(Bytes::from(event)).boxed())
                .unwrap()
        },
    );
    let run = watch(
        &url,
        CLIENT_KEY,
        &["--max-updates", "1", "--timeout", "20", "--json"],
    );
    let lines = json_lines(run.ok());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["update"], 0);
    assert_eq!(lines[0]["features"], 2);
    assert_eq!(lines[1]["update"], 1);
    assert_eq!(lines[1]["added"], json!(["added-later"]));
    assert_eq!(lines[1]["changed"], json!({"flag": ["defaultValue"]}));
    assert_eq!(lines[1]["dateUpdated"], "2026-01-01T00:00:02.000Z");
}

#[test]
fn watch_with_a_bad_key_reports_the_error_and_stops_at_the_timeout() {
    let (_rt, url) = serve(|_| json_response(&payload(1, false), false), no_sse);
    let run = watch(&url, "sdk-wrong", &["--timeout", "1"]);
    run.fails(
        1,
        &["(retrying)", "no payload received", "check --client-key"],
    );
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
}

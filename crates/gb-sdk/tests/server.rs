//! The client against a real hyper server on 127.0.0.1: cold start during an outage, SSE
//! updates, bad responses, ETag polling, remote evaluation, the file cache, and shutdown.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::time::Instant;

use common::{Mode, builder, eventually, free_addr, payload, start, start_on};
use gb_sdk::serde_json::{self, Map, json};
use gb_sdk::{Error, GrowthBook, Reason, RefreshStrategy, Status};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

fn attrs(id: &str) -> Map<String, serde_json::Value> {
    json!({"id": id}).as_object().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_with_server_down_then_loads() {
    let addr = free_addr();
    let client = builder(&format!("http://{addr}"))
        .refresh(RefreshStrategy::Polling(MS(100)))
        .build()
        .unwrap();
    assert!(!client.ready(MS(300)).await, "nothing listens yet");
    let user = client.user(attrs("u1"));
    let started = Instant::now();
    let r = user.eval_feature("flag");
    assert!(
        started.elapsed() < MS(50),
        "evaluation never waits for the network"
    );
    assert_eq!(r.reason(), Reason::NotReady);
    assert_eq!(user.feature_value("flag", "default".to_string()), "default");
    assert!(user.is_off("flag"));
    assert_eq!(client.status(), Status::Error);
    assert!(client.last_error().is_some());

    // The server comes up: the retries (with backoff) load the features.
    let server = start_on(addr, payload("on")).await;
    assert!(client.ready(S(5)).await, "loads once the server is up");
    assert_eq!(user.feature_value("flag", String::new()), "on");
    assert_eq!(user.eval_feature("flag").reason(), Reason::Evaluated);
    assert_eq!(client.status(), Status::Ready);
    client.close();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_update_reaches_evaluations_in_flight_within_a_second() {
    let server = start(payload("v1")).await;
    let client = builder(&server.url())
        .refresh(RefreshStrategy::Streaming)
        .build()
        .unwrap();
    assert!(client.ready(S(5)).await);
    assert!(
        eventually(S(5), || server.state.subscribes.load(Ordering::SeqCst) > 0).await,
        "the stream opens"
    );
    // Two threads evaluate continuously (bounded in time) and note when they first see v2.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for i in 0..2 {
        let user = client.user(attrs(&format!("u{i}")));
        let stop = Arc::clone(&stop);
        workers.push(std::thread::spawn(move || {
            let deadline = Instant::now() + S(5);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if user.feature_value("flag", String::new()) == "v2" {
                    return Some(Instant::now());
                }
                std::thread::yield_now();
            }
            None
        }));
    }
    tokio::time::sleep(MS(50)).await;
    let sent = Instant::now();
    assert!(
        server.state.push_features(&payload("v2")) > 0,
        "a stream is listening"
    );
    let mut seen = Vec::new();
    for w in workers {
        seen.push(
            tokio::task::spawn_blocking(move || w.join().unwrap())
                .await
                .unwrap(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for at in seen {
        let at = at.expect("every evaluating thread sees the update");
        assert!(at.duration_since(sent) < S(1), "applied within 1 s");
    }
    assert_eq!(client.status(), Status::Ready);
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_responses_and_a_wrong_key_keep_the_last_good_flags() {
    let server = start(payload("good")).await;
    // The key does not decrypt the encrypted payload served later (the key was rotated).
    let client = builder(&server.url())
        .decryption_key("Zvwv/+uhpFDznZ6SX39Yjg==")
        .refresh(RefreshStrategy::Polling(MS(40)))
        .build()
        .unwrap();
    assert!(client.ready(S(5)).await);
    let user = client.user(attrs("u1"));
    let version = client.version();
    let encrypted = json!({"features": {}, "encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj"});
    let faults = [
        Mode::Status(500),
        Mode::Status(401),
        Mode::Html,
        Mode::Json(json!({})),
        Mode::Json(json!({"status": 500})),
        Mode::Json(encrypted),
    ];
    for fault in faults {
        let before = server.state.fetches();
        server.state.set_mode(fault.clone());
        // Wait for two fetches in this mode, so at least one was answered with the fault.
        assert!(eventually(S(5), || server.state.fetches() >= before + 2).await);
        assert_eq!(
            user.feature_value("flag", String::new()),
            "good",
            "{fault:?}"
        );
        assert_eq!(client.version(), version, "{fault:?}: no payload applied");
        assert_eq!(client.status(), Status::Stale, "{fault:?}");
        assert!(
            matches!(client.last_error(), Some(Error::Transport(_))),
            "{fault:?}"
        );
    }
    // The cause is the error's source, not part of its message.
    let last = client.last_error().unwrap();
    let source = core::error::Error::source(&last).map(ToString::to_string);
    let err = format!("{last}: {}", source.unwrap_or_default());
    assert!(err.contains("decrypt"), "{err}");
    assert!(!err.contains("Zvwv"), "the key never shows in errors");

    // Recovery.
    server.state.set_mode(Mode::Good);
    server.state.set_payload(payload("better"));
    assert!(
        eventually(S(5), || user.feature_value("flag", String::new())
            == "better")
        .await
    );
    assert!(eventually(S(2), || client.status() == Status::Ready).await);
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_revalidates_with_etag() {
    let server = start(payload("a")).await;
    let client = builder(&server.url())
        .refresh(RefreshStrategy::Polling(MS(30)))
        .build()
        .unwrap();
    assert!(client.ready(S(5)).await);
    let version = client.version();
    assert!(
        eventually(S(5), || server.state.not_modified.load(Ordering::SeqCst)
            >= 3)
        .await
    );
    assert_eq!(client.version(), version, "304s do not recompile");
    assert_eq!(client.status(), Status::Ready);
    server.state.set_payload(payload("b"));
    let user = client.user(attrs("u1"));
    assert!(eventually(S(2), || user.feature_value("flag", String::new()) == "b").await);
    assert_eq!(client.version(), version + 1);
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_while_revalidate_refetches_on_demand_only() {
    let server = start(payload("a")).await;
    let client = builder(&server.url()).cache_ttl(MS(100)).build().unwrap();
    assert!(client.ready(S(5)).await);
    server.state.set_payload(payload("b"));
    assert!(eventually(S(2), || client.status() == Status::Stale).await);
    tokio::time::sleep(MS(100)).await;
    assert_eq!(
        server.state.fetches(),
        1,
        "no fetch without an evaluation asking"
    );
    let user = client.user(attrs("u1"));
    let started = Instant::now();
    assert_eq!(
        user.feature_value("flag", String::new()),
        "a",
        "stale value served at once"
    );
    assert!(started.elapsed() < MS(50));
    assert!(eventually(S(2), || user.feature_value("flag", String::new()) == "b").await);
    assert_eq!(client.status(), Status::Ready);
    assert_eq!(
        server.state.fetches(),
        2,
        "one revalidation for many evaluations"
    );
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_evaluation_round_trip() {
    let server = start(payload("unused")).await;
    let client = builder(&server.url()).remote_eval(true).build().unwrap();
    let fresh = client.user(attrs("abc"));
    assert!(!fresh.is_ready());
    assert_eq!(fresh.eval_feature("greeting").reason(), Reason::NotReady);

    let forced = json!({"x": 1}).as_object().cloned().unwrap();
    let user = client
        .user(attrs("abc"))
        .with_url("https://example.com/page")
        .with_forced_features(forced)
        .prepare()
        .await
        .unwrap();
    assert!(user.is_ready());
    assert_eq!(user.feature_value("greeting", String::new()), "hello abc");
    assert_eq!(user.eval_feature("url").value(), "https://example.com/page");
    assert_eq!(server.state.evals.load(Ordering::SeqCst), 1);
    assert_eq!(
        server.state.fetches(),
        0,
        "remote evaluation never downloads the payload"
    );

    // With cache_key_attributes, users equal on them share one remote evaluation.
    let cached = builder(&server.url())
        .remote_eval(true)
        .cache_key_attributes(vec!["id".into()])
        .build()
        .unwrap();
    for _ in 0..3 {
        let u = cached.user(attrs("same")).prepare().await.unwrap();
        assert_eq!(u.feature_value("greeting", String::new()), "hello same");
    }
    assert_eq!(server.state.evals.load(Ordering::SeqCst), 2);

    // The JS SDK's option checks.
    let config_error = |b: gb_sdk::GrowthBookBuilder| matches!(b.build(), Err(Error::Config(_)));
    assert!(config_error(
        builder(&server.url()).remote_eval(true).decryption_key("k")
    ));
    assert!(config_error(
        GrowthBook::builder().client_key("sdk-x").remote_eval(true)
    ));
    assert!(config_error(
        GrowthBook::builder()
            .api_host("http://127.0.0.1:1")
            .remote_eval(true)
    ));
    assert!(config_error(
        builder(&server.url()).cache_key_attributes(vec!["id".into()])
    ));
    client.close();
    cached.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_cache_survives_a_restart_with_the_server_down() {
    let dir = std::env::temp_dir().join(format!("gb-sdk-file-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("features.json");
    let _ = std::fs::remove_file(&path);

    let server = start(payload("cached")).await;
    let url = server.url();
    let first = builder(&url).file_cache(&path).build().unwrap();
    assert!(first.ready(S(5)).await);
    assert!(
        eventually(S(5), || path.is_file()).await,
        "the cache file is written"
    );
    first.close();
    server.stop().await;

    // Restart during the outage, after the cached features have gone stale.
    tokio::time::sleep(MS(150)).await;
    let started = Instant::now();
    let second = builder(&url)
        .file_cache(&path)
        .cache_ttl(MS(100))
        .build()
        .unwrap();
    assert!(second.ready(S(2)).await, "the file has the flags");
    assert!(started.elapsed() < S(1));
    assert_eq!(second.feature_value("flag", String::new()), "cached");
    assert!(eventually(S(2), || second.status() == Status::Stale).await);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "features.json")
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    second.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_stops_every_task_within_a_second() {
    let server = start(payload("x")).await;
    let client = builder(&server.url())
        .refresh(RefreshStrategy::Streaming)
        .sticky_bucket_service(Arc::new(gb_sdk::sticky::InMemoryStickyBucketService::new()))
        .build()
        .unwrap();
    assert!(client.ready(S(5)).await);
    assert!(eventually(S(5), || server.state.subscribes.load(Ordering::SeqCst) > 0).await);
    let user = client.user(attrs("u1"));
    client.close();
    assert!(
        eventually(S(1), || client.tasks_finished()).await,
        "tasks end within 1 s"
    );
    assert!(client.is_closed());
    let fetches = server.state.fetches();
    tokio::time::sleep(MS(200)).await;
    assert_eq!(server.state.fetches(), fetches, "no request after close");
    // Evaluations keep working on the last features.
    assert_eq!(user.feature_value("flag", String::new()), "x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_clone_stops_the_tasks() {
    let server = start(payload("x")).await;
    let client = builder(&server.url())
        .refresh(RefreshStrategy::Polling(MS(20)))
        .build()
        .unwrap();
    assert!(client.ready(S(5)).await);
    let user = client.user(attrs("u1"));
    let other = client.clone();
    drop(client);
    assert!(
        eventually(S(1), || server.state.fetches() >= 3).await,
        "a clone keeps it running"
    );
    drop(other);
    tokio::time::sleep(MS(100)).await;
    let fetches = server.state.fetches();
    tokio::time::sleep(MS(200)).await;
    assert_eq!(
        server.state.fetches(),
        fetches,
        "no request after the last clone is dropped"
    );
    assert_eq!(user.feature_value("flag", String::new()), "x");
}

#[test]
fn blocking_client_without_a_runtime() {
    // The server needs a runtime of its own; the client does not.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(start(payload("sync")));
    let client = builder(&server.url()).build_blocking().unwrap();
    assert!(client.ready_blocking(S(5)));
    assert_eq!(client.feature_value("flag", String::new()), "sync");
    assert!(matches!(
        builder(&server.url()).build(),
        Err(Error::NoRuntime)
    ));
    client.close();
    drop(server);
}

//! Errors say one thing per level: each `Display` describes only its own level and the cause
//! is `source()`. Printing a chain with its sources (as `anyhow` or a logger does) must not
//! repeat any text.
#![allow(clippy::unwrap_used, reason = "test")]

use core::error::Error as StdError;
use core::time::Duration;
use std::time::Instant;

use gb_sdk::cache::{FeatureCache, FileFeatureCache};
use gb_sdk::sticky::{StickyError, StickyErrorKind};
use gb_sdk::{Error, GrowthBook};

/// Every level of `err`, outermost first.
fn levels(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(err);
    // Bounded: a chain longer than 32 is a bug in itself.
    while let Some(e) = next.filter(|_| out.len() < 32) {
        out.push(e.to_string());
        next = e.source();
    }
    out
}

/// Prints the chain and asserts no level's text contains another's.
fn assert_no_repeats(what: &str, err: &(dyn StdError + 'static)) -> Vec<String> {
    let levels = levels(err);
    println!("{what}:");
    for (i, l) in levels.iter().enumerate() {
        println!("  {i}: {l}");
    }
    assert!(levels.len() >= 2, "{what}: expected a cause: {levels:?}");
    for (i, a) in levels.iter().enumerate() {
        assert!(!a.trim().is_empty(), "{what}: level {i} is empty");
        for (j, b) in levels.iter().enumerate() {
            if i != j {
                assert!(
                    !a.contains(b.as_str()),
                    "{what}: level {i} ({a:?}) repeats level {j} ({b:?})"
                );
            }
        }
    }
    levels
}

/// A fetch from a closed port: gb-sdk's `Error::Transport` → `TransportError` (connect) → the
/// I/O error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_prints_each_level_once() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = GrowthBook::builder()
        .api_host(format!("http://127.0.0.1:{port}"))
        .client_key("sdk-chain")
        .build()
        .unwrap();
    let start = Instant::now();
    let err = loop {
        if let Some(e) = client.last_error() {
            break e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no error recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let levels = assert_no_repeats("failed fetch", &err);
    assert!(levels.len() >= 3, "{levels:?}");
    client.close();
}

/// A file cache whose path is a directory: `CacheError` keeps the `io::Error` as its source.
#[tokio::test]
async fn a_cache_error_keeps_its_io_error_as_source() {
    let dir = std::env::temp_dir().join(format!("gb-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cache = FileFeatureCache::new(&dir);
    let err = cache.get("k").await.expect_err("a directory is not a file");
    let levels = assert_no_repeats("cache", &err);
    assert!(
        err.source()
            .unwrap()
            .downcast_ref::<std::io::Error>()
            .is_some(),
        "{levels:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A sticky-store error wrapping its backend's error.
#[test]
fn a_sticky_error_prints_each_level_once() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
    let err = StickyError::with_source(StickyErrorKind::Backend, "loading documents", io);
    assert_no_repeats("sticky", &err);
}

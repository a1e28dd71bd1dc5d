//! Hostile inputs through the facade (issue 17), at ten times the size: the tracking
//! queue is bounded in bytes (users with huge attributes, a hung ingestor), and one `is_on` on
//! a DAG of prerequisites reports each feature once. Memory is measured with a counting global
//! allocator (peak live bytes).
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;
mod peak;

use common::ingestor;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Mutex;
use std::time::Instant;

use peak::{LIVE, PEAK};

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::{GrowthBook, GrowthBookTrackingPlugin, Plugin};

/// One test at a time: the peak is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// Attributes of about `bytes` bytes of JSON.
fn big_attributes(id: usize, bytes: usize) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::from(format!("user-{id}")));
    for i in 0..bytes / 64 {
        m.insert(format!("a{i:05}"), Value::from("x".repeat(52)));
    }
    m
}

/// 2,000 events from users with `attribute_bytes` of attributes each, at an ingestor that
/// never answers; returns (stats, heap peak in bytes).
async fn flood(attribute_bytes: usize) -> (gb_sdk::TrackingStats, usize) {
    let ingest = ingestor::start(ingestor::HANG).await;
    let plugin = GrowthBookTrackingPlugin::builder("sdk-test")
        .ingestor_host(ingest.url())
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let client = GrowthBook::builder()
        .payload(json!({"features": {}}))
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let users: Vec<_> = (0..20)
        .map(|i| client.user(big_attributes(i, attribute_bytes)))
        .collect();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    for i in 0..2_000 {
        let mut p = Map::new();
        p.insert("i".into(), Value::from(i));
        users[i % users.len()].log_event("Flood", p);
    }
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let stats = plugin.stats();
    println!(
        "{attribute_bytes} B attributes: {stats:?}, heap peak {} MB",
        peak >> 20
    );
    plugin.close_async(Duration::from_millis(300)).await;
    (stats, peak)
}

/// Runs `f` on its own runtime (the tests hold a plain lock, never across an await).
fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_tracking_queue_is_bounded_in_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The 64 KiB per user: without a bound in bytes, 10,000 queued events hold over
    // 640 MB. With it the queue stops at 8 MiB of events.
    let (stats, peak) = block_on(flood(64 << 10));
    assert_eq!(stats.accepted + stats.dropped, 2_000, "{stats:?}");
    assert!(stats.accepted <= (8 << 20) / (64 << 10) + 1, "{stats:?}");
    assert!(peak < 200 << 20, "heap grew by {peak} bytes");
}

#[test]
fn oversized_events_are_dropped_and_counted() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Ten times the 64 KiB per user: over the 256 KiB limit per event.
    let (stats, peak) = block_on(flood(640 << 10));
    assert_eq!(stats.oversized, 2_000, "{stats:?}");
    assert_eq!(stats.accepted, 0, "{stats:?}");
    assert!(peak < 200 << 20, "heap grew by {peak} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_attributes_are_dropped_without_overflowing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let plugin = GrowthBookTrackingPlugin::builder("sdk-test")
        .ingestor_host("http://127.0.0.1:9")
        .build()
        .unwrap();
    let client = GrowthBook::builder()
        .payload(json!({"features": {}}))
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    // Deeper than events may nest (128), shallow enough to drop (dropping recurses).
    let mut deep = json!(1);
    for _ in 0..1_000 {
        deep = Value::Array(vec![deep]);
    }
    let mut attributes = Map::new();
    attributes.insert("id".into(), "u1".into());
    attributes.insert("deep".into(), deep);
    let user = client.user(attributes);
    user.log_event("Deep", Map::new());
    assert_eq!(plugin.stats().oversized, 1);
}

#[test]
fn one_is_on_reports_each_prerequisite_once() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Each feature gated twice on the next, as deep as prerequisite chains may go: the issue saw
    // 2,097,151 callback calls and 463 MB for one `is_on` at depth 20.
    let depth = 64;
    let mut features = Map::new();
    for i in 0..depth {
        let next = format!("f{}", i + 1);
        let def = if i + 1 == depth {
            json!({"defaultValue": true})
        } else {
            json!({"defaultValue": false, "rules": [{"force": true, "parentConditions": [
                {"id": next, "condition": {"value": true}},
                {"id": next, "condition": {"value": true}}
            ]}]})
        };
        features.insert(format!("f{i}"), def);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let client = GrowthBook::builder()
        .payload(json!({ "features": features }))
        .on_feature_usage(move |_, _, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build_blocking()
        .unwrap();
    let user = client.user(json!({"id": "u1"}).as_object().unwrap().clone());
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    assert!(user.is_on("f0"));
    let took = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!(
        "is_on: {took:?}, {} callbacks, heap peak {peak} B",
        calls.load(Ordering::Relaxed)
    );
    assert_eq!(calls.load(Ordering::Relaxed), depth);
    assert!(took < Duration::from_millis(250), "{took:?}");
    assert!(peak < 200 << 20, "heap grew by {peak} bytes");
}

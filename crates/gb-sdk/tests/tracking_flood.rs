//! A flood of 1,000,000 events at a hung ingestor: the heap stays bounded (measured with a
//! counting global allocator), every event is counted (accepted then failed, or dropped), and
//! `close()` returns within its timeout.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;
mod peak;

use common::ingestor;

use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::time::Instant;

use peak::{LIVE, PEAK};

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::{GrowthBook, GrowthBookTrackingPlugin, Plugin};

const EVENTS: usize = 1_000_000;
const QUEUE: usize = 10_000;
const BATCH: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_events_keep_memory_bounded_and_are_all_counted() {
    let ingest = ingestor::start(ingestor::HANG).await;
    let plugin = GrowthBookTrackingPlugin::builder("sdk-test")
        .ingestor_host(ingest.url())
        .queue_capacity(QUEUE)
        .batch_size(BATCH)
        .flush_interval(Duration::from_millis(20))
        .request_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap();
    let client = GrowthBook::builder()
        .payload(json!({"features": {}}))
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let attributes: Map<String, Value> = json!({"id": "flood", "plan": "pro", "country": "NZ"})
        .as_object()
        .cloned()
        .unwrap();

    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let producers: Vec<_> = (0..2)
        .map(|t| {
            let client = client.clone();
            let attributes = attributes.clone();
            std::thread::spawn(move || {
                let user = client.user(attributes);
                let mut slowest = Duration::ZERO;
                for i in 0..EVENTS / 2 {
                    let mut properties = Map::new();
                    properties.insert("i".into(), Value::from(i * 2 + t));
                    let s = Instant::now();
                    user.log_event("Flood", properties);
                    slowest = slowest.max(s.elapsed());
                }
                slowest
            })
        })
        .collect();
    let slowest = producers
        .into_iter()
        .map(|p| p.join().unwrap())
        .max()
        .unwrap();
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let stats = plugin.stats();
    println!(
        "{EVENTS} events in {elapsed:?} (slowest log_event {slowest:?}); heap peak +{} KiB; {stats:?}",
        peak / 1024
    );
    assert_eq!(stats.accepted + stats.dropped, EVENTS as u64, "{stats:?}");
    // Only the queue (and the batches taken from it) were ever accepted.
    assert!(stats.accepted <= (QUEUE + 20 * BATCH) as u64, "{stats:?}");
    assert!(
        stats.dropped >= (EVENTS - QUEUE - 20 * BATCH) as u64,
        "{stats:?}"
    );
    assert!(stats.pending() <= (QUEUE + BATCH) as u64, "{stats:?}");
    // About 10 000 queued events of a few hundred bytes each: far below 32 MiB, whatever the
    // length of the flood.
    assert!(peak < 32 << 20, "heap grew by {peak} bytes");
    assert!(slowest < Duration::from_millis(250), "{slowest:?}");

    let start = Instant::now();
    // Closing fails the ~10 000 queued events against the dead ingestor; the timeout is generous
    // so a loaded CI machine passes, and closing must still end well inside it.
    assert!(plugin.close_async(Duration::from_secs(5)).await);
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    let stats = plugin.stats();
    assert_eq!(stats.sent, 0);
    assert_eq!(stats.failed, stats.accepted, "{stats:?}");
    drop(client);
    drop(plugin);
    let after = LIVE.load(Ordering::Relaxed).saturating_sub(base);
    println!("heap after close: +{} KiB", after / 1024);
    assert!(after < 4 << 20, "{after} bytes still held after close");
}

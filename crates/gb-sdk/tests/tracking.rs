//! The tracking plugin against a real hyper ingestor on 127.0.0.1: the wire format and event
//! shapes, batching (size, interval, close), deduplication, retry, the event-kind switches, a
//! custom sink, and evaluations that never wait for a slow, hung or absent ingestor.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use common::{attrs, ingestor};

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Mutex;
use std::time::Instant;

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::transport::BoxFuture;
use gb_sdk::{
    EVENT_EXPERIMENT_VIEWED, EVENT_FEATURE_EVALUATED, EventSink, GrowthBook,
    GrowthBookTrackingPlugin, TrackingPluginBuilder, TransportError,
};

fn payload() -> Value {
    common::experiment_payload_with(json!({
        "forced": {"defaultValue": false, "rules": [{"id": "fr_1", "force": true}]}
    }))
}

fn plugin_for(url: &str) -> TrackingPluginBuilder {
    GrowthBookTrackingPlugin::builder("sdk-test")
        .ingestor_host(url)
        .retry_backoff(Duration::from_millis(20))
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(300))
}

fn client_with(plugin: &Arc<GrowthBookTrackingPlugin>) -> GrowthBook {
    GrowthBook::builder()
        .payload(payload())
        .plugin(Arc::clone(plugin) as Arc<dyn gb_sdk::Plugin>)
        .build()
        .unwrap()
}

fn by_name<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_name"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_batched_in_the_js_wire_format() {
    let ingest = ingestor::start(ingestor::OK).await;
    let plugin = plugin_for(&ingest.url())
        .batch_size(3)
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client = client_with(&plugin);
    let user = client
        .user(attrs(
            json!({"id": "u1", "user_id": "acct-9", "utmSource": "news", "plan": "pro"}),
        ))
        .with_url("https://shop.example/cart?x=1");
    // Experiment Viewed + Feature Evaluated (exp), then a custom event: one batch of 3.
    let variation = user.feature_value("exp", String::new());
    user.log_event("Checkout", attrs(json!({"amount": 12.5})));
    assert!(
        common::eventually(Duration::from_secs(5), || ingest.state.batches() == 1).await,
        "{:?}",
        plugin.stats()
    );
    let received = ingest.state.received.lock().unwrap()[0].clone();
    assert_eq!(received.method, "POST");
    assert_eq!(received.path, "/track");
    assert_eq!(received.query, "client_key=sdk-test");
    assert_eq!(received.content_type, "text/plain");
    let events = received.body.as_array().unwrap().clone();
    assert_eq!(events.len(), 3, "{events:#?}");

    let viewed = by_name(&events, EVENT_EXPERIMENT_VIEWED)[0];
    let vid = if variation == "control" { "0" } else { "1" };
    assert_eq!(
        viewed["properties_json"],
        json!({"experimentId": "exp-1", "variationId": vid, "hashAttribute": "id", "hashValue": "u1"})
    );
    assert_eq!(viewed["user_id"], "acct-9");
    assert_eq!(viewed["device_id"], "u1");
    assert_eq!(viewed["page_id"], Value::Null);
    assert_eq!(viewed["session_id"], Value::Null);
    assert_eq!(viewed["utm_source"], "news");
    assert!(viewed.get("utm_medium").is_none());
    assert_eq!(viewed["sdk_language"], "rust");
    assert!(viewed["sdk_version"].is_string());
    assert_eq!(viewed["url"], "https://shop.example/cart?x=1");
    // Promoted attributes leave the context.
    assert_eq!(viewed["context_json"], json!({"plan": "pro"}));

    let evaluated = by_name(&events, EVENT_FEATURE_EVALUATED)[0];
    assert_eq!(
        evaluated["properties_json"],
        json!({"feature": "exp", "source": "experiment", "value": variation, "ruleId": "", "variationId": vid})
    );
    let custom = by_name(&events, "Checkout")[0];
    assert_eq!(custom["properties_json"], json!({"amount": 12.5}));

    // `ruleId` is "$default" for default values and the rule id for forces.
    user.is_on("plain");
    user.is_on("forced");
    assert!(plugin.flush(Duration::from_secs(5)));
    let events = ingest.state.events();
    let fe: Vec<&Value> = by_name(&events, EVENT_FEATURE_EVALUATED);
    let rule_of = |f: &str| {
        fe.iter()
            .find(|e| e["properties_json"]["feature"] == f)
            .map(|e| e["properties_json"]["ruleId"].clone())
    };
    assert_eq!(rule_of("plain"), Some(json!("$default")));
    assert_eq!(rule_of("forced"), Some(json!("fr_1")));
    let stats = plugin.stats();
    assert_eq!(
        (stats.sent, stats.failed, stats.dropped),
        (5, 0, 0),
        "{stats:?}"
    );
    assert!(plugin.close_async(Duration::from_secs(2)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushes_on_interval_and_on_close() {
    let ingest = ingestor::start(ingestor::OK).await;
    let plugin = plugin_for(&ingest.url())
        .batch_size(1000)
        .flush_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let client = client_with(&plugin);
    let start = Instant::now();
    client
        .user(attrs(json!({"id": "a"})))
        .log_event("one", Map::new());
    assert!(common::eventually(Duration::from_secs(5), || ingest.state.events().len() == 1).await);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(90), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");

    // A long interval: only close sends these, and close waits for them.
    let ingest2 = ingestor::start(ingestor::OK).await;
    let plugin2 = plugin_for(&ingest2.url())
        .batch_size(1000)
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client2 = client_with(&plugin2);
    for i in 0..250 {
        client2
            .user(attrs(json!({"id": i})))
            .log_event("e", Map::new());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ingest2.state.batches(), 0);
    let start = Instant::now();
    assert!(plugin2.close_async(Duration::from_secs(2)).await);
    println!("close flushed 250 events in {:?}", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(ingest2.state.events().len(), 250);
    // Batches never exceed the batch size.
    assert!(ingest2.state.batches() == 1);
    // Closed: later events are dropped and counted, never queued.
    client2
        .user(attrs(json!({"id": "late"})))
        .log_event("e", Map::new());
    assert_eq!(plugin2.stats().dropped, 1);
    assert!(plugin2.is_finished());
    // The blocking close is idempotent.
    assert!(plugin2.close(Duration::from_millis(10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_starts_the_final_flush() {
    let ingest = ingestor::start(ingestor::OK).await;
    let plugin = plugin_for(&ingest.url())
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client = client_with(&plugin);
    client
        .user(attrs(json!({"id": "a"})))
        .log_event("bye", Map::new());
    client.close();
    assert!(common::eventually(Duration::from_secs(3), || plugin.is_finished()).await);
    assert_eq!(ingest.state.events().len(), 1);
}

/// One call on exit: `client.shutdown` posts the tracking plugin's queued events and waits for
/// them (no `plugin.close` needed), then closes the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_shutdown_flushes_the_tracking_plugin() {
    let ingest = ingestor::start(ingestor::OK).await;
    let plugin = plugin_for(&ingest.url())
        .batch_size(1000)
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client = client_with(&plugin);
    for i in 0..50 {
        client
            .user(attrs(json!({"id": i})))
            .log_event("e", Map::new());
    }
    assert_eq!(ingest.state.batches(), 0);
    let start = Instant::now();
    client.shutdown(Duration::from_secs(3)).await;
    // Delivered by the time shutdown returns: no polling.
    assert_eq!(ingest.state.events().len(), 50, "{:?}", plugin.stats());
    assert!(plugin.is_finished());
    assert!(client.is_closed());
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_events_are_deduplicated_in_a_bounded_lru() {
    let ingest = ingestor::start(ingestor::OK).await;
    let plugin = plugin_for(&ingest.url())
        .dedup_capacity(32)
        .build()
        .unwrap();
    let client = client_with(&plugin);
    let u1 = client.user(attrs(json!({"id": "u1"})));
    for _ in 0..100 {
        u1.is_on("plain");
    }
    // Another user: not a duplicate ("Feature Evaluated" is keyed on all attributes).
    client.user(attrs(json!({"id": "u2"}))).is_on("plain");
    // Custom events are never deduplicated.
    u1.log_event("click", Map::new());
    u1.log_event("click", Map::new());
    assert!(plugin.flush(Duration::from_secs(5)));
    let events = ingest.state.events();
    assert_eq!(by_name(&events, EVENT_FEATURE_EVALUATED).len(), 2);
    assert_eq!(by_name(&events, "click").len(), 2);
    assert_eq!(plugin.stats().deduplicated, 99);
    // Many distinct users: the LRU stays within its capacity.
    for i in 0..5000 {
        client.user(attrs(json!({"id": i}))).is_on("plain");
    }
    assert!(plugin.dedup_len() <= 32, "{}", plugin.dedup_len());
    // The most recent entry is still remembered.
    client.user(attrs(json!({"id": 4999}))).is_on("plain");
    assert_eq!(plugin.stats().deduplicated, 100);
    assert!(plugin.close_async(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_kinds_can_be_turned_off() {
    let ingest = ingestor::start(ingestor::OK).await;
    let only_custom = plugin_for(&ingest.url())
        .track_experiment_viewed(false)
        .track_feature_evaluated(false)
        .build()
        .unwrap();
    let client = client_with(&only_custom);
    let user = client.user(attrs(json!({"id": "u1"})));
    user.is_on("exp");
    user.log_event("custom", Map::new());
    assert!(only_custom.close_async(Duration::from_secs(5)).await);
    let events = ingest.state.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event_name"], "custom");

    let ingest = ingestor::start(ingestor::OK).await;
    let only_viewed = plugin_for(&ingest.url())
        .track_feature_evaluated(false)
        .track_custom_events(false)
        .build()
        .unwrap();
    let client = client_with(&only_viewed);
    let user = client.user(attrs(json!({"id": "u1"})));
    user.is_on("exp");
    user.is_on("plain");
    user.log_event("custom", Map::new());
    assert!(only_viewed.close_async(Duration::from_secs(5)).await);
    let events = ingest.state.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event_name"], EVENT_EXPERIMENT_VIEWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_and_additional_callback() {
    let ingest = ingestor::start(ingestor::OK).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let plugin = plugin_for(&ingest.url())
        .event_filter(|e| e.name != "secret")
        .additional_callback(move |e| {
            assert_ne!(e.name, "secret");
            s.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let client = client_with(&plugin);
    client.log_event("public", Map::new());
    client.log_event("secret", Map::new());
    assert!(plugin.close_async(Duration::from_secs(5)).await);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.stats().filtered, 1);
    assert_eq!(ingest.state.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_is_retried_once() {
    let ingest = ingestor::start(ingestor::OK).await;
    ingest.state.fail_first.store(1, Ordering::SeqCst);
    let plugin = plugin_for(&ingest.url()).build().unwrap();
    let client = client_with(&plugin);
    client.log_event("first", Map::new());
    assert!(plugin.flush(Duration::from_secs(5)));
    let stats = plugin.stats();
    assert_eq!(
        (stats.sent, stats.retries, stats.failed),
        (1, 1, 0),
        "{stats:?}"
    );
    assert_eq!(ingest.state.requests.load(Ordering::SeqCst), 2);

    // Failing twice: the batch is counted as failed, and nothing is retried forever.
    ingest.state.mode.store(ingestor::FAIL, Ordering::SeqCst);
    client.log_event("second", Map::new());
    client.log_event("third", Map::new());
    assert!(plugin.flush(Duration::from_secs(5)));
    let stats = plugin.stats();
    assert_eq!(
        (stats.sent, stats.retries, stats.failed),
        (1, 2, 2),
        "{stats:?}"
    );
    assert_eq!(ingest.state.requests.load(Ordering::SeqCst), 4);
    assert!(plugin.close_async(Duration::from_secs(5)).await);
}

/// A sink of our own: records the batches.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Vec<Value>>>);

impl EventSink for Recorder {
    fn send<'a>(&'a self, events: &'a [Value]) -> BoxFuture<'a, Result<(), TransportError>> {
        self.0.lock().unwrap().push(events.to_vec());
        Box::pin(async { Ok(()) })
    }
}

#[test]
fn a_custom_sink_without_any_runtime() {
    let sink = Arc::new(Recorder::default());
    let plugin = GrowthBookTrackingPlugin::builder("")
        .sink(Arc::clone(&sink) as Arc<dyn EventSink>)
        .batch_size(2)
        .build()
        .unwrap();
    let client = client_with(&plugin);
    for i in 0..5 {
        client
            .user(attrs(json!({"id": i})))
            .log_event("e", Map::new());
    }
    assert!(plugin.close(Duration::from_secs(5)));
    let batches = sink.0.lock().unwrap();
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 5);
    assert!(sizes.iter().all(|&n| n <= 2), "{sizes:?}");
    // No client key and no sink is a configuration error.
    assert!(GrowthBookTrackingPlugin::builder("").build().is_err());
}

/// Without any runtime, `shutdown_blocking` is the one call on exit: the queued events reach
/// the sink before it returns.
#[test]
fn shutdown_blocking_flushes_the_plugin_without_a_runtime() {
    let sink = Arc::new(Recorder::default());
    let plugin = GrowthBookTrackingPlugin::builder("")
        .sink(Arc::clone(&sink) as Arc<dyn EventSink>)
        .batch_size(1000)
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client = client_with(&plugin);
    for i in 0..7 {
        client
            .user(attrs(json!({"id": i})))
            .log_event("e", Map::new());
    }
    assert!(sink.0.lock().unwrap().is_empty());
    client.shutdown_blocking(Duration::from_secs(5)).unwrap();
    let sent: usize = sink.0.lock().unwrap().iter().map(Vec::len).sum();
    assert_eq!(sent, 7, "{:?}", plugin.stats());
    assert!(plugin.is_finished() && client.is_closed());
}

/// Evaluations (each producing an event: distinct users) per second, and the slowest one.
fn evaluate(client: &GrowthBook, n: usize, tag: &str) -> (Duration, Duration) {
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..n {
        let t = Instant::now();
        let user = client.user(attrs(json!({"id": format!("{tag}-{i}")})));
        assert!(!user.feature_value("exp", String::new()).is_empty());
        slowest = slowest.max(t.elapsed());
    }
    (start.elapsed(), slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_or_absent_ingestor_never_slows_evaluations() {
    const N: usize = 20_000;
    const QUEUE: usize = 1000;
    const BATCH: usize = 100;
    let baseline = GrowthBook::builder().payload(payload()).build().unwrap();
    let (none_time, none_max) = evaluate(&baseline, N, "none");

    let healthy = ingestor::start(ingestor::OK).await;
    let hung = ingestor::start(ingestor::HANG).await;
    let down = common::free_addr();
    let mut results = Vec::new();
    for (label, url) in [
        ("healthy", healthy.url()),
        ("hung", hung.url()),
        ("down", format!("http://{down}")),
    ] {
        let plugin = plugin_for(&url)
            .queue_capacity(QUEUE)
            .batch_size(BATCH)
            .flush_interval(Duration::from_millis(50))
            .request_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let client = client_with(&plugin);
        let (time, max) = evaluate(&client, N, label);
        let during = plugin.stats();
        // Bounded: never more held than the queue plus the batch being posted.
        assert!(
            during.pending() <= (QUEUE + BATCH) as u64,
            "{label}: {during:?}"
        );
        let start = Instant::now();
        let closed = plugin.close_async(Duration::from_secs(3)).await;
        let close_time = start.elapsed();
        let s = plugin.stats();
        println!(
            "{label:>8}: {N} evaluations in {time:?} (slowest {max:?}); close {closed} in {close_time:?}; {s:?}"
        );
        assert!(closed, "{label}");
        assert!(
            close_time < Duration::from_secs(4),
            "{label}: {close_time:?}"
        );
        // Every event (2 per evaluation) is accounted for: sent, failed, or dropped.
        assert_eq!(s.accepted + s.dropped, 2 * N as u64, "{label}: {s:?}");
        assert_eq!(s.sent + s.failed, s.accepted, "{label}: {s:?}");
        results.push((label, time, max, s));
    }
    println!("no plugin: {N} evaluations in {none_time:?} (slowest {none_max:?})");
    let healthy_time = results[0].1;
    assert_eq!(results[0].3.failed, 0, "{:?}", results[0].3);
    for (label, time, max, s) in &results[1..] {
        // Generous: a hung or absent ingestor costs evaluations nothing measurable.
        assert!(
            *time < healthy_time * 3 + Duration::from_millis(500),
            "{label}: {time:?} vs healthy {healthy_time:?}"
        );
        // No evaluation waited on the ingestor: one that did would take at least the 500 ms
        // request timeout. (A fixed 250 ms failed once at load average 13 from scheduling
        // alone, with no network wait.)
        assert!(
            *max < Duration::from_millis(450),
            "{label}: slowest {max:?}"
        );
        // Nothing was delivered, and every loss is counted (checked above).
        assert_eq!(s.sent, 0, "{label}: {s:?}");
    }
    // A hung ingestor: each batch takes two request timeouts (+ backoff) to fail, so the
    // events accepted and then lost are the queue plus one batch per second, plus the one in
    // flight; everything else was dropped at the door (counted, never buffered).
    let (_, time, _, s) = &results[1];
    let bound = (QUEUE + BATCH * (2 + time.as_secs() as usize)) as u64;
    assert!(s.failed <= bound, "hung: {s:?}, bound {bound}");
}

//! Callbacks and plugins: tracking fires only for hashed assignments, once per user (bounded),
//! panics are contained, callbacks may evaluate (no lock held), and sticky bucketing.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use gb_sdk::serde_json::json;
use gb_sdk::sticky::{InMemoryStickyBucketService, StickyBucketService};
use gb_sdk::{
    Experiment, ExperimentResult, FeatureResult, GrowthBook, Plugin, Reason, UserContext,
};

use common::{attrs, experiment_payload};

#[test]
fn tracking_fires_once_per_user_and_only_when_hashed() {
    let calls: Arc<Mutex<Vec<(String, String, usize)>>> = Arc::default();
    let log = Arc::clone(&calls);
    let client = GrowthBook::builder()
        .payload(experiment_payload())
        .on_experiment_viewed(move |exp, result, user| {
            let id = user.attributes()["id"].as_str().unwrap().to_owned();
            log.lock()
                .unwrap()
                .push((exp.key().into(), id, result.variation_id));
        })
        .build()
        .unwrap();
    let u1 = client.user(attrs(json!({"id": "u1"})));
    for _ in 0..5 {
        u1.eval_feature("exp");
        u1.is_on("exp");
    }
    // Another context for the same user is deduplicated too (the key is the user's hash value).
    client.user(attrs(json!({"id": "u1"}))).is_on("exp");
    client.user(attrs(json!({"id": "u2"}))).is_on("exp");
    // Forced assignments are not tracked.
    let forced = attrs(json!({"exp-1": 1}));
    let u3 = client
        .user(attrs(json!({"id": "u3"})))
        .with_forced_variations(forced);
    assert_eq!(u3.feature_value("exp", String::new()), "treatment");
    // Features without experiments are not tracked.
    u1.is_on("plain");
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].0, "exp-1");
    assert_eq!(calls[0].1, "u1");
    assert_eq!(calls[1].1, "u2");
}

#[test]
fn dedup_memory_is_bounded() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    let client = GrowthBook::builder()
        .payload(experiment_payload())
        .dedup_capacity(160)
        .on_experiment_viewed(move |_, _, _| {
            c.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    for i in 0..5000 {
        client
            .user(attrs(json!({"id": format!("user-{i}")})))
            .is_on("exp");
    }
    assert_eq!(count.load(Ordering::Relaxed), 5000);
    assert!(client.tracked_keys() <= 160, "{}", client.tracked_keys());
}

#[test]
fn panicking_callbacks_are_contained_and_callbacks_may_evaluate() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let usage = Arc::new(AtomicUsize::new(0));
    let u = Arc::clone(&usage);
    let client = GrowthBook::builder()
        .payload(experiment_payload())
        .on_experiment_viewed(move |_, _, user: &UserContext| {
            c.fetch_add(1, Ordering::SeqCst);
            // Re-entrant evaluation: no lock is held while a callback runs.
            assert_eq!(user.feature_value("plain", 0), 7);
            panic!("tracking backend down");
        })
        .on_feature_usage(move |key, result: &FeatureResult, _| {
            u.fetch_add(1, Ordering::SeqCst);
            if key == "plain" {
                assert_eq!(result.value(), 7);
                panic!("usage backend down");
            }
        })
        .build()
        .unwrap();
    for i in 0..3 {
        let user = client.user(attrs(json!({"id": format!("p{i}")})));
        let v = user.feature_value("exp", String::new());
        assert!(v == "control" || v == "treatment");
        assert_eq!(user.feature_value("plain", 0), 7);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "still called after panics");
    // exp + plain (in the callback) + plain per user.
    assert_eq!(usage.load(Ordering::SeqCst), 9);
}

#[derive(Debug, Default)]
struct Counting {
    viewed: AtomicUsize,
    used: AtomicUsize,
    inits: AtomicUsize,
    updates: AtomicUsize,
    closes: AtomicUsize,
}

impl Plugin for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    fn on_init(&self, _: &GrowthBook) {
        self.inits.fetch_add(1, Ordering::SeqCst);
    }
    fn on_features_updated(&self, _: u64) {
        self.updates.fetch_add(1, Ordering::SeqCst);
    }
    fn on_experiment_viewed(&self, _: &Experiment, _: &ExperimentResult, _: &UserContext) {
        self.viewed.fetch_add(1, Ordering::SeqCst);
    }
    fn on_feature_usage(&self, _: &str, _: &FeatureResult, _: &UserContext) {
        self.used.fetch_add(1, Ordering::SeqCst);
    }
    fn on_close(&self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn plugins_see_the_client_life_and_events() {
    let plugin = Arc::new(Counting::default());
    let client = GrowthBook::builder()
        .payload(experiment_payload())
        .plugin(plugin.clone())
        .build()
        .unwrap();
    client.user(attrs(json!({"id": "a"}))).is_on("exp");
    client.set_payload(&experiment_payload()).unwrap();
    client.close();
    client.close();
    assert_eq!(plugin.inits.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.viewed.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.used.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.updates.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn per_request_style_and_inline_experiments() {
    // The Python `GrowthBook(attributes=..., features=...)` style: one object, default attributes.
    let gb = GrowthBook::builder()
        .payload_json(r#"{"features": {"beta": {"defaultValue": false, "rules": [{"condition": {"plan": "pro"}, "force": true}]}}}"#)
        .attributes(attrs(json!({"id": "1", "plan": "pro"})))
        .build()
        .unwrap();
    assert!(gb.is_on("beta"));
    assert!(!gb.is_off("beta"));
    assert_eq!(gb.eval_feature("beta").reason(), Reason::Evaluated);
    // Default attributes are merged under a user's own.
    assert!(!gb.user(attrs(json!({"plan": "free"}))).is_on("beta"));
    let exp = Experiment::from_json(&json!({"key": "inline", "variations": [1, 2]}));
    let r = gb.run(&exp);
    assert!(r.in_experiment && r.hash_used);
    assert_eq!(
        r.value_as::<i64>(),
        Some(if r.variation_id == 0 { 1 } else { 2 })
    );
    // Bad local payloads are refused at build time.
    assert!(
        GrowthBook::builder()
            .payload_json("not json")
            .build()
            .is_err()
    );
    assert!(
        GrowthBook::builder()
            .payload_bytes(b"[1]".to_vec())
            .build()
            .is_err()
    );
    // set_payload refuses a body without features and keeps the current ones.
    assert!(gb.set_payload(&json!({"status": 500})).is_err());
    assert!(gb.is_on("beta"));
}

#[tokio::test]
async fn sticky_assignments_survive_a_weight_change_and_writes_do_not_block() {
    let store = Arc::new(InMemoryStickyBucketService::new());
    let client = GrowthBook::builder()
        .payload(experiment_payload())
        .sticky_bucket_service(store.clone())
        .build()
        .unwrap();
    let user = client
        .user(attrs(json!({"id": "s1"})))
        .prepare()
        .await
        .unwrap();
    let first = user.eval_feature("exp");
    let variation = first.experiment_result().unwrap().variation_id;
    assert!(!first.experiment_result().unwrap().sticky_bucket_used);
    client.flush().await;
    let saved = store
        .get_all_assignments(&[("id".into(), "s1".into())])
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].assignments["exp-1__0"], variation.to_string());

    // Everyone now goes to the other variation, except users with a sticky assignment.
    let other = 1 - variation;
    let mut weights = [0.0, 0.0];
    weights[other] = 1.0;
    let mut changed = experiment_payload();
    changed["features"]["exp"]["rules"][0]["weights"] = json!(weights);
    client.set_payload(&changed).unwrap();
    let again = client
        .user(attrs(json!({"id": "s1"})))
        .prepare()
        .await
        .unwrap();
    let r = again.eval_feature("exp").experiment_result().unwrap();
    assert_eq!(r.variation_id, variation);
    assert!(r.sticky_bucket_used);
    // Without prepare: plain hashing, nothing saved.
    let unprepared = client.user(attrs(json!({"id": "s2"})));
    assert_eq!(
        unprepared
            .eval_feature("exp")
            .experiment_result()
            .unwrap()
            .variation_id,
        other
    );
    client.flush().await;
    assert_eq!(store.len(), 1);
    assert_eq!(client.dropped_sticky_writes(), 0);
    client.shutdown(core::time::Duration::from_secs(1)).await;
}

//! The plugin interface (logged events, added attributes, opting out of feature usage) and
//! deferred tracking (exposures held per request, handed back, fired later).
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::{
    DEFERRED_TRACKING_CAPACITY, Experiment, ExperimentResult, FeatureResult, GrowthBook, Plugin,
    UserContext,
};

use common::attrs;

fn payload() -> Value {
    common::experiment_payload_with(json!({
        "region-only": {"defaultValue": false, "rules": [{"condition": {"region": "eu"}, "force": true}]}
    }))
}

/// Records what it sees; adds `region` unless the user has one.
#[derive(Debug, Default)]
struct Recorder {
    events: Mutex<Vec<(String, Value, Value)>>,
    usage: AtomicUsize,
    viewed: AtomicUsize,
    wants_usage: bool,
}

impl Plugin for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn on_event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext) {
        self.events.lock().unwrap().push((
            name.into(),
            Value::Object(properties.clone()),
            user.attributes()["id"].clone(),
        ));
    }

    fn on_feature_usage(&self, _: &str, _: &FeatureResult, _: &UserContext) {
        self.usage.fetch_add(1, Ordering::SeqCst);
    }

    fn wants_feature_usage(&self) -> bool {
        self.wants_usage
    }

    fn on_experiment_viewed(&self, _: &Experiment, _: &ExperimentResult, _: &UserContext) {
        self.viewed.fetch_add(1, Ordering::SeqCst);
    }

    fn add_attributes(&self, attributes: &mut Map<String, Value>) {
        attributes.entry("region").or_insert_with(|| "eu".into());
    }
}

#[test]
fn plugins_see_logged_events_and_add_attributes() {
    let plugin = Arc::new(Recorder {
        wants_usage: true,
        ..Recorder::default()
    });
    let client = GrowthBook::builder()
        .payload(payload())
        .attributes(attrs(json!({"id": "default-user"})))
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let user = client.user(attrs(json!({"id": "u1"})));
    assert_eq!(user.attributes()["region"], "eu");
    assert!(user.is_on("region-only"));
    // The user's own attributes win.
    let us = client.user(attrs(json!({"id": "u2", "region": "us"})));
    assert!(!us.is_on("region-only"));
    // set_attributes goes through plugins too.
    let mut later = client.user(Map::new());
    later.set_attributes(attrs(json!({"id": "u3"})));
    assert_eq!(later.attributes()["region"], "eu");

    user.log_event("signup", attrs(json!({"plan": "pro"})));
    client.log_event("heartbeat", Map::new());
    let events = plugin.events.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![
            ("signup".into(), json!({"plan": "pro"}), json!("u1")),
            ("heartbeat".into(), json!({}), json!("default-user")),
        ]
    );
    assert_eq!(plugin.usage.load(Ordering::SeqCst), 2);
}

#[test]
fn a_plugin_may_opt_out_of_feature_usage() {
    let plugin = Arc::new(Recorder::default());
    let client = GrowthBook::builder()
        .payload(payload())
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let user = client.user(attrs(json!({"id": "u1"})));
    user.is_on("plain");
    user.is_on("exp");
    assert_eq!(plugin.usage.load(Ordering::SeqCst), 0);
    assert_eq!(plugin.viewed.load(Ordering::SeqCst), 1);
}

#[test]
fn deferred_tracking_holds_exposures_for_the_browser() {
    let fired = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&fired);
    let plugin = Arc::new(Recorder::default());
    let client = GrowthBook::builder()
        .payload(payload())
        .on_experiment_viewed(move |_, _, _| {
            f.fetch_add(1, Ordering::SeqCst);
        })
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let request = client
        .user(attrs(json!({"id": "u1"})))
        .with_deferred_tracking();
    let value = request.feature_value("exp", String::new());
    request.is_on("exp");
    request.eval_feature("exp");
    request.is_on("plain");
    // Nothing fired; one call held (deduplicated within the context).
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    assert_eq!(plugin.viewed.load(Ordering::SeqCst), 0);
    let calls = request.deferred_tracking_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].experiment_key(), "exp-1");
    let json = calls[0].to_json();
    assert_eq!(json["experiment"]["key"], "exp-1");
    assert_eq!(json["result"]["value"], value);
    assert_eq!(json["result"]["hashValue"], "u1");
    assert_eq!(json["result"]["inExperiment"], true);

    // Another request for the same user collects it again (per-context, as in JS).
    let next = client
        .user(attrs(json!({"id": "u1"})))
        .with_deferred_tracking();
    next.is_on("exp");
    assert_eq!(next.deferred_tracking_calls().len(), 1);

    // Forced variations are not exposures.
    let forced = client
        .user(attrs(json!({"id": "u2"})))
        .with_forced_variations(attrs(json!({"exp-1": 1})))
        .with_deferred_tracking();
    forced.is_on("exp");
    assert!(forced.deferred_tracking_calls().is_empty());

    // Firing them goes through the callback and plugins once (client-wide dedup).
    request.fire_deferred_tracking_calls();
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert_eq!(plugin.viewed.load(Ordering::SeqCst), 1);
    assert!(request.deferred_tracking_calls().is_empty());
    next.fire_deferred_tracking_calls();
    assert_eq!(fired.load(Ordering::SeqCst), 1);

    // Handing calls over: take, then set on another context.
    let a = client
        .user(attrs(json!({"id": "u3"})))
        .with_deferred_tracking();
    a.is_on("exp");
    let taken = a.take_deferred_tracking_calls();
    assert!(a.deferred_tracking_calls().is_empty());
    let b = client
        .user(attrs(json!({"id": "u3"})))
        .with_deferred_tracking();
    b.set_deferred_tracking_calls(taken.clone());
    assert_eq!(b.deferred_tracking_calls(), taken);
    // A context without deferred tracking holds nothing.
    let plain = client.user(attrs(json!({"id": "u4"})));
    plain.set_deferred_tracking_calls(taken);
    assert!(plain.deferred_tracking_calls().is_empty());
}

#[test]
fn deferred_tracking_works_without_callbacks_and_is_bounded() {
    let client = GrowthBook::builder().payload(payload()).build().unwrap();
    let user = client
        .user(attrs(json!({"id": "u1"})))
        .with_deferred_tracking();
    for i in 0..DEFERRED_TRACKING_CAPACITY + 10 {
        let exp =
            Experiment::from_json(&json!({"key": format!("inline-{i}"), "variations": [0, 1]}));
        user.run(&exp);
    }
    assert_eq!(
        user.deferred_tracking_calls().len(),
        DEFERRED_TRACKING_CAPACITY
    );
    assert_eq!(user.deferred_tracking_overflow(), 10);
}

//! The `feature`, `run`, `stickyBucket` and `contextualBandit` sections of the GrowthBook spec
//! suite, through the public gb-sdk API (builder, `client.user(...)`, `prepare`).
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;

use gb_sdk::serde_json::{self, Map, Value, json};
use gb_sdk::sticky::{InMemoryStickyBucketService, StickyAssignmentsDocument, StickyBucketService};
use gb_sdk::{Experiment, GrowthBook, GrowthBookBuilder, UserContext};

fn cases(section: &str) -> Vec<Value> {
    let all = spec_tests::load_cases().unwrap();
    all[section].as_array().unwrap().clone()
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// A client for a spec context (payload and client-level settings).
fn client_for(ctx: &Value) -> GrowthBookBuilder {
    let payload = json!({
        "features": ctx.get("features").cloned().unwrap_or(json!({})),
        "savedGroups": ctx.get("savedGroups").cloned().unwrap_or(Value::Null),
        "contextualBandits": ctx.get("contextualBandits").cloned().unwrap_or(Value::Null),
        "experiments": ctx.get("experiments").cloned().unwrap_or(Value::Null),
    });
    GrowthBook::builder()
        .payload(payload)
        .qa_mode(ctx.get("qaMode").and_then(Value::as_bool).unwrap_or(false))
        .enabled(ctx.get("enabled").and_then(Value::as_bool).unwrap_or(true))
}

/// The user of a spec context.
fn user_for(client: &GrowthBook, ctx: &Value) -> UserContext {
    client
        .user(object(ctx.get("attributes")))
        .with_url(ctx.get("url").and_then(Value::as_str).unwrap_or(""))
        .with_forced_variations(object(ctx.get("forcedVariations")))
        .with_forced_features(object(ctx.get("forcedFeatures")))
}

fn check(section: &str, failures: &[String], total: usize) {
    assert!(total > 0, "{section}: no cases");
    assert!(
        failures.is_empty(),
        "{section}: {}/{total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn feature_section(section: &str) {
    let list = cases(section);
    let mut failures = Vec::new();
    for c in &list {
        let client = client_for(&c[1]).build().unwrap();
        let got = user_for(&client, &c[1])
            .eval_feature(c[2].as_str().unwrap())
            .to_json();
        if got != c[3] {
            failures.push(format!("{}: got {got}, want {}", c[0], c[3]));
        }
    }
    check(section, &failures, list.len());
}

#[test]
fn feature() {
    feature_section("feature");
}

#[test]
fn contextual_bandit() {
    feature_section("contextualBandit");
}

#[test]
fn run() {
    let list = cases("run");
    let mut failures = Vec::new();
    for c in &list {
        let client = client_for(&c[1]).build().unwrap();
        let r = user_for(&client, &c[1]).run(&Experiment::from_json(&c[2]));
        let got = json!([r.value, r.in_experiment, r.hash_used]);
        let want = json!([c[3], c[4], c[5]]);
        if got != want {
            failures.push(format!("{}: got {got}, want {want}", c[0]));
        }
    }
    check("run", &failures, list.len());
}

#[tokio::test]
async fn sticky_bucket() {
    let list = cases("stickyBucket");
    let mut failures = Vec::new();
    for c in &list {
        let store = Arc::new(InMemoryStickyBucketService::new());
        let stored: Vec<StickyAssignmentsDocument> = serde_json::from_value(c[2].clone()).unwrap();
        store.save_assignments(stored).await.unwrap();
        let client = client_for(&c[1])
            .sticky_bucket_service(store.clone())
            .build()
            .unwrap();
        let user = user_for(&client, &c[1]).prepare().await.unwrap();
        let result = user.eval_feature(c[3].as_str().unwrap());
        let got = result
            .experiment_result()
            .as_ref()
            .map_or(Value::Null, gb_sdk::ExperimentResult::to_json);
        let mut docs = Map::new();
        for d in user.sticky_bucket_docs().unwrap().docs() {
            docs.insert(d.key(), serde_json::to_value(d).unwrap());
        }
        let docs = Value::Object(docs);
        if got != c[4] || docs != c[5] {
            failures.push(format!(
                "{}: got {got} / {docs}, want {} / {}",
                c[0], c[4], c[5]
            ));
        }
        // The changed documents reach the store once flushed.
        client.flush().await;
        for d in user.sticky_bucket_docs().unwrap().docs() {
            let wanted = [(d.attribute_name.clone(), d.attribute_value.clone())];
            let saved = store.get_all_assignments(&wanted).await.unwrap();
            if !saved.iter().any(|s| s == d) {
                failures.push(format!("{}: {} not saved", c[0], d.key()));
            }
        }
        client.close();
    }
    check("stickyBucket", &failures, list.len());
}

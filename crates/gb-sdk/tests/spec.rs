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

/// Every `EvaluationReason` comes out of the spec's `feature` cases, except the two that
/// depend on the caller (a wrong type, no payload yet): made here.
#[test]
fn every_evaluation_reason() {
    use gb_sdk::{EvaluationError, EvaluationReason as R};
    let mut seen = std::collections::HashSet::new();
    for c in &cases("feature") {
        let client = client_for(&c[1]).build().unwrap();
        let user = user_for(&client, &c[1]);
        let key = c[2].as_str().unwrap();
        let detail = user.feature_detail::<Value>(key, Value::Null);
        assert_eq!(
            detail.reason,
            user.eval_feature(key).evaluation_reason(),
            "{}",
            c[0]
        );
        // `eval_all` gives the same result as the feature alone.
        if let Some(one) = user.eval_all().get(key) {
            assert_eq!(one.to_json(), c[3], "{}: eval_all", c[0]);
        }
        seen.insert(detail.reason);
    }
    let typed = GrowthBook::builder()
        .payload(json!({"features": {"name": {"defaultValue": "x"}}}))
        .build()
        .unwrap();
    let detail = typed.user(Map::new()).feature_detail("name", false);
    assert_eq!((detail.value, detail.reason), (false, R::TypeMismatch));
    seen.insert(detail.reason);
    let unloaded = GrowthBook::builder().build().unwrap();
    let detail = unloaded.user(Map::new()).feature_detail("name", 7);
    assert_eq!((detail.value, detail.reason), (7, R::NotReady));
    seen.insert(detail.reason);
    // A forced value applies before any payload loads, and says so.
    let forced = unloaded
        .user(Map::new())
        .with_forced_features(json!({"name": "forced"}).as_object().unwrap().clone())
        .feature_detail("name", String::new());
    assert_eq!(
        (forced.value.as_str(), forced.reason),
        ("forced", R::Override)
    );
    seen.insert(forced.reason);
    for want in [
        R::TargetingMatch,
        R::Split,
        R::Default,
        R::Override,
        R::Prerequisite,
        R::UnknownFeature,
        R::TypeMismatch,
        R::NotReady,
        R::Error(EvaluationError::CyclicPrerequisite),
    ] {
        assert!(
            seen.contains(&want),
            "{want:?} never produced; saw {seen:?}"
        );
    }
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

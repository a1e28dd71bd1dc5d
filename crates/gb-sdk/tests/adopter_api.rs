//! The adopter-facing API of issue 13: attributes, eval_all on the shared workload, test
//! data, the experiment builder, status changes.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

use std::path::PathBuf;

use gb_sdk::serde_json::{self, Value, json};
use gb_sdk::testing::{StaticTransport, TestData};
use gb_sdk::{Attributes, EvaluationReason, ExperimentBuilder, GrowthBook, Status};
use serde::Serialize;

#[derive(Serialize)]
struct Customer {
    id: String,
    country: &'static str,
    age: u32,
    beta: bool,
    tags: Vec<&'static str>,
    plan: Option<&'static str>,
}

#[test]
fn attributes_from_a_derived_struct_equal_the_same_json() {
    let customer = Customer {
        id: "123".into(),
        country: "NL",
        age: 42,
        beta: true,
        tags: vec!["a", "b"],
        plan: None,
    };
    let json = json!({"id": "123", "country": "NL", "age": 42, "beta": true, "tags": ["a", "b"], "plan": null});
    let derived = Attributes::from_serialize(&customer).unwrap();
    assert_eq!(derived, Attributes::try_from(json.clone()).unwrap());
    assert_eq!(
        derived,
        Attributes::new()
            .insert("id", "123")
            .insert("country", "NL")
            .insert("age", 42)
            .insert("beta", true)
            .insert("tags", json!(["a", "b"]))
            .insert("plan", Value::Null)
    );
    // And a client evaluates them the same.
    let client = GrowthBook::builder()
        .payload(json!({"features": {"f": {"defaultValue": 0, "rules": [
            {"condition": {"country": "NL", "age": {"$gt": 40}, "tags": {"$elemMatch": {"$eq": "b"}}}, "force": 1}
        ]}}}))
        .build()
        .unwrap();
    let a = client.user(derived).eval_feature("f");
    let b = client.user(json.as_object().unwrap()).eval_feature("f");
    assert_eq!(a, b);
    assert_eq!(a.value(), &json!(1));
    assert!(Attributes::try_from(json!([1])).is_err());
    assert!(Attributes::from_serialize(&5).is_err());
}

fn workload() -> Option<Value> {
    let path = std::env::var("GB_BENCH_WORKLOAD").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/workload.json"),
        PathBuf::from,
    );
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "{}: {e} (the shared workload is needed under CI)",
                path.display()
            );
            eprintln!("skipped: no workload at {}", path.display());
            None
        }
    }
}

/// A client on the workload's payload, a context for each of its users, and the feature keys.
fn workload_users() -> Option<(Vec<gb_sdk::UserContext>, Vec<String>)> {
    let w = workload()?;
    let client = GrowthBook::builder()
        .payload(w["payload"].clone())
        .build()
        .unwrap();
    let keys = client.feature_keys();
    let users: Vec<_> = w["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attrs| client.user(attrs.as_object().unwrap()))
        .collect();
    assert!(users.len() >= 1000 && keys.len() >= 200);
    Some((users, keys))
}

#[test]
fn eval_all_equals_each_feature_for_every_workload_user() {
    let Some((users, keys)) = workload_users() else {
        return;
    };
    for user in &users {
        let all = user.eval_all();
        assert_eq!(all.len(), keys.len());
        assert_eq!(all.keys().collect::<Vec<_>>(), keys);
        for ((k, r), key) in all.iter().zip(&keys) {
            assert_eq!(k, key);
            let one = user.eval_feature(k);
            assert_eq!(
                (r.value, r.source, r.rule_id),
                (one.value(), one.source(), one.rule_id()),
                "{k}"
            );
            let variation = r
                .experiment_result
                .as_ref()
                .map(|e| (e.key, e.variation_id));
            let want = one.experiment_result().map(|e| (e.key, e.variation_id));
            assert_eq!(
                variation.map(|(key, id)| (key.to_string(), id)),
                want,
                "{k}"
            );
        }
        // Results handed out one by one are the full ones.
        for k in keys.iter().step_by(37) {
            assert_eq!(all.get(k).unwrap(), user.eval_feature(k), "{k}");
        }
        assert!(all.get("no-such-feature").is_none());
    }
}

/// `feature_value::<Value>` (which clones straight from the snapshot, bypassing serde) and
/// `feature_detail::<Value>` are the evaluated value for every workload feature and user;
/// `null` and unknown features give the caller's default.
#[test]
fn feature_value_as_json_equals_the_evaluated_value_for_every_workload_user() {
    let Some((users, keys)) = workload_users() else {
        return;
    };
    let sentinel = json!({"default": true});
    let mut kinds = [0usize; 6];
    for user in &users {
        let all = user.eval_all();
        assert_eq!(all.len(), keys.len());
        for (k, r) in all.iter() {
            let want = if r.value.is_null() {
                sentinel.clone()
            } else {
                r.value.clone()
            };
            assert_eq!(
                user.feature_value::<Value>(k, sentinel.clone()),
                want,
                "{k}"
            );
            assert_eq!(user.feature_value::<Value>(k, Value::Null), *r.value, "{k}");
            let detail = user.feature_detail::<Value>(k, sentinel.clone());
            assert_eq!(detail.value, want, "{k}");
            kinds[match r.value {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::Array(_) => 4,
                Value::Object(_) => 5,
            }] += 1;
        }
        assert_eq!(
            user.feature_value::<Value>("no-such-feature", sentinel.clone()),
            sentinel
        );
    }
    // The workload exercises null, scalar, string and object values.
    for kind in [0, 1, 2, 3, 5] {
        assert!(kinds[kind] > 0, "{kinds:?}");
    }
}

/// What an adopter writes in their own `#[test]`: fixed values, no network.
#[test]
fn a_users_test_with_test_data() {
    let data = TestData::new()
        .feature("checkout-v2", true)
        .feature("max-items", 10)
        .feature_for("max-items", "plan", "pro", 100);
    let client = data.client().unwrap();
    let free = client.user(Attributes::new().insert("id", "1"));
    let pro = client.user(Attributes::new().insert("id", "2").insert("plan", "pro"));
    assert!(free.is_on("checkout-v2"));
    assert_eq!(free.feature_value("max-items", 0), 10);
    assert_eq!(pro.feature_value("max-items", 0), 100);
    let detail = pro.feature_detail("max-items", 0);
    assert_eq!(detail.reason, EvaluationReason::TargetingMatch);
    assert_eq!(
        free.feature_detail("max-items", 0).reason,
        EvaluationReason::Default
    );
    data.clone()
        .feature("checkout-v2", false)
        .apply(&client)
        .unwrap();
    assert!(!free.is_on("checkout-v2"));
}

/// The in-memory transport drives the real refresh pipeline (no socket).
#[tokio::test]
async fn static_transport_serves_the_pipeline() {
    let transport = alloc::sync::Arc::new(StaticTransport::new(
        &TestData::new().feature("f", "one").payload(),
    ));
    let client = GrowthBook::builder()
        .client_key("sdk-test")
        .transport(transport.clone())
        .build()
        .unwrap();
    let mut status = client.status_changes();
    assert!(client.ready(core::time::Duration::from_secs(5)).await);
    assert!(transport.fetches() >= 1);
    let user = client.user(Attributes::new().insert("id", "1"));
    assert_eq!(user.feature_value("f", String::new()), "one");
    tokio::time::timeout(
        core::time::Duration::from_secs(5),
        status.wait_for(|s| *s == Status::Ready),
    )
    .await
    .unwrap()
    .unwrap();
    client.close();
}

#[test]
fn status_changes_follow_the_client() {
    let client = GrowthBook::builder().build().unwrap();
    let mut rx = client.status_changes();
    assert_eq!(*rx.borrow_and_update(), Status::NotReady);
    client
        .set_payload(&json!({"features": {"f": {"defaultValue": 1}}}))
        .unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), Status::Ready);
    assert_eq!(client.status(), Status::Ready);
}

#[test]
fn the_experiment_builder_reports_invalid_input() {
    let ok = ExperimentBuilder::new("e")
        .variations(["a", "b", "c"])
        .weights([0.2, 0.3, 0.5])
        .coverage(1.0)
        .hash_attribute("id")
        .hash_version(2)
        .namespace("ns", 0.0, 1.0)
        .filter("id", "s", [(0.0, 1.0)])
        .condition(json!({"beta": true}))
        .build()
        .unwrap();
    assert_eq!(ok.key(), "e");
    let copy = ok.clone();
    let client = GrowthBook::builder()
        .payload(json!({"features": {}}))
        .build()
        .unwrap();
    let inside = client.user(Attributes::new().insert("id", "7").insert("beta", true));
    let r = inside.run(&copy);
    assert!(r.in_experiment);
    // The same experiment as JSON gives the same result.
    let same = gb_sdk::Experiment::from_json(
        &ExperimentBuilder::new("e")
            .variations(["a", "b", "c"])
            .weights([0.2, 0.3, 0.5])
            .hash_attribute("id")
            .hash_version(2)
            .namespace("ns", 0.0, 1.0)
            .filter("id", "s", [(0.0, 1.0)])
            .condition(json!({"beta": true}))
            .coverage(1.0)
            .to_json(),
    );
    assert_eq!(inside.run(&same), r);
    let outside = client.user(Attributes::new().insert("id", "7"));
    assert!(!outside.run(&copy).in_experiment);

    let err = ExperimentBuilder::new("")
        .variation(1)
        .weights([0.7, 0.7])
        .coverage(1.5)
        .hash_version(3)
        .condition(json!("beta"))
        .namespace("ns", 0.6, 0.2)
        .build()
        .unwrap_err();
    let text = err.to_string();
    for needle in [
        "key is empty",
        "needs at least 2",
        "2 weights for 1 variations",
        "sum to 1.4",
        "coverage 1.5",
        "hash version 3",
        "condition is not an object",
        "namespace range",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
}

/// A context reuses what its results share only while it is current: a new payload, new
/// attributes or a new URL are seen at once, and an earlier result keeps its own snapshot.
#[test]
fn shared_results_follow_the_snapshot_and_the_inputs() {
    let client = TestData::new()
        .feature("f", 1)
        .feature_for("f", "plan", "pro", 2)
        .client()
        .unwrap();
    let mut user = client.user(Attributes::new().insert("id", "1"));
    let before = user.eval_feature("f");
    assert_eq!(before.value(), &json!(1));
    TestData::new().feature("f", 3).apply(&client).unwrap();
    let after = user.eval_feature("f");
    assert_eq!((before.value(), after.value()), (&json!(1), &json!(3)));
    TestData::new()
        .feature("f", 1)
        .feature_for("f", "plan", "pro", 2)
        .apply(&client)
        .unwrap();
    user.set_attributes(Attributes::new().insert("plan", "pro").into_map());
    assert_eq!(user.eval_feature("f").value(), &json!(2));
    let forced = user.with_forced_features(json!({"f": 9}).as_object().unwrap().clone());
    assert_eq!(forced.eval_feature("f").value(), &json!(9));
    assert_eq!(forced.eval_all().value("f"), Some(&json!(9)));
    assert_eq!(
        before.value(),
        &json!(1),
        "an earlier result keeps its snapshot"
    );
}

/// `feature_value::<Value>` builds the copy in the default's place: every kind of value, nested,
/// comes back equal and with its keys in document order, whatever the default held.
#[test]
fn feature_value_as_json_copies_every_kind_of_value_in_order() {
    let values = [
        json!([1, "two", [3.5, null], {"z": 1, "a": [true, false]}]),
        json!({"zeta": {"y": [], "b": {}}, "alpha": "x", "mid": -0.0}),
        json!("text"),
        json!(12345678901234_i64),
        json!(false),
        json!([]),
        json!({}),
    ];
    let features: serde_json::Map<String, Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("f{i}"), json!({ "defaultValue": v })))
        .collect();
    let client = GrowthBook::builder()
        .payload(json!({ "features": features }))
        .build()
        .unwrap();
    let user = client.user(Attributes::new().insert("id", "1"));
    let defaults = [
        Value::Null,
        json!("a default"),
        json!([1, 2]),
        json!({"k": "v"}),
    ];
    for (i, want) in values.iter().enumerate() {
        for default in &defaults {
            let got = user.feature_value::<Value>(&format!("f{i}"), default.clone());
            assert_eq!(&got, want);
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(want).unwrap()
            );
        }
    }
}

//! Payload text is loaded feature by feature (`FeatureSet::from_json_str`); it must give
//! exactly what compiling the parsed tree gives (`FeatureSet::from_value`): the same
//! features in the same order, the same warnings and the same results, whatever order the
//! payload's sections come in and however odd the text is.
#![allow(clippy::unwrap_used, reason = "test")]

use gb_core::{FeatureSet, User};
use serde_json::{Map, Value, json};

fn users() -> Vec<Map<String, Value>> {
    (0..40)
        .map(|i| {
            json!({"id": format!("u{i}"), "country": (["US", "FR", "C1"][i % 3]), "plan": "pro", "email": format!("a{i}@x.io")})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

/// Loads `text` both ways and checks they agree; returns the streamed snapshot.
fn same_both_ways(text: &str) -> FeatureSet {
    let streamed = FeatureSet::from_json_str(text).unwrap();
    let v: Value = serde_json::from_str(text).unwrap();
    let tree = FeatureSet::from_value(&v);
    assert_eq!(streamed.warnings(), tree.warnings(), "{text}");
    let keys: Vec<&str> = streamed.keys().collect();
    assert_eq!(keys, tree.keys().collect::<Vec<_>>(), "{text}");
    assert_eq!(
        streamed.sticky_bucket_identifier_attributes(),
        tree.sticky_bucket_identifier_attributes()
    );
    for attrs in &users() {
        let u = User::new(attrs);
        for k in &keys {
            assert_eq!(
                streamed.eval_feature(k, &u).to_json(),
                tree.eval_feature(k, &u).to_json(),
                "{k} in {text}"
            );
        }
    }
    streamed
}

const FEATURES: &str = r#"{
    "a": {"defaultValue": 1, "rules": [{"id": "r", "condition": {"$savedGroup": "g", "email": {"$regex": "^a1"}}, "force": 2}]},
    "b": {"defaultValue": "x", "rules": [{"key": "e", "variations": ["x", "y"], "contextualBanditRef": "cb", "contextualVariations": ["p", "q"]}]},
    "bad": {"defaultValue": 0, "rules": [{"force": 1, "range": "nope"}, 7, {"condition": {"$bogus": 1}, "force": 3}]},
    "child": {"defaultValue": 0, "rules": [{"parentConditions": [{"id": "a", "condition": {"value": 2}}], "force": 9}]},
    "off": null,
    "weird": [1]
}"#;
const GROUPS: &str = r#"{"g": {"country": {"$in": ["US", "C1"]}}}"#;
const BANDITS: &str = r#"{"cb": {"banditVersion": 2, "contexts": [{"leafId": 1, "condition": {"country": "C1"}, "weights": [0.1, 0.9]}]}}"#;
const EXPERIMENTS: &str =
    r#"[{"key": "inline", "variations": [0, 1], "hashAttribute": "email"}, {"key": 5}]"#;

#[test]
fn every_order_of_sections_loads_as_the_tree_does() {
    let sections = [
        ("features", FEATURES),
        ("savedGroups", GROUPS),
        ("contextualBandits", BANDITS),
        ("experiments", EXPERIMENTS),
        ("dateUpdated", r#""2026-01-01T00:00:00Z""#),
    ];
    // Every rotation puts `features` before and after the sections it depends on.
    for start in 0..sections.len() {
        let body: Vec<String> = (0..sections.len())
            .map(|i| {
                let (k, v) = sections[(start + i) % sections.len()];
                format!("\"{k}\": {v}")
            })
            .collect();
        let text = format!("{{{}}}", body.join(", "));
        let fs = same_both_ways(&text);
        assert_eq!(fs.len(), 5, "{text}");
        assert!(!fs.warnings().is_empty());
    }
}

#[test]
fn repeated_keys_and_odd_shapes_load_as_the_tree_does() {
    for text in [
        // A repeated feature: the later definition, at the earlier one's place, and only its
        // warnings.
        r#"{"features": {"a": {"defaultValue": 1, "rules": [5]}, "b": {"defaultValue": 2}, "a": {"defaultValue": 3, "rules": [{"force": 4}]}}}"#,
        // Repeated sections: the last one counts.
        r#"{"features": {"a": {"defaultValue": 1}}, "savedGroups": {"g": {"x": 1}}, "features": {"b": {"defaultValue": [2], "rules": [{"condition": {"$savedGroup": "g"}, "force": 0}]}}, "savedGroups": {"g": {"id": "u1"}}}"#,
        r#"{"experiments": [{"key": "x", "variations": [1, 2]}], "features": {}, "experiments": [{"key": "y"}]}"#,
        // `features` that is not an object, or null, or missing.
        r#"{"features": [1, 2]}"#,
        r#"{"features": 5}"#,
        r#"{"features": null, "experiments": [{"key": "x", "variations": [1, 2]}]}"#,
        r#"{}"#,
        // Escaped keys are the same keys.
        r#"{"feat\u0075res": {"\u0061": {"defaultValue": true}}, "saved\u0047roups": {"g": {"id": "u2"}}}"#,
        // A repeated key whose definitions are not objects (found by the `payload` fuzz
        // target: both were reported), and repeats mixing an object and a non-object.
        r#"{"features": {"c": 1, "d": {"defaultValue": 2}, "c": 0}}"#,
        r#"{"features": {"c": {"defaultValue": 1}, "c": 0}}"#,
        r#"{"features": {"c": 0, "c": {"defaultValue": 1}}}"#,
        // Falsy definitions are reported, truthy non-objects evaluate to null.
        r#"{"features": {"z": 0, "e": "", "f": false, "t": "yes", "n": 1}}"#,
    ] {
        same_both_ways(text);
    }
}

#[test]
fn deep_and_invalid_text_is_handled_as_before() {
    // Nested deeper than serde_json's limit: cut at the loader's depth limit, the condition
    // holding it disabled, the rest loaded.
    let deep = format!(
        r#"{{"features": {{"ok": {{"defaultValue": 1}}, "deep": {{"defaultValue": 0, "rules": [{{"condition": {{"a": {}1{}}}, "force": 1}}]}}}}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    let fs = FeatureSet::from_json_str(&deep).unwrap();
    let tree = FeatureSet::from_value(&FeatureSet::parse_json(&deep).unwrap());
    assert_eq!(fs.warnings(), tree.warnings());
    assert_eq!(fs.len(), 2);
    assert!(!fs.warnings().is_empty());
    // Nested just under serde_json's limit: streamed, and as the tree loads it.
    let nested = format!(
        r#"{{"features": {{"v": {{"defaultValue": {}1{}}}}}}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    same_both_ways(&nested);
    for bad in [
        "",
        "[]",
        "{\"features\": {}",
        "{\"features\": {}} x",
        "null",
        "{\"a\": tru}",
    ] {
        let err = FeatureSet::from_json_str(bad).unwrap_err();
        match FeatureSet::parse_json(bad) {
            Err(e) => assert_eq!(err, e, "{bad}"),
            Ok(_) => assert!(err.to_string().contains("not a JSON object"), "{bad}"),
        }
    }
}

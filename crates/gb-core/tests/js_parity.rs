//! Differences from the JavaScript SDK 1.8.0 found by `cargo xtask diff`, each kept as a
//! regression test with the answer the JS SDK gives (checked in Node 20).

use gb_core::{FeatureSet, StickyBucketDocs, User};
use serde_json::{Value, json};

fn eval(payload: &str, attrs: Value, key: &str) -> Value {
    let fs = FeatureSet::from_json_str(payload).expect("payload");
    let user = User::new(attrs.as_object().expect("object"));
    fs.eval_feature(key, &user).to_json()
}

/// Found by `cargo xtask diff --seed 1` (batch 2). JS keys a sticky document by
/// `toString(hashValue)`, which is `JSON.stringify` for non-strings: `[-0]` is `"[0]"`.
#[test]
fn sticky_attribute_value_is_json_stringify() {
    let fs = FeatureSet::from_json_str(
        r#"{"features":{"f23":{"rules":[{"variations":[4294967295,[]]}]}}}"#,
    )
    .expect("payload");
    let attrs = json!({"id": [-0.0]});
    let user = User::new(attrs.as_object().expect("object"));
    let mut docs = StickyBucketDocs::new();
    let r = fs.eval_feature_with("f23", &user, Some(&mut docs), &mut ());
    assert_eq!(r.source.as_str(), "experiment");
    let keys: Vec<String> = docs.docs().map(|d| d.key()).collect();
    assert_eq!(keys, ["id||[0]"]);
    let doc = docs.docs().next().expect("a document");
    assert_eq!(doc.attribute_value, "[0]");
    assert_eq!(doc.assignments.get("f23__0").map(String::as_str), Some("0"));
}

/// Found while shrinking a `cargo xtask diff` case: JS `if (!features[id])` is the only
/// unknown-feature test, so a truthy non-object definition is a feature with no rules whose
/// `defaultValue` is `undefined`, i.e. `null` from source `defaultValue`.
#[test]
fn truthy_non_object_feature_is_a_null_default() {
    let want =
        json!({"value": null, "on": false, "off": true, "source": "defaultValue", "ruleId": ""});
    assert_eq!(eval(r#"{"features":{"f":[]}}"#, json!({}), "f"), want);
    assert_eq!(eval(r#"{"features":{"f":5}}"#, json!({}), "f"), want);
    let unknown =
        json!({"value": null, "on": false, "off": true, "source": "unknownFeature", "ruleId": ""});
    assert_eq!(eval(r#"{"features":{"f":0}}"#, json!({}), "f"), unknown);
}

/// JS `if (rule.condition && !conditionPasses(rule.condition))`: a number condition is
/// evaluated with `Object.entries(5)` (empty, passes); a falsy one is no condition.
#[test]
fn loose_rule_conditions_evaluate_as_javascript() {
    let p = r#"{"features":{"f":{"defaultValue":0,"rules":[{"condition":5,"force":1}]}}}"#;
    assert_eq!(eval(p, json!({}), "f")["value"], json!(1));
    let p = r#"{"features":{"f":{"defaultValue":0,"rules":[{"condition":"ab","force":1}]}}}"#;
    assert_eq!(eval(p, json!({"0": "a", "1": "b"}), "f")["value"], json!(1));
    assert_eq!(eval(p, json!({"0": "a"}), "f")["value"], json!(0));
    let p = r#"{"features":{"f":{"defaultValue":0,"rules":[{"condition":"","force":1}]}}}"#;
    assert_eq!(eval(p, json!({}), "f")["value"], json!(1));
}

/// Found by `cargo xtask diff --seed 2026` (batch 2573). JS wraps bandit leaf selection in
/// `try`: a leaf condition that throws (`$not: null`) ends the search and the fallback leaf
/// (`-1`, the rule's or equal weights) is used, not the next matching leaf.
#[test]
fn bandit_leaf_selection_that_throws_uses_the_fallback() {
    let p = r#"{"features":{"f":{"rules":[{"key":"e","contextualBanditRef":"cb","contextualVariations":[1,2]}]}},
        "contextualBandits":{"cb":{"banditVersion":2,"contexts":[
            {"leafId":0,"condition":{"$not":null},"weights":[0,1]},
            {"leafId":1,"condition":{},"weights":[1,0]}]}}}"#;
    let got = eval(p, json!({"id": "u1"}), "f");
    let want = json!({"value":2,"on":true,"off":false,"source":"experiment","ruleId":"",
        "experiment":{"variations":[1,2],"key":"e","contextualBandit":{"leafId":-1,"variationWeights":[0.5,0.5],"banditVersion":2}},
        "experimentResult":{"key":"1","featureId":"f","inExperiment":true,"hashUsed":true,"variationId":1,"value":2,
            "hashAttribute":"id","hashValue":"u1","stickyBucketUsed":false,"bucket":0.554,
            "leafId":-1,"variationWeights":[0.5,0.5],"banditVersion":2}});
    assert_eq!(got, want);
}

/// Found by `cargo xtask diff --seed 424242` (batch 2): `Object.entries([])` is empty, so an
/// empty array as a rule condition (truthy in JS) lets everyone pass.
#[test]
fn empty_array_condition_passes() {
    let p = r#"{"features":{"f5":{"rules":[{"condition":[],"force":[]}]}}}"#;
    let want = json!({"value":[],"on":true,"off":false,"source":"force","ruleId":""});
    assert_eq!(eval(p, json!({}), "f5"), want);
}

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

/// Found by `cargo xtask diff --seed 77`: JS looks a parent up as
/// `features[parentCondition.id]` (so a missing id is the feature `"undefined"` and `5` is
/// `"5"`) and evaluates `parentCondition.condition || {}`; a non-object parent condition has
/// no id and no condition. Answers from the JS SDK 1.8.0 under Node 20.
#[test]
fn parent_conditions_read_their_fields_as_javascript() {
    let cases = [
        (
            r#"{"features":{"p":{"defaultValue":1},"f":{"defaultValue":0,"rules":[{"parentConditions":[{}],"force":1}]}}}"#,
            json!({"value": 1, "source": "force"}),
        ),
        (
            r#"{"features":{"undefined":{"defaultValue":7},"f":{"defaultValue":0,"rules":[{"parentConditions":[{"condition":{"value":7}}],"force":1}]}}}"#,
            json!({"value": 1, "source": "force"}),
        ),
        (
            r#"{"features":{"5":{"defaultValue":true},"f":{"defaultValue":0,"rules":[{"parentConditions":[{"id":5,"condition":{"value":true}}],"force":1}]}}}"#,
            json!({"value": 1, "source": "force"}),
        ),
        (
            r#"{"features":{"f":{"defaultValue":0,"rules":[{"parentConditions":[3],"force":1}]}}}"#,
            json!({"value": 1, "source": "force"}),
        ),
        (
            r#"{"features":{"f":{"defaultValue":0,"rules":[{"parentConditions":[{"id":"missing","condition":{"value":{"$exists":true}},"gate":true}],"force":1}]}}}"#,
            json!({"value": null, "source": "prerequisite"}),
        ),
        (
            r#"{"features":{"f":{"defaultValue":0,"rules":[{"parentConditions":[{"id":"missing","condition":0,"gate":1}],"force":1}]}}}"#,
            json!({"value": 1, "source": "force"}),
        ),
    ];
    for (payload, want) in cases {
        let got = eval(payload, json!({}), "f");
        assert_eq!(
            json!({"value": got["value"], "source": got["source"]}),
            want,
            "{payload}"
        );
    }
}

/// Found by `cargo xtask diff --seed 77` (batch 23). JS evaluates a prerequisite again each
/// time a rule names it, and a sticky bucket saved by the first evaluation changes the
/// second: here `f15`'s first rule saves `f15__0` and is then blocked by `minBucketVersion`,
/// so the second evaluation saves `v`, which the next `f15` finds (`stickyBucketUsed`).
/// Remembered prerequisite results are forgotten when a saved bucket changes the documents.
/// Answers from the JS SDK 1.8.0 under Node 20.
#[test]
fn a_sticky_bucket_saved_by_a_prerequisite_is_seen_by_its_next_evaluation() {
    let fs = FeatureSet::from_json_str(
        r#"{"features":{"f4":{"rules":[{"parentConditions":[{"id":"f15"},{"id":"f15"}]}]},"f15":{"rules":[{"variations":[true,null],"minBucketVersion":2},{"variations":["ı",{}],"meta":[{},{"key":"v"}]}]}}}"#,
    )
    .expect("payload");
    let attrs = json!({"id": "u"});
    let user = User::new(attrs.as_object().expect("object"));
    let mut docs = StickyBucketDocs::new();
    let f4 = fs.eval_feature_with("f4", &user, Some(&mut docs), &mut ());
    assert_eq!(f4.to_json()["source"], json!("defaultValue"));
    let saved = |docs: &StickyBucketDocs| {
        let doc = docs.docs().next().expect("a document");
        doc.assignments.get("f15__0").cloned()
    };
    assert_eq!(saved(&docs).as_deref(), Some("v"));
    let f15 = fs
        .eval_feature_with("f15", &user, Some(&mut docs), &mut ())
        .to_json();
    assert_eq!(f15["value"], json!({}));
    assert_eq!(f15["experimentResult"]["variationId"], json!(1));
    assert_eq!(f15["experimentResult"]["stickyBucketUsed"], json!(true));
    // Alone, `f15` is first assigned by its first rule ("1"), then, blocked there, by its
    // second (`v`), both from the hash.
    let mut docs = StickyBucketDocs::new();
    let first = fs
        .eval_feature_with("f15", &user, Some(&mut docs), &mut ())
        .to_json();
    assert_eq!(first["value"], json!(null));
    assert_eq!(saved(&docs).as_deref(), Some("1"));
    let second = fs
        .eval_feature_with("f15", &user, Some(&mut docs), &mut ())
        .to_json();
    assert_eq!(second["value"], json!({}));
    assert_eq!(second["experimentResult"]["stickyBucketUsed"], json!(false));
    assert_eq!(saved(&docs).as_deref(), Some("v"));
}

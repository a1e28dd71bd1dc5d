//! Untrusted payloads and attributes: evaluation never panics, a damaged rule or feature
//! disables only itself, and the rest of the payload evaluates exactly as before.
#![allow(clippy::unwrap_used, reason = "test")]

use gb_core::{Experiment, FeatureSet, FeatureSource, User};
use serde_json::{Map, Value, json};

fn healthy_features() -> Value {
    json!({
        "flag": {"defaultValue": false, "rules": [{"id": "r1", "condition": {"country": {"$in": ["US", "CA"]}}, "force": true}]},
        "rollout": {"defaultValue": "off", "rules": [{"force": "on", "coverage": 0.5, "hashAttribute": "id"}]},
        "exp": {"defaultValue": 0, "rules": [{"key": "e1", "variations": [0, 1, 2], "weights": [0.3, 0.3, 0.4], "meta": [{"key": "a"}, {"key": "b"}, {"key": "c"}]}]},
        "child": {"defaultValue": "x", "rules": [{"parentConditions": [{"id": "flag", "condition": {"value": true}}], "force": "y"}]}
    })
}

fn users() -> Vec<Map<String, Value>> {
    (0..50)
        .map(|i| {
            json!({"id": format!("user-{i}"), "country": if i % 2 == 0 { "US" } else { "FR" }, "age": i})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

/// Every healthy feature's result for every user, as JSON.
fn snapshot(fs: &FeatureSet) -> Vec<Value> {
    let mut out = Vec::new();
    for attrs in &users() {
        let u = User::new(attrs);
        for k in ["flag", "rollout", "exp", "child"] {
            out.push(fs.eval_feature(k, &u).to_json());
        }
    }
    out
}

const BAD_VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e308",
    "-1e308",
    "18446744073709551616",
    "\"\"",
    "\"x\"",
    "[]",
    "[[]]",
    "[null]",
    "{}",
    "{\"$bad\":1}",
    "[1,\"a\",null]",
    "[[0,1],[2]]",
    "{\"a\":{\"b\":[]}}",
];

const RULE_FIELDS: &[&str] = &[
    "id",
    "condition",
    "parentConditions",
    "force",
    "variations",
    "weights",
    "coverage",
    "range",
    "ranges",
    "namespace",
    "filters",
    "hashAttribute",
    "fallbackAttribute",
    "hashVersion",
    "seed",
    "meta",
    "key",
    "name",
    "phase",
    "disableStickyBucketing",
    "bucketVersion",
    "minBucketVersion",
    "contextualBanditRef",
    "contextualVariations",
];

#[test]
fn wrong_types_in_every_rule_field_disable_only_that_rule() {
    let base = json!({"features": healthy_features()});
    let want = snapshot(&FeatureSet::from_value(&base));
    let attrs_list = users();
    let mut cases = 0;
    for field in RULE_FIELDS {
        for bad in BAD_VALUES {
            let bad: Value = serde_json::from_str(bad).unwrap();
            for template in [
                json!({"force": 1, "coverage": 0.5}),
                json!({"key": "k", "variations": [1, 2], "meta": [{"key": "a"}, {"key": "b"}]}),
            ] {
                let mut rule = template.clone();
                rule[*field] = bad.clone();
                let mut p = base.clone();
                p["features"]["damaged"] =
                    json!({"defaultValue": "safe", "rules": [rule, {"force": "second-rule"}]});
                let fs = FeatureSet::from_value(&p);
                // The healthy features are untouched.
                assert_eq!(snapshot(&fs), want, "field {field} = {bad}");
                // The damaged feature evaluates without panicking, to a value and a reason.
                for attrs in &attrs_list {
                    let mut docs = gb_core::StickyBucketDocs::new();
                    let r = fs.eval_feature_with(
                        "damaged",
                        &User::new(attrs),
                        Some(&mut docs),
                        &mut (),
                    );
                    assert!(matches!(
                        r.source,
                        FeatureSource::Force
                            | FeatureSource::Experiment
                            | FeatureSource::DefaultValue
                            | FeatureSource::Prerequisite
                    ));
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, RULE_FIELDS.len() * BAD_VALUES.len() * 2);
}

#[test]
fn a_malformed_rule_is_reported_and_the_next_rule_still_applies() {
    let p = json!({"features": {"f": {"defaultValue": 0, "rules": [
        {"variations": "not-an-array"},
        {"condition": "not-an-object", "force": 1},
        {"force": 2, "range": [0, "x"]},
        {"force": 3}
    ]}}});
    let fs = FeatureSet::from_value(&p);
    assert_eq!(fs.warnings().len(), 3, "{:?}", fs.warnings());
    let attrs = Map::new();
    assert_eq!(fs.eval_feature("f", &User::new(&attrs)).value, &json!(3));
}

#[test]
fn malformed_features_and_sections_do_not_stop_the_rest() {
    let p = json!({
        "features": {"bad1": 5, "bad2": [], "bad3": {"rules": 7}, "good": {"defaultValue": true}},
        "savedGroups": {"g1": 5, "g2": {"type": "list"}, "g3": {"type": "condition", "condition": 1}, "g4": {"type": "unknown"}},
        "contextualBandits": 12,
        "experiments": "nope"
    });
    let fs = FeatureSet::from_value(&p);
    let attrs = Map::new();
    let u = User::new(&attrs);
    assert_eq!(fs.eval_feature("good", &u).value, &json!(true));
    // JS: `!features[id]` is the only unknown-feature test, so a truthy non-object is a
    // feature without rules whose default is `null`.
    assert_eq!(
        fs.eval_feature("bad1", &u).source,
        FeatureSource::DefaultValue
    );
    assert_eq!(fs.eval_feature("bad1", &u).value, &Value::Null);
    assert_eq!(fs.eval_feature("bad3", &u).value, &Value::Null);
    assert!(fs.warnings().len() >= 6, "{:?}", fs.warnings());
    assert!(FeatureSet::from_json_str("<html>").is_err());
    assert!(FeatureSet::from_json_str("[1,2]").is_err());
    assert!(FeatureSet::from_json_str("{\"features\": {").is_err());
}

#[test]
fn invalid_and_unsupported_regexes_fail_closed() {
    let p = json!({"features": {
        "invalid": {"defaultValue": "d", "rules": [{"condition": {"email": {"$regex": "(("}}, "force": "hit"}]},
        "lookaround": {"defaultValue": "d", "rules": [{"condition": {"email": {"$regex": "^(?!x)"}}, "force": "hit"}]},
        "negated": {"defaultValue": "d", "rules": [{"condition": {"$not": {"email": {"$regex": "a(?<=a)"}}}, "force": "hit"}]},
        "backref": {"defaultValue": "d", "rules": [{"condition": {"email": {"$regex": "(a)\\1"}}, "force": "hit"}]},
        "huge": {"defaultValue": "d", "rules": [{"condition": {"email": {"$regex": "(\\w{1000}){1000}"}}, "force": "hit"}]}
    }});
    let fs = FeatureSet::from_value(&p);
    let attrs = json!({"email": "aa@example.com"})
        .as_object()
        .unwrap()
        .clone();
    let u = User::new(&attrs);
    for k in ["invalid", "lookaround", "negated", "backref", "huge"] {
        assert_eq!(fs.eval_feature(k, &u).value, &json!("d"), "{k}");
    }
    assert!(fs.warnings().len() >= 5, "{:?}", fs.warnings());
}

#[test]
fn ten_thousand_deep_nesting_disables_only_its_rule() {
    let mut cond = String::from("{\"x\": 1}");
    for _ in 0..10_000 {
        cond = format!("{{\"$not\": {cond}}}");
    }
    let text = format!(
        "{{\"features\": {{\"deep\": {{\"defaultValue\": 1, \"rules\": [{{\"condition\": {cond}, \"force\": 2}}]}}, \"ok\": {{\"defaultValue\": 3}}}}}}"
    );
    let fs = FeatureSet::from_json_str(&text).unwrap();
    let attrs = Map::new();
    let u = User::new(&attrs);
    assert_eq!(fs.eval_feature("deep", &u).value, &json!(1));
    assert_eq!(fs.eval_feature("ok", &u).value, &json!(3));
    assert!(!fs.warnings().is_empty());
    // Deep arrays in values load too.
    let arr = format!(
        "{{\"features\": {{\"v\": {{\"defaultValue\": {}1{} }}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(FeatureSet::from_json_str(&arr).is_ok());
}

#[test]
fn huge_numbers_and_odd_hash_attributes() {
    let p = json!({"features": {
        "cov": {"defaultValue": 0, "rules": [{"force": 1, "coverage": 1e308}, {"force": 2}]},
        "w": {"defaultValue": 0, "rules": [{"variations": [1, 2], "weights": [1e308, -1e308]}]},
        "r": {"defaultValue": 0, "rules": [{"force": 1, "range": [-1e308, 1e308]}]},
        "exp": {"defaultValue": 0, "rules": [{"variations": [1, 2], "hashAttribute": "h"}]},
        "empty": {"defaultValue": 9, "rules": [{"variations": []}, {"variations": [5]}]}
    }});
    let fs = FeatureSet::from_value(&p);
    for h in [
        json!(0),
        json!(1),
        json!(true),
        json!(false),
        json!(null),
        json!([]),
        json!([1, 2]),
        json!({}),
        json!({"a": 1}),
        json!(1e300),
        json!(-0.5),
        json!(""),
        json!("é😀"),
    ] {
        let attrs = json!({"id": h.clone(), "h": h.clone()})
            .as_object()
            .unwrap()
            .clone();
        let u = User::new(&attrs);
        for k in ["cov", "w", "r", "exp", "empty"] {
            let r = fs.eval_feature(k, &u);
            let _ = r.to_json();
        }
        assert_eq!(fs.eval_feature("empty", &u).value, &json!(9));
        let in_exp = fs.eval_feature("exp", &u).source == FeatureSource::Experiment;
        // Falsy hash attributes (0, false, null, "") are missing, as in JavaScript.
        let falsy =
            matches!(h, Value::Null | Value::Bool(false)) || h == json!(0) || h == json!("");
        assert_eq!(in_exp, !falsy, "hash attribute {h}");
    }
    assert!(
        FeatureSet::from_json_str("{\"features\": {\"n\": {\"defaultValue\": 1e400}}}").is_err()
    );
}

#[test]
fn prerequisite_chains_and_group_cycles_are_bounded() {
    let mut features = Map::new();
    features.insert("f1999".into(), json!({"defaultValue": 1999}));
    for i in 0..1_999 {
        features.insert(
            format!("f{i}"),
            json!({"defaultValue": i, "rules": [{"parentConditions": [{"id": format!("f{}", i + 1), "condition": {"value": {"$exists": true}}, "gate": true}], "force": "chained"}]}),
        );
    }
    features.insert("loop".into(), json!({"defaultValue": 1, "rules": [{"parentConditions": [{"id": "loop", "condition": {}}], "force": 2}]}));
    let p = json!({
        "features": features,
        "savedGroups": {
            "a": {"type": "condition", "condition": {"$savedGroup": {"id": "b"}}},
            "b": {"type": "condition", "condition": {"$savedGroup": {"id": "a"}}}
        }
    });
    let mut p = p;
    p["features"]["grp"] = json!({"defaultValue": "no", "rules": [{"condition": {"$savedGroup": {"id": "a"}}, "force": "yes"}]});
    let fs = FeatureSet::from_value(&p);
    let attrs = Map::new();
    let u = User::new(&attrs);
    assert_eq!(
        fs.eval_feature("f0", &u).source,
        FeatureSource::CyclicPrerequisite
    );
    assert_eq!(fs.eval_feature("f1990", &u).value, &json!("chained"));
    assert_eq!(
        fs.eval_feature("loop", &u).source,
        FeatureSource::CyclicPrerequisite
    );
    assert_eq!(fs.eval_feature("grp", &u).value, &json!("no"));
}

#[test]
fn inline_experiments_tolerate_garbage() {
    let attrs = json!({"id": "1"}).as_object().unwrap().clone();
    let u = User::new(&attrs);
    let fs = FeatureSet::new();
    for e in [
        json!(null),
        json!(5),
        json!({}),
        json!({"key": 5, "variations": [1, 2]}),
        json!({"key": "k", "variations": {"a": 1}}),
        json!({"key": "k", "variations": [1, 2], "force": "x"}),
        json!({"key": "k", "variations": [1, 2], "force": 9}),
    ] {
        let exp = Experiment::from_json(&e);
        let r = fs.run(&exp, &u);
        assert!(!r.in_experiment || exp.invalid_reason().is_none(), "{e}");
        let _ = r.to_json();
    }
}

#[test]
fn a_condition_cut_off_by_the_depth_limit_fails_closed_with_a_warning() {
    // 150 levels of `$and`: the loader cuts the array at depth 100 and leaves a marker, which
    // must disable the rule rather than read as a loose `$and: {}` (an empty list: passes).
    let mut cond = String::from(r#"{"plan": "pro"}"#);
    for _ in 0..150 {
        cond = format!(r#"{{"$and": [{cond}]}}"#);
    }
    let text = format!(
        r#"{{"features": {{"f": {{"defaultValue": 1, "rules": [{{"condition": {cond}, "force": 2}}]}}}},
            "savedGroups": {{"g": {{"type": "condition", "condition": {cond}}}}}}}"#
    );
    let fs = FeatureSet::from_json_str(&text).unwrap();
    let attrs = serde_json::json!({"plan": "pro"});
    let user = User::new(attrs.as_object().unwrap());
    assert_eq!(fs.eval_feature("f", &user).value, &serde_json::json!(1));
    use gb_core::gb_condition::WarningKind as C;
    use gb_core::warning::WarningKind as K;
    let too_deep: Vec<_> = fs
        .warnings()
        .iter()
        .filter(|w| w.kind == K::Condition(C::TooDeep))
        .collect();
    assert_eq!(too_deep.len(), 2, "{:?}", fs.warnings());
    assert_eq!(too_deep[0].feature, None, "the saved group's");
    assert_eq!(too_deep[1].feature.as_deref(), Some("f"));
    assert_eq!(too_deep[1].rule, Some(0));
}

/// Found by the `payload` fuzz target: a sticky bucket names a variation the experiment no
/// longer has (meta lists three keys, variations two). Like JS `getExperimentResult`, the user
/// gets the baseline, is marked not in the experiment, and the exposure is still reported.
#[test]
fn a_sticky_bucket_past_the_last_variation_gives_the_baseline_out_of_the_experiment() {
    use gb_core::sticky::{StickyAssignmentsDocument, StickyBucketDocs};
    use gb_core::{ExperimentResult, FeatureResult, Observer};

    #[derive(Default)]
    struct Viewed(Vec<(bool, usize, bool, usize)>);
    impl<'a> Observer<'a> for Viewed {
        fn on_experiment_viewed(&mut self, e: &'a Experiment, r: &ExperimentResult<'a>) {
            self.0.push((
                r.in_experiment,
                r.variation_id,
                r.sticky_bucket_used,
                e.variations().len(),
            ));
        }
        fn on_feature_usage(&mut self, _key: &str, _result: &FeatureResult<'a>) {}
    }

    let fs = FeatureSet::from_value(&json!({"features": {"exp1": {
        "defaultValue": "control",
        "rules": [{
            "key": "feature-exp", "hashAttribute": "id", "fallbackAttribute": "anonymousId",
            "hashVersion": 2, "variations": ["control", "blue"],
            "meta": [{"key": "0"}, {"key": "1"}, {"key": "2"}],
            "weights": [0.3334, 0.3333, 0.3333]
        }]
    }}}));
    let docs: Vec<StickyAssignmentsDocument> = serde_json::from_value(json!([
        {"attributeName": "anonymousId", "attributeValue": "ses123",
         "assignments": {"feature-exp__0": "2"}}
    ]))
    .unwrap();
    let mut sticky = StickyBucketDocs::from_docs(docs);
    let attrs = json!({"anonymousId": "ses123"});
    let user = User::new(attrs.as_object().unwrap());
    let mut viewed = Viewed::default();
    let r = fs.eval_feature_with("exp1", &user, Some(&mut sticky), &mut viewed);
    assert_eq!(r.value, &json!("control"));
    assert_eq!(r.source, FeatureSource::DefaultValue);
    assert_eq!(viewed.0, vec![(false, 0, true, 2)]);
}

/// Found by the `payload` fuzz target: explicit `ranges` with more entries than variations put
/// a user in a range that names no variation. JS `getExperimentResult` gives the baseline, out
/// of the experiment, and still fires the tracking callback; the rule is then skipped. Checked
/// with the JS SDK 1.8.0 under Node 20: user "a" (bucket 0.5737) is tracked with
/// `inExperiment: false, variationId: 0` and gets the default value; user "b" (0.3519) is in.
#[test]
fn a_range_past_the_last_variation_gives_the_baseline_out_of_the_experiment() {
    use gb_core::{ExperimentResult, FeatureResult, Observer};

    #[derive(Default)]
    struct Viewed(Vec<(bool, usize, Option<f64>)>);
    impl<'a> Observer<'a> for Viewed {
        fn on_experiment_viewed(&mut self, _e: &'a Experiment, r: &ExperimentResult<'a>) {
            self.0.push((r.in_experiment, r.variation_id, r.bucket));
        }
        fn on_feature_usage(&mut self, _key: &str, _result: &FeatureResult<'a>) {}
    }

    let fs = FeatureSet::from_value(&json!({"features": {"f": {
        "defaultValue": 0,
        "rules": [{"key": "", "variations": [0, 1], "hashAttribute": "id", "hashVersion": 2,
                   "ranges": [[0, 0.5], [1.5, 1.5], [0.5, 1.0]]}]
    }}}));
    for (id, source, viewed) in [
        ("a", FeatureSource::DefaultValue, (false, 0, Some(0.5737))),
        ("b", FeatureSource::Experiment, (true, 0, Some(0.3519))),
    ] {
        let attrs = json!({ "id": id });
        let user = User::new(attrs.as_object().unwrap());
        let mut seen = Viewed::default();
        let r = fs.eval_feature_with("f", &user, None, &mut seen);
        assert_eq!(r.value, &json!(0), "{id}");
        assert_eq!(r.source, source, "{id}");
        assert_eq!(seen.0, vec![viewed], "{id}");
    }
}

/// A sticky-bucket document (from a cookie or a store: untrusted) may hold any assignment key.
/// One that starts with the experiment's key followed by a multi-byte character must not be
/// sliced inside that character while `minBucketVersion` looks for blocked versions; like JS
/// (which looks up `<key>__0` .. `<key>__<min - 1>`), such keys block nothing.
#[test]
fn a_sticky_key_with_a_multi_byte_character_after_the_experiment_key_blocks_nothing() {
    use gb_core::sticky::{StickyAssignmentsDocument, StickyBucketDocs};

    let fs = FeatureSet::from_value(&json!({"features": {"f": {
        "defaultValue": "control",
        "rules": [{
            "key": "a", "hashAttribute": "id", "hashVersion": 2, "minBucketVersion": 2,
            "bucketVersion": 2, "variations": ["control", "blue"],
            "meta": [{"key": "0"}, {"key": "1"}]
        }]
    }}}));
    for key in ["a€0", "aé__1", "a_€", "a__€", "a__1€", "a€__1"] {
        let docs: Vec<StickyAssignmentsDocument> = serde_json::from_value(json!([
            {"attributeName": "id", "attributeValue": "u1", "assignments": {key: "1"}}
        ]))
        .unwrap();
        let mut sticky = StickyBucketDocs::from_docs(docs);
        let attrs = json!({"id": "u1"});
        let user = User::new(attrs.as_object().unwrap());
        let r = fs.eval_feature_with("f", &user, Some(&mut sticky), &mut ());
        assert_eq!(r.source, FeatureSource::Experiment, "{key}");
    }
}

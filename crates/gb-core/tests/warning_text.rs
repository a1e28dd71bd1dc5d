//! Every warning sentence, word for word: warnings keep their data and write their text only
//! when displayed, and that text must stay what tools (`gb lint`, `gb explain`) print.

use gb_condition::{Condition, RegexBudget, SavedGroups};
use gb_core::FeatureSet;
use serde_json::{Value, json};

fn nested(open: &str, close: &str, n: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// The conditions, saved groups and payloads below, and the text of each warning they give.
fn all_warnings() -> Vec<String> {
    let mut out = Vec::new();
    let conditions = [
        json!({"$or": "ab"}),
        json!({"$or": null}),
        json!({"$or": {"length": 1}}),
        json!({"$and": 5}),
        json!(5),
        json!({"$not": null}),
        json!({"$not": "ab"}),
        json!({"$not": [1]}),
        json!({"$savedGroup": 5}),
        json!({"$savedGroup": {}}),
        json!({"$savedGroup": {"id": "g", "attributeKey": 5}}),
        json!({"x": {"$elemMatch": null}}),
        json!({"x": {"$elemMatch": 5}}),
        json!({"x": {"$in": 5}}),
        json!({"x": {"$all": 5}}),
        json!({"x": {"$type": 5}}),
        json!({"x": {"$regex": 5}}),
        json!({"x": {"$foo\n\"": 1}}),
        json!({"x": {"$regex": "(\"é"}}),
        json!({"x": {"$regexi": "(?=a)"}}),
        json!({"x": {"$regex": "a{1000}{1000}"}}),
        json!({"$gbTooDeep": 1}),
        serde_json::from_str::<Value>(&nested("{\"$not\":", "}", 70, "{}")).expect("JSON"),
        serde_json::from_str::<Value>(&format!("{{\"x\":{}}}", nested("[", "]", 70, "1")))
            .expect("JSON"),
    ];
    for c in &conditions {
        let mut ws = Vec::new();
        Condition::compile_with_diagnostics(c, &mut ws);
        out.extend(ws.iter().map(|w| format!("{}: {w}", w.kind.as_str())));
    }
    let mut groups = serde_json::Map::new();
    groups.insert("a".into(), json!({"type": "list"}));
    groups.insert("b".into(), json!({"type": "condition"}));
    groups.insert("c\"".into(), json!({"type": "x"}));
    groups.insert("d".into(), json!(5));
    groups.insert(
        "e".into(),
        json!({"type": "condition", "condition": {"$or": 5}}),
    );
    groups.insert(
        "f".into(),
        json!({"type": "condition", "condition": {"$or": {"length": 0}}}),
    );
    for i in 0..12 {
        let id = format!("loop{i:02}");
        let c = json!({"type": "condition", "condition": {"$savedGroup": {"id": id}}});
        groups.insert(id, c);
    }
    for i in 0..40 {
        let c = json!({"type": "condition", "condition": {"$savedGroup": {"id": format!("chain{:02}", i + 1)}}});
        groups.insert(format!("chain{i:02}"), c);
    }
    groups.insert(
        "chain40".into(),
        json!({"type": "condition", "condition": {}}),
    );
    let mut ws = Vec::new();
    SavedGroups::compile_with_diagnostics_and_budget(
        &Value::Object(groups),
        &mut ws,
        &mut RegexBudget::default(),
    );
    SavedGroups::compile_with_diagnostics_and_budget(
        &json!(5),
        &mut ws,
        &mut RegexBudget::default(),
    );
    out.extend(ws.iter().map(|w| format!("{}: {w}", w.kind.as_str())));

    let mut features = serde_json::Map::new();
    features.insert("off".into(), json!(0));
    features.insert("odd\"".into(), json!([1]));
    features.insert("norules".into(), json!({"rules": 5}));
    features.insert(
        "r".into(),
        json!({"rules": [
            5,
            {"condition": {"$or": {"length": 1}}},
            {"force": 1, "coverage": "x"},
            {"force": 1, "range": [1]},
            {"force": 1, "id": 5},
            {"variations": [0, 1], "weights": 5},
            {"force": 1, "filters": 5},
            {"force": 1, "parentConditions": 5},
            {"force": 1, "hashAttribute": 5},
            {"variations": [0, 1], "namespace": [1]},
            {"variations": [0, 1], "urlPatterns": [{"type": "regex", "pattern": "(?=a)"}]},
            {"force": 1, "parentConditions": [{"id": "cyc1", "condition": {"value": true}}]},
        ]}),
    );
    features.insert(
        "cyc1".into(),
        json!({"rules": [{"parentConditions": [{"id": "cyc2", "condition": {}}], "force": 1}]}),
    );
    features.insert(
        "cyc2".into(),
        json!({"rules": [{"parentConditions": [{"id": "cyc1", "condition": {}}], "force": 1}]}),
    );
    for i in 0..80 {
        features.insert(
            format!("deep{i:02}"),
            json!({"rules": [{"parentConditions": [{"id": format!("deep{:02}", i + 1), "condition": {}}], "force": 1}]}),
        );
    }
    let payload = json!({
        "features": features,
        "experiments": [
            {"key": "e\"1", "variations": [0, 1], "coverage": "x", "changes": []},
            {"key": "e2", "variations": [0, 1], "weights": 5, "filters": 5},
            {"key": "e3", "variations": [0, 1], "urlPatterns": [{"type": "regex", "pattern": "a{1000}{1000}{1000}"}]},
        ],
    });
    let fs = FeatureSet::from_json_str(&payload.to_string()).expect("payload");
    out.extend(
        fs.warnings()
            .iter()
            .map(|w| format!("{}: {w}", w.kind.as_str())),
    );
    let fs = FeatureSet::from_json_str(r#"{"features": 5}"#).expect("payload");
    out.extend(
        fs.warnings()
            .iter()
            .map(|w| format!("{}: {w}", w.kind.as_str())),
    );
    out
}

/// What the loader said before warnings became structured (the text built eagerly with
/// `format!`), for the inputs above.
#[test]
fn warning_text_is_unchanged() {
    let want: Vec<&str> = [
        &["loose-shape: $or holds a string, not an array of conditions; JS evaluates it character by character"][..],
        &["js-throws: $or is null, which the JS SDK throws on; the condition fails closed when it is reached"][..],
        &["js-throws: condition disabled: $or is an object with a length key, which JS indexes as a list; the condition fails closed"][..],
        &["loose-shape: $and needs an array of conditions, not a number; JS treats it as an empty list"][..],
        &["loose-shape: a condition must be an object, not a number; JS lets everyone pass"][..],
        &["js-throws: a condition is null, which the JS SDK throws on; the condition fails closed when it is reached"][..],
        &["loose-shape: a condition is a string; JS compares attributes \"0\", \"1\", ... to its characters"][..],
        &["loose-shape: a condition is an array; JS tests attributes \"0\", \"1\", ... against its elements"][..],
        &["saved-group: $savedGroup needs an object reference"][..],
        &["saved-group: $savedGroup reference without a string id"][..],
        &["saved-group: $savedGroup attributeKey must be a string"][..],
        &["js-throws: $elemMatch is null, which the JS SDK throws on for arrays; the condition then fails closed"][..],
        &["loose-shape: $elemMatch needs an object, not a number; JS tests it as a condition on each element"][..],
        &["bad-argument: $in needs an array; it evaluates to false"][..],
        &["bad-argument: $all needs an array; it evaluates to false"][..],
        &["bad-argument: $type needs a string; it evaluates to false"][..],
        &["bad-argument: $regex needs a string pattern; it evaluates to false"][..],
        &["unknown-operator: $foo\n\" is not a known operator; it evaluates to false"][..],
        #[cfg(feature = "regex")]
        &["invalid-regex: $regex pattern \"(\\\"é\" is not a valid pattern: unterminated group; it evaluates to false", "fail-closed-regex: condition disabled: $regexi \"(?=a)\" uses lookaround, which cannot run in linear time", "invalid-regex: $regex pattern \"a{1000}{1000}\" is not a valid pattern: nothing to repeat; it evaluates to false"][..],
        #[cfg(not(feature = "regex"))]
        &["regex-disabled: condition disabled: $regex \"(\\\"é\" was not compiled: this build has no regex engine", "regex-disabled: condition disabled: $regexi \"(?=a)\" was not compiled: this build has no regex engine", "regex-disabled: condition disabled: $regex \"a{1000}{1000}\" was not compiled: this build has no regex engine"][..],
        &["too-deep: condition disabled: condition nested too deeply to parse"][..],
        &["too-deep: condition disabled: condition nested deeper than 64 levels"][..],
        &["too-deep: condition disabled: a literal value nests deeper than 64 levels"][..],
        &["saved-group: saved group \"a\": list without values"][..],
        &["saved-group: saved group \"b\": condition group without a condition"][..],
        &["saved-group: saved group \"c\\\"\": unknown type"][..],
        &["saved-group: saved group \"d\": malformed entry"][..],
        &["loose-shape: saved group \"e\": $or needs an array of conditions, not a number; JS treats it as an empty list"][..],
        &["js-throws: saved group \"f\": condition disabled: $or is an object with a length key, which JS indexes as a list; the condition fails closed"][..],
        &["saved-group: saved group \"chain00\": its $savedGroup references chain 41 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain01\": its $savedGroup references chain 40 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain02\": its $savedGroup references chain 39 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain03\": its $savedGroup references chain 38 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain04\": its $savedGroup references chain 37 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain05\": its $savedGroup references chain 36 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain06\": its $savedGroup references chain 35 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain07\": its $savedGroup references chain 34 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"chain08\": its $savedGroup references chain 33 groups deep (the limit is 32); it matches nobody"][..],
        &["saved-group: saved group \"loop00\": its $savedGroup references loop; it matches nobody"][..],
        &["saved-group: 11 more saved groups disabled for looping or too long reference chains"][..],
        &["saved-group: savedGroups must be an object; ignored"][..],
        &["feature-disabled: feature \"off\" disabled: its definition is not an object"][..],
        &["feature-not-object: feature \"odd\\\"\": its definition is not an object; JS evaluates it to null"][..],
        &["rules-not-array: feature \"norules\": rules must be an array; rules ignored"][..],
        &["rule-disabled: feature \"r\" rule 0 disabled: a rule must be an object"][..],
        &["js-throws: condition disabled: $or is an object with a length key, which JS indexes as a list; the condition fails closed"][..],
        &["condition-disabled: feature \"r\": a rule's condition cannot be compiled; the rule matches nobody"][..],
        &["rule-disabled: feature \"r\" rule 2 disabled: coverage must be a number"][..],
        &["rule-disabled: feature \"r\" rule 3 disabled: range must be [start, end]"][..],
        &["experiment-disabled: experiment \"r\" disabled: weights must be an array of numbers"][..],
        &["rule-disabled: feature \"r\" rule 5 disabled: weights must be an array of numbers"][..],
        &["rule-disabled: feature \"r\" rule 6 disabled: filters must be an array"][..],
        &["rule-disabled: feature \"r\" rule 7 disabled: parentConditions must be an array"][..],
        &["rule-disabled: feature \"r\" rule 8 disabled: hashAttribute must be a string"][..],
        &["experiment-disabled: experiment \"r\" disabled: namespace must be [id, start, end]"][..],
        &["rule-disabled: feature \"r\" rule 9 disabled: namespace must be [id, start, end]"][..],
        &["prerequisite-cycle: the prerequisites of feature \"cyc2\" form a cycle through \"cyc1\"; features depending on them evaluate to null (cyclicPrerequisite)"][..],
        &["prerequisites-too-deep: the prerequisites of feature \"deep00\" chain 80 deep (16 features in all chain deeper than 64); evaluation stops at that depth (cyclicPrerequisite)"][..],
        &["experiment-disabled: experiment \"e\\\"1\" disabled: coverage must be a number"][..],
        &["experiment-disabled: experiment \"e2\" disabled: weights must be an array of numbers; filters must be an array"][..],
        #[cfg(not(feature = "regex"))]
        &["url-pattern: urlPatterns regex \"a{1000}{1000}{1000}\" was not compiled: this build has no regex engine; the experiment targets no URL"][..],
        &["features-not-object: features must be an object; no feature loaded"][..],
    ]
    .concat();
    assert_eq!(all_warnings(), want);
}

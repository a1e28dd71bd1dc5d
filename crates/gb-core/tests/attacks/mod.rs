//! Hostile payloads from issue 17, built at any size: shared by the pathological-input tests
//! and the `pathological` benches (which include this file by path).
#![allow(dead_code, reason = "each user builds some of the attacks")]

use serde_json::{Map, Value, json};

/// Feature `f{i}` is gated twice on `f{i+1}` (one rule, two parent conditions); the last is on.
/// Without memory of prerequisite results, `f0` costs `2^depth` evaluations.
pub(crate) fn prerequisite_dag(depth: usize) -> Value {
    let mut features = Map::new();
    for i in 0..depth {
        let def = if i + 1 == depth {
            json!({"defaultValue": true})
        } else {
            let next = format!("f{}", i + 1);
            json!({"defaultValue": false, "rules": [{"force": true, "parentConditions": [
                {"id": next, "condition": {"value": true}},
                {"id": next, "condition": {"value": true}}
            ]}]})
        };
        features.insert(format!("f{i}"), def);
    }
    features.insert("plain".into(), json!({"defaultValue": "works"}));
    json!({ "features": features })
}

/// [`prerequisite_dag`], with a rule on the last feature that is never reached (a force rule
/// before it always applies) but gates on `f0`: the graph has a cycle, so no result may be
/// remembered and only the work budget stops `2^depth` evaluations.
pub(crate) fn prerequisite_dag_with_dead_cycle(depth: usize) -> Value {
    let mut p = prerequisite_dag(depth);
    p["features"][format!("f{}", depth - 1)] = json!({"defaultValue": false, "rules": [
        {"force": true},
        {"force": false, "parentConditions": [{"id": "f0", "condition": {"value": true}}]}
    ]});
    p
}

/// Feature `f{i}` has two experiment rules, each needing `f{i+1}` to be on, and the last is off:
/// every level evaluates the next one twice and nothing short-circuits.
pub(crate) fn experiment_prerequisite_dag(depth: usize) -> Value {
    let mut features = Map::new();
    for i in 0..depth {
        let next = format!("f{}", i + 1);
        let rule = |k: &str| {
            json!({"key": format!("e{i}{k}"), "variations": [false, true], "hashVersion": 2,
                   "parentConditions": [{"id": next, "condition": {"value": true}}]})
        };
        let def = if i + 1 == depth {
            json!({"defaultValue": false})
        } else {
            json!({"defaultValue": false, "rules": [rule("a"), rule("b")]})
        };
        features.insert(format!("f{i}"), def);
    }
    features.insert("plain".into(), json!({"defaultValue": "works"}));
    json!({ "features": features })
}

/// Saved group `g{i}` references `g{i+1}` twice; the last matches `country: US`. Feature
/// `grouped` is on for members of `g0`.
pub(crate) fn saved_group_dag(depth: usize) -> Value {
    let mut groups = Map::new();
    for i in 0..depth {
        let cond = if i + 1 == depth {
            json!({"country": "US"})
        } else {
            let next = format!("g{}", i + 1);
            json!({"$and": [{"$savedGroup": {"id": next}}, {"$savedGroup": {"id": next}}]})
        };
        groups.insert(
            format!("g{i}"),
            json!({"type": "condition", "condition": cond}),
        );
    }
    json!({
        "savedGroups": groups,
        "features": {
            "grouped": {"defaultValue": false, "rules": [
                {"condition": {"$savedGroup": {"id": "g0"}}, "force": true}
            ]},
            "plain": {"defaultValue": "works"}
        }
    })
}

/// `$all` of `n` strings (`"v0"`..) on feature `all`, and `$in` of `n` nonzero numbers on
/// feature `in`.
pub(crate) fn large_sets(n: usize) -> Value {
    let strings: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
    let numbers: Vec<usize> = (1..=n).collect();
    json!({"features": {
        "all": {"defaultValue": false, "rules": [
            {"condition": {"tags": {"$all": strings}}, "force": true}
        ]},
        "in": {"defaultValue": false, "rules": [
            {"condition": {"scores": {"$in": numbers}}, "force": true}
        ]},
        "plain": {"defaultValue": "works"}
    }})
}

/// Attributes for [`large_sets`]: all `n` tags (in reverse order) and `n` zero scores.
pub(crate) fn large_set_attributes(n: usize) -> Map<String, Value> {
    let tags: Vec<String> = (0..n).rev().map(|i| format!("v{i}")).collect();
    let mut m = Map::new();
    m.insert("id".into(), "u1".into());
    m.insert("tags".into(), json!(tags));
    m.insert("scores".into(), json!(vec![0; n]));
    m
}

/// A plain JSON object nested `depth` levels (`{"a": {"a": ... 1}}`), built without recursion.
pub(crate) fn nested_object(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        let mut m = Map::new();
        m.insert("a".into(), v);
        v = Value::Object(m);
    }
    v
}

/// An array nested `depth` levels (`[[... "a"]]`), built without recursion.
pub(crate) fn nested_array(depth: usize) -> Value {
    let mut v = json!("a");
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

/// Drops a value of any depth without recursion (dropping a deep `Value` recurses).
pub(crate) fn drop_flat(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, e)| e)),
            _ => {}
        }
    }
}

/// A payload whose rule condition compares `literal` (a plain object nested `depth` levels) and
/// whose default value nests as deep, next to an ordinary feature.
pub(crate) fn deep_literal_payload(depth: usize) -> Value {
    let mut features = Map::new();
    let mut rule = Map::new();
    let mut cond = Map::new();
    cond.insert("profile".into(), nested_object(depth));
    rule.insert("condition".into(), Value::Object(cond));
    rule.insert("force".into(), json!(true));
    let mut deep = Map::new();
    deep.insert("defaultValue".into(), nested_array(depth));
    // Not `json!`: it copies expressions by serializing them, recursively.
    deep.insert("rules".into(), Value::Array(vec![Value::Object(rule)]));
    features.insert("deep".into(), Value::Object(deep));
    features.insert("plain".into(), json!({"defaultValue": "works"}));
    let mut payload = Map::new();
    payload.insert("features".into(), Value::Object(features));
    Value::Object(payload)
}

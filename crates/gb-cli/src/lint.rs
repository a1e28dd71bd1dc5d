//! `gb lint`: the structured warnings of a payload, for people who write payloads by hand.
//!
//! Every condition (rules, prerequisites, experiments, saved groups, bandit contexts) is
//! compiled with `gb-condition`'s diagnostics: loose shapes evaluated as the JS SDK does,
//! shapes the JS SDK throws on, fail-closed regexes, unknown operators. On top of those:
//! prerequisite cycles, rules no user can reach, and gb-core's own load warnings (rules it
//! disabled).

use std::io::Write;

use gb_core::gb_condition::is_truthy;
use gb_core::gb_condition::{Condition, Warning};
use gb_core::warning::WarningKind;
use serde_json::{Map, Value, json};

use crate::LintArgs;
use crate::input::load_payload;

/// One finding: what, where, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// A short stable kind (`loose-shape`, `cycle`, `unreachable-rule`, ...).
    pub(crate) kind: &'static str,
    /// Where in the payload (`feature "f" rule 2 condition`).
    pub(crate) location: String,
    /// What is wrong and what evaluation does about it.
    pub(crate) message: String,
}

/// Runs `gb lint`; the exit status is 1 when there are findings.
pub(crate) fn run(a: &LintArgs, out: &mut impl Write) -> Result<bool, crate::Failure> {
    let loaded = load_payload(&a.payload, a.decryption_key.as_deref())?;
    let findings = lint(&loaded.json, loaded.set.warnings());
    if a.json {
        let list: Vec<Value> = findings
            .iter()
            .map(|f| json!({"kind": f.kind, "location": f.location, "message": f.message}))
            .collect();
        writeln!(out, "{}", Value::Array(list))?;
    } else {
        for f in &findings {
            writeln!(out, "{:<18} {}: {}", f.kind, f.location, f.message)?;
        }
        writeln!(out, "{} finding(s)", findings.len())?;
    }
    Ok(findings.is_empty())
}

/// All findings of a payload; `load_warnings` are gb-core's (`FeatureSet::warnings`).
pub(crate) fn lint(payload: &Value, load_warnings: &[gb_core::Warning]) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = Map::new();
    let features = payload["features"].as_object().unwrap_or(&empty);
    for (key, def) in features {
        let Some(rules) = def.get("rules").and_then(Value::as_array) else {
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("feature {key:?} rule {i}");
            if let Some(c) = rule.get("condition").filter(|c| is_truthy(c)) {
                condition(&mut out, &format!("{at} condition"), c);
            }
            if let Some(pcs) = rule.get("parentConditions").and_then(Value::as_array) {
                for (j, pc) in pcs.iter().enumerate() {
                    if let Some(c) = pc.get("condition").filter(|c| is_truthy(c)) {
                        condition(&mut out, &format!("{at} prerequisite {j}"), c);
                    }
                }
            }
        }
        unreachable_rules(&mut out, key, rules);
    }
    cycles(&mut out, features);
    if let Some(exps) = payload["experiments"].as_array() {
        for (i, e) in exps.iter().enumerate() {
            if let Some(c) = e.get("condition").filter(|c| is_truthy(c)) {
                condition(&mut out, &format!("experiment {i} condition"), c);
            }
        }
    }
    if let Some(groups) = payload["savedGroups"].as_object() {
        for (id, g) in groups {
            if g["type"] == "condition"
                && let Some(c) = g.get("condition").filter(|c| c.is_object() || c.is_array())
            {
                condition(&mut out, &format!("saved group {id:?}"), c);
            }
        }
    }
    if let Some(bandits) = payload["contextualBandits"].as_object() {
        for (id, b) in bandits {
            if let Some(ctxs) = b["contexts"].as_array() {
                for (i, c) in ctxs.iter().enumerate() {
                    if let Some(c) = c.get("condition").filter(|c| is_truthy(c)) {
                        condition(&mut out, &format!("bandit {id:?} context {i}"), c);
                    }
                }
            }
        }
    }
    // gb-core's own findings; its condition warnings are the ones listed above.
    for w in load_warnings {
        if matches!(w.kind, WarningKind::Condition(_)) {
            continue;
        }
        let location = match (&w.feature, w.rule) {
            (Some(f), Some(i)) => format!("feature {f:?} rule {i}"),
            (Some(f), None) => format!("feature {f:?}"),
            (None, _) => "payload".into(),
        };
        out.push(Finding {
            kind: "disabled",
            location,
            message: w.to_string(),
        });
    }
    out
}

fn condition(out: &mut Vec<Finding>, location: &str, c: &Value) {
    let mut ws: Vec<Warning> = Vec::new();
    Condition::compile_with_diagnostics(c, &mut ws);
    out.extend(ws.into_iter().map(|w| Finding {
        kind: w.kind.as_str(),
        location: location.into(),
        message: w.message(),
    }));
}

/// A rule after one that applies to everyone (a force rule with no condition, prerequisite,
/// filter, range or coverage) can never be reached.
fn unreachable_rules(out: &mut Vec<Finding>, key: &str, rules: &[Value]) {
    let always = |r: &Value| {
        r.get("force").is_some()
            && [
                "condition",
                "parentConditions",
                "filters",
                "range",
                "coverage",
            ]
            .iter()
            .all(|k| {
                r.get(*k)
                    .is_none_or(|v| v.is_null() || (*k == "condition" && !is_truthy(v)))
            })
    };
    if let Some(first) = rules.iter().position(always) {
        for i in first + 1..rules.len() {
            out.push(Finding {
                kind: "unreachable-rule",
                location: format!("feature {key:?} rule {i}"),
                message: format!(
                    "rule {first} forces a value for every user; this rule is never evaluated"
                ),
            });
        }
    }
}

/// Prerequisite cycles (evaluation answers `cyclicPrerequisite` on them).
fn cycles(out: &mut Vec<Finding>, features: &Map<String, Value>) {
    let parents = |k: &str| -> Vec<String> {
        let mut ps = Vec::new();
        if let Some(rules) = features.get(k).and_then(|d| d["rules"].as_array()) {
            for r in rules {
                if let Some(pcs) = r["parentConditions"].as_array() {
                    ps.extend(
                        pcs.iter()
                            .filter_map(|p| p["id"].as_str().map(String::from)),
                    );
                }
            }
        }
        ps
    };
    // Iterative DFS with colours; every cycle is reported once, from its first key.
    let mut colour: std::collections::HashMap<&str, u8> = std::collections::HashMap::new();
    for start in features.keys() {
        if colour.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), parents(start))];
        let mut path: Vec<String> = vec![start.clone()];
        colour.insert(start.as_str(), 1);
        while let Some((_, next)) = stack.last_mut() {
            match next.pop() {
                Some(p) => {
                    let Some((pk, _)) = features.get_key_value(&p) else {
                        continue;
                    };
                    match colour.get(pk.as_str()) {
                        Some(1) => {
                            let from = path.iter().position(|x| x == &p).unwrap_or(0);
                            let mut cyc = path[from..].to_vec();
                            cyc.push(p.clone());
                            out.push(Finding {
                                kind: "cycle",
                                location: format!("feature {:?}", cyc[0]),
                                message: format!(
                                    "prerequisites form a cycle ({}); these features evaluate to null (cyclicPrerequisite)",
                                    cyc.join(" -> ")
                                ),
                            });
                        }
                        Some(_) => {}
                        None => {
                            colour.insert(pk.as_str(), 1);
                            path.push(p.clone());
                            let ps = parents(&p);
                            stack.push((p, ps));
                        }
                    }
                }
                None => {
                    if let Some((done, _)) = stack.pop() {
                        if let Some((dk, _)) = features.get_key_value(&done) {
                            colour.insert(dk.as_str(), 2);
                        }
                        path.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(p: Value) -> Vec<(&'static str, String)> {
        lint(&p, &[])
            .into_iter()
            .map(|f| (f.kind, f.location))
            .collect()
    }

    #[test]
    fn reports_loose_shapes_regexes_operators_cycles_and_unreachable_rules() {
        let p = json!({"features": {
            "a": {"rules": [
                {"condition": {"t": {"$elemMatch": 5}}, "force": 1},
                {"condition": {"n": {"$regex": "a(?=b)"}}, "force": 2},
                {"condition": {"n": {"$foo": 1}}, "force": 3},
                {"force": 4},
                {"force": 5, "parentConditions": [{"id": "b"}]}
            ]},
            "b": {"rules": [{"force": 1, "parentConditions": [{"id": "a"}]}]}
        }});
        let k = kinds(p);
        assert!(
            k.contains(&("loose-shape", "feature \"a\" rule 0 condition".into())),
            "{k:?}"
        );
        assert!(
            k.contains(&("fail-closed-regex", "feature \"a\" rule 1 condition".into())),
            "{k:?}"
        );
        assert!(
            k.contains(&("unknown-operator", "feature \"a\" rule 2 condition".into())),
            "{k:?}"
        );
        assert!(
            k.contains(&("unreachable-rule", "feature \"a\" rule 4".into())),
            "{k:?}"
        );
        assert_eq!(
            k.iter().filter(|(kind, _)| *kind == "cycle").count(),
            1,
            "{k:?}"
        );
    }

    #[test]
    fn a_clean_payload_has_no_findings() {
        let p = json!({"features": {"a": {"defaultValue": 1, "rules": [
            {"condition": {"country": {"$in": ["US"]}}, "force": 2}
        ]}}});
        assert!(lint(&p, &[]).is_empty());
    }
}

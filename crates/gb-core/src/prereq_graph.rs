//! The prerequisite graph of a payload, analysed once at load.
//!
//! Each feature gets the height of the prerequisites below it (the longest chain of
//! `parentConditions` it can reach), or `None` when a cycle is reachable. Evaluation remembers
//! a prerequisite's result only when that result cannot depend on the path that reached it:
//! no cycle below it and its whole chain within
//! [`MAX_PREREQUISITE_DEPTH`](crate::MAX_PREREQUISITE_DEPTH) from where it is evaluated. The
//! graph is over-approximated (every rule's parents, whatever the user), so this is safe.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use hashbrown::HashMap;

use crate::experiment::ParentCondition;
use crate::feature::{Feature, RuleKind};

/// The parents every rule of `f` may evaluate.
fn parents_of(f: &Feature) -> impl Iterator<Item = &ParentCondition> {
    f.rules.iter().flat_map(|r| {
        let exps: Vec<&crate::experiment::Experiment> = match &r.kind {
            RuleKind::Experiment(e) => vec![&**e],
            RuleKind::Bandit { leaves, fallback } => leaves
                .iter()
                .map(|(_, e)| &**e)
                .chain(core::iter::once(&**fallback))
                .collect(),
            RuleKind::Force(_) | RuleKind::Skip => Vec::new(),
        };
        r.parents.iter().flatten().chain(
            exps.into_iter()
                .flat_map(|e| e.parent_conditions.iter().flatten()),
        )
    })
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    New,
    Open,
    Done(Option<u32>),
}

/// Sets every feature's `prereq_height`; warns once per cycle found (at most 10 warnings).
pub(crate) fn annotate(features: &mut HashMap<String, Feature>, warnings: &mut Vec<String>) {
    let heights = heights(features, warnings);
    // A map that has not changed iterates in the same order every time.
    for (f, h) in features.values_mut().zip(heights) {
        f.prereq_height = h;
    }
}

/// The heights, in the map's iteration order.
fn heights(features: &HashMap<String, Feature>, warnings: &mut Vec<String>) -> Vec<Option<u32>> {
    let keys: Vec<&str> = features.keys().map(String::as_str).collect();
    let index: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    // Children by index; an unknown parent is a leaf and needs no node.
    let children: Vec<Vec<usize>> = keys
        .iter()
        .map(|k| {
            let f = &features[*k];
            let mut c: Vec<usize> = parents_of(f)
                .filter_map(|p| index.get(p.id.as_str()).copied())
                .collect();
            c.sort_unstable();
            c.dedup();
            c
        })
        .collect();
    let has_parents: Vec<bool> = keys
        .iter()
        .map(|k| parents_of(&features[*k]).next().is_some())
        .collect();
    let mut state = vec![State::New; keys.len()];
    let mut cycles: Vec<String> = Vec::new();
    // Iterative depth-first search: (node, next child to visit, height so far).
    let mut stack: Vec<(usize, usize, Option<u32>)> = Vec::new();
    for root in 0..keys.len() {
        if state[root] != State::New {
            continue;
        }
        state[root] = State::Open;
        stack.push((root, 0, Some(u32::from(has_parents[root]))));
        while let Some(top) = stack.last_mut() {
            let (node, next, height) = *top;
            if let Some(&child) = children[node].get(next) {
                top.1 += 1;
                match state[child] {
                    State::New => {
                        state[child] = State::Open;
                        stack.push((child, 0, Some(u32::from(has_parents[child]))));
                    }
                    State::Open => {
                        top.2 = None;
                        if cycles.len() < 10 {
                            cycles.push(format!(
                                "the prerequisites of feature {:?} form a cycle through {:?}; \
                                 features depending on them evaluate to null (cyclicPrerequisite)",
                                keys[node], keys[child]
                            ));
                        }
                    }
                    State::Done(h) => {
                        top.2 = match (height, h) {
                            (Some(a), Some(b)) => Some(a.max(b.saturating_add(1))),
                            _ => None,
                        };
                    }
                }
                continue;
            }
            state[node] = State::Done(height);
            stack.pop();
            if let Some(parent) = stack.last_mut() {
                parent.2 = match (parent.2, height) {
                    (Some(a), Some(b)) => Some(a.max(b.saturating_add(1))),
                    _ => None,
                };
            }
        }
    }
    let heights: Vec<Option<u32>> = state
        .into_iter()
        .map(|s| match s {
            State::Done(h) => h,
            State::New | State::Open => None,
        })
        .collect();
    warnings.extend(cycles);
    let limit = crate::MAX_PREREQUISITE_DEPTH as u32;
    let mut too_deep = heights
        .iter()
        .zip(&keys)
        .filter(|(h, _)| h.is_some_and(|h| h > limit));
    if let Some((h, k)) = too_deep.next() {
        warnings.push(format!(
            "the prerequisites of feature {k:?} chain {} deep ({} features in all chain deeper than \
             {limit}); evaluation stops at that depth (cyclicPrerequisite)",
            h.unwrap_or(0),
            1 + too_deep.count()
        ));
    }
    heights
}

#[cfg(test)]
mod tests {
    use crate::FeatureSet;
    use serde_json::json;

    fn heights(
        payload: serde_json::Value,
    ) -> alloc::vec::Vec<(alloc::string::String, Option<u32>)> {
        let fs = FeatureSet::from_value(&payload);
        let mut v: alloc::vec::Vec<_> = fs
            .features
            .iter()
            .map(|(k, f)| (k.clone(), f.prereq_height))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn heights_count_the_longest_chain_and_cycles_have_none() {
        let gate = |id: &str| json!({"parentConditions": [{"id": id, "condition": {"value": true}}], "force": true});
        let h = heights(json!({"features": {
            "a": {"defaultValue": 1, "rules": [gate("b"), gate("c")]},
            "b": {"defaultValue": 1, "rules": [gate("c")]},
            "c": {"defaultValue": 1},
            "d": {"defaultValue": 1, "rules": [{"key": "e", "variations": [0, 1],
                "parentConditions": [{"id": "a", "condition": {"value": 1}}]}]},
            "x": {"defaultValue": 1, "rules": [gate("y")]},
            "y": {"defaultValue": 1, "rules": [gate("x")]},
            "z": {"defaultValue": 1, "rules": [gate("x")]},
            "u": {"defaultValue": 1, "rules": [gate("unknown")]}
        }}));
        let want = [
            ("a", Some(2)),
            ("b", Some(1)),
            ("c", Some(0)),
            ("d", Some(3)),
            ("u", Some(1)),
            ("x", None),
            ("y", None),
            ("z", None),
        ];
        for ((k, got), (wk, wh)) in h.iter().zip(want) {
            assert_eq!((k.as_str(), *got), (wk, wh));
        }
    }
}

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
use alloc::vec::Vec;

use gb_condition::graph::chain_heights;
use hashbrown::HashMap;

use crate::experiment::ParentCondition;
use crate::feature::{Feature, RuleKind};

/// The parents every rule of `f` may evaluate.
fn parents_of(f: &Feature) -> impl Iterator<Item = &ParentCondition> {
    f.rules.iter().flat_map(|r| {
        let exps: Vec<&crate::experiment::Experiment> = match &r.kind {
            RuleKind::Experiment(e) => alloc::vec![&**e],
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

/// Sets every feature's `prereq_height`; warns about cycles (at most 10 warnings) and chains
/// deeper than [`MAX_PREREQUISITE_DEPTH`](crate::MAX_PREREQUISITE_DEPTH).
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
    let mut children = Vec::with_capacity(keys.len());
    // An unknown parent is a leaf: it needs no node, but it is one level down.
    let mut leaf_edge = Vec::with_capacity(keys.len());
    for f in features.values() {
        let mut c: Vec<usize> = Vec::new();
        let mut leaf = false;
        for p in parents_of(f) {
            match index.get(p.id.as_str()) {
                Some(&i) => c.push(i),
                None => leaf = true,
            }
        }
        c.sort_unstable();
        c.dedup();
        children.push(c);
        leaf_edge.push(leaf);
    }
    let graph = chain_heights(&children, &leaf_edge);
    for (from, to) in graph.cycles.iter().take(10) {
        warnings.push(format!(
            "the prerequisites of feature {:?} form a cycle through {:?}; features depending \
             on them evaluate to null (cyclicPrerequisite)",
            keys[*from], keys[*to]
        ));
    }
    let limit = crate::MAX_PREREQUISITE_DEPTH as u32;
    let too_deep = || {
        graph
            .heights
            .iter()
            .zip(&keys)
            .filter_map(|(h, k)| Some((h.filter(|h| *h > limit)?, k)))
    };
    if let Some((h, k)) = too_deep().max_by_key(|(h, _)| *h) {
        warnings.push(format!(
            "the prerequisites of feature {k:?} chain {h} deep ({} features in all chain deeper \
             than {limit}); evaluation stops at that depth (cyclicPrerequisite)",
            too_deep().count()
        ));
    }
    graph.heights
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

//! The prerequisite graph of a payload, analysed once at load.
//!
//! Each feature gets the height of the prerequisites below it (the longest chain of
//! `parentConditions` it can reach), or `None` when a cycle is reachable. Evaluation remembers
//! a prerequisite's result only when that result cannot depend on the path that reached it:
//! no cycle below it and its whole chain within [`MAX_PREREQUISITE_DEPTH`] from where it is
//! evaluated. The graph is over-approximated (every rule's parents, whatever the user), so
//! this is safe.

use alloc::vec::Vec;

use gb_condition::graph::chain_heights;

use crate::compiling::Compiling;
use crate::warning::{Detail, WarningKind};

/// How long a chain of prerequisites may be before it is treated as a cycle.
pub const MAX_PREREQUISITE_DEPTH: usize = 64;

/// The heights of the features `keys`, where `parents[i]` are the ids feature `i` may gate on
/// and `position` finds a key's index in `keys` (unknown ids are leaves). Warns about cycles (at most 10 warnings) and chains deeper than
/// [`MAX_PREREQUISITE_DEPTH`].
pub(crate) fn heights(
    keys: &[&str],
    parents: &[Vec<&str>],
    position: &dyn Fn(&str) -> Option<usize>,
    warnings: &mut Compiling,
) -> Vec<Option<u32>> {
    let mut children = Vec::with_capacity(keys.len());
    // An unknown parent is a leaf: it needs no node, but it is one level down.
    let mut leaf_edge = Vec::with_capacity(keys.len());
    for ps in parents {
        let mut c: Vec<usize> = Vec::new();
        let mut leaf = false;
        for p in ps {
            match position(p) {
                Some(i) => c.push(i),
                None => leaf = true,
            }
        }
        gb_condition::sort::sort_unstable_by(&mut c, |a, b| a < b);
        c.dedup();
        children.push(c);
        leaf_edge.push(leaf);
    }
    let graph = chain_heights(&children, &leaf_edge);
    for (from, to) in graph.cycles.iter().take(10) {
        warnings.at(Some(keys[*from]), None);
        warnings.warn(
            WarningKind::PrerequisiteCycle,
            Detail::Cycle(keys[*from].into(), keys[*to].into()),
        );
    }
    let limit = MAX_PREREQUISITE_DEPTH as u32;
    let too_deep = || {
        graph
            .heights
            .iter()
            .zip(keys)
            .filter_map(|(h, k)| Some((h.filter(|h| *h > limit)?, k)))
    };
    if let Some((h, k)) = too_deep().max_by_key(|(h, _)| *h) {
        warnings.at(Some(k), None);
        warnings.warn(
            WarningKind::PrerequisitesTooDeep,
            Detail::TooDeep {
                key: (*k).into(),
                height: h,
                count: too_deep().count(),
                limit,
            },
        );
    }
    warnings.at(None, None);
    graph.heights
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn heights_count_the_longest_chain_and_cycles_have_none() {
        let keys = ["a", "b", "c", "x", "y", "z", "u"];
        let parents = [
            vec!["b", "c"],
            vec!["c"],
            vec![],
            vec!["y"],
            vec!["x"],
            vec!["x"],
            vec!["unknown"],
        ];
        let mut w = Compiling::default();
        let h = heights(
            &keys,
            &parents,
            &|k| keys.iter().position(|x| *x == k),
            &mut w,
        );
        assert_eq!(h, [Some(2), Some(1), Some(0), None, None, None, Some(1)]);
        assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
        assert_eq!(w.warnings[0].kind, WarningKind::PrerequisiteCycle);
        assert!(w.warnings[0].message().contains("form a cycle"));
    }
}

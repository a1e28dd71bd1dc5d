//! Longest reference chains in a graph that may loop: how saved groups reference saved groups
//! (and, in `gb-core`, how features gate on features), analysed once at load so evaluation
//! can rely on chains being short and acyclic.

use alloc::vec;
use alloc::vec::Vec;

/// The chain heights of a graph, and where it loops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHeights {
    /// Per node: the longest chain of edges below it (0 for a node without edges), or `None`
    /// when a cycle is reachable from it.
    pub heights: Vec<Option<u32>>,
    /// Edges `(from, to)` that close a cycle, as found (at most one per node).
    pub cycles: Vec<(usize, usize)>,
}

/// Chain heights of the graph whose node `i` has edges to `children[i]` (indices into
/// `children`; out-of-range indices are ignored). `leaf_edge[i]` says node `i` also has an
/// edge to a node outside the graph (a leaf), so its height is at least 1.
///
/// Iterative depth-first search: linear in nodes plus edges, no recursion.
pub fn chain_heights(children: &[Vec<usize>], leaf_edge: &[bool]) -> ChainHeights {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done(Option<u32>),
    }
    let n = children.len();
    let base = |i: usize| Some(u32::from(leaf_edge.get(i).copied().unwrap_or(false)));
    let above = |a: Option<u32>, child: Option<u32>| match (a, child) {
        (Some(a), Some(c)) => Some(a.max(c.saturating_add(1))),
        _ => None,
    };
    let mut state = vec![State::New; n];
    let mut cycles = Vec::new();
    // (node, next child to visit, height so far)
    let mut stack: Vec<(usize, usize, Option<u32>)> = Vec::new();
    for root in 0..n {
        if state[root] != State::New {
            continue;
        }
        state[root] = State::Open;
        stack.push((root, 0, base(root)));
        while let Some(top) = stack.last_mut() {
            let (node, next, height) = *top;
            if let Some(&child) = children[node].get(next) {
                top.1 += 1;
                match state.get(child).copied() {
                    None => {}
                    Some(State::New) => {
                        state[child] = State::Open;
                        stack.push((child, 0, base(child)));
                    }
                    Some(State::Open) => {
                        top.2 = None;
                        if height.is_some() {
                            cycles.push((node, child));
                        }
                    }
                    Some(State::Done(h)) => top.2 = above(height, h),
                }
                continue;
            }
            state[node] = State::Done(height);
            stack.pop();
            if let Some(parent) = stack.last_mut() {
                parent.2 = above(parent.2, height);
            }
        }
    }
    let heights = state
        .into_iter()
        .map(|s| match s {
            State::Done(h) => h,
            State::New | State::Open => None,
        })
        .collect();
    ChainHeights { heights, cycles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_and_cycles() {
        // 0 -> 1 -> 2, 0 -> 2, 3 <-> 4, 5 -> 3, 6 -> leaf
        let children = vec![
            vec![1, 2],
            vec![2],
            vec![],
            vec![4],
            vec![3],
            vec![3],
            vec![],
        ];
        let leaf = [false, false, false, false, false, false, true];
        let h = chain_heights(&children, &leaf);
        assert_eq!(
            h.heights,
            vec![Some(2), Some(1), Some(0), None, None, None, Some(1)]
        );
        assert_eq!(h.cycles, vec![(4, 3)]);
    }

    #[test]
    fn a_long_chain_needs_no_recursion() {
        let n = 200_000;
        let children: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    vec![i + 1, i + 1]
                } else {
                    vec![]
                }
            })
            .collect();
        let h = chain_heights(&children, &[]);
        assert_eq!(h.heights[0], Some(n as u32 - 1));
    }
}

//! A parsed pattern ([`Node`]) as a Thompson NFA over UTF-8 bytes, built with
//! `regex-automata`'s NFA builder (no regex syntax crate).
//!
//! The haystack is UTF-8, with each UTF-16 surrogate (the halves of a character outside the
//! BMP) spelled as a placeholder code point ([`super::units`]); so a set of UTF-16 units
//! becomes a set of code points, and that a set of UTF-8 byte sequences.

#![allow(
    clippy::result_large_err,
    reason = "regex-automata's BuildError is 128 bytes or more only when another crate of the \
              build turns on its `syntax` feature (the workspace's `regex` users do); errors \
              are the cold path of a compile, built at most once per pattern"
)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use regex_automata::nfa::thompson::{BuildError, Builder, NFA, Transition};
use regex_automata::util::look::Look;
use regex_automata::util::primitives::StateID;

use super::parse::{Assertion, Node, normalize};
use super::units::placeholder;

/// Builds the NFA of `node`, failing past `size_limit` bytes.
pub(super) fn build(node: &Node, size_limit: usize) -> Result<NFA, BuildError> {
    let mut b = Builder::new();
    b.set_size_limit(Some(size_limit))?;
    b.start_pattern()?;
    let (start, end) = compile(&mut b, node)?;
    let matched = b.add_match()?;
    b.patch(end, matched)?;
    b.finish_pattern(start)?;
    // Unanchored searches start after any bytes: `(?s-u:.)*?` before the pattern. Starting
    // inside a character changes nothing (no set matches from a continuation byte, `\b`
    // needs an ASCII word byte beside it), except for `\B`, which holds between two
    // continuation bytes: with `\B` the prefix skips whole characters, `(?s:.)*?` (more
    // states, so only then).
    // A pattern that can only match at the start (`^...`) has none: once the first
    // character fails, the search is over instead of scanning the rest of the haystack.
    if anchored_at_start(node) {
        return b.build(start, start);
    }
    let unanchored = b.add_union(Vec::new())?;
    b.patch(unanchored, start)?;
    let (any, any_end) = if has_not_word_boundary(node) {
        code_points(&mut b, &[(0, 0xD7FF), (0xE000, 0x10FFFF)])?
    } else {
        let end = b.add_empty()?;
        let any = b.add_range(Transition {
            start: 0,
            end: 255,
            next: end,
        })?;
        (any, end)
    };
    b.patch(unanchored, any)?;
    b.patch(any_end, unanchored)?;
    b.build(start, unanchored)
}

/// Whether every match of `node` starts with `^` (no `m` flag: at the start of the input).
fn anchored_at_start(node: &Node) -> bool {
    match node {
        Node::Assert(a) => *a == Assertion::Start,
        Node::Set(_) => false,
        Node::Concat(items) => {
            for item in items {
                if anchored_at_start(item) {
                    return true;
                }
                // Other assertions match no input: what follows them still starts the match.
                if !matches!(item, Node::Assert(_)) {
                    return false;
                }
            }
            false
        }
        Node::Alternation(v) => !v.is_empty() && v.iter().all(anchored_at_start),
        Node::Repeat { node, min, .. } => *min > 0 && anchored_at_start(node),
    }
}

fn has_not_word_boundary(node: &Node) -> bool {
    match node {
        Node::Assert(a) => *a == Assertion::NotWordBoundary,
        Node::Set(_) => false,
        Node::Concat(v) | Node::Alternation(v) => v.iter().any(has_not_word_boundary),
        Node::Repeat { node, .. } => has_not_word_boundary(node),
    }
}

/// Adds `node`; returns its entry state and its exit (an empty state to patch onward).
fn compile(b: &mut Builder, node: &Node) -> Result<(StateID, StateID), BuildError> {
    match node {
        Node::Set(units) => set(b, units),
        Node::Assert(a) => {
            let end = b.add_empty()?;
            let look = match a {
                Assertion::Start => Look::Start,
                Assertion::End => Look::End,
                Assertion::WordBoundary => Look::WordAscii,
                Assertion::NotWordBoundary => Look::WordAsciiNegate,
            };
            Ok((b.add_look(end, look)?, end))
        }
        Node::Concat(items) => {
            let start = b.add_empty()?;
            let mut end = start;
            for item in items {
                let (s, e) = compile(b, item)?;
                b.patch(end, s)?;
                end = e;
            }
            Ok((start, end))
        }
        Node::Alternation(alternatives) => {
            let start = b.add_union(Vec::new())?;
            let end = b.add_empty()?;
            for alternative in alternatives {
                let (s, e) = compile(b, alternative)?;
                b.patch(start, s)?;
                b.patch(e, end)?;
            }
            Ok((start, end))
        }
        Node::Repeat { node, min, max } => {
            let start = b.add_empty()?;
            let mut end = start;
            // The size limit ends a huge count long before the count does.
            for _ in 0..*min {
                let (s, e) = compile(b, node)?;
                b.patch(end, s)?;
                end = e;
            }
            let exit = b.add_empty()?;
            match max {
                None => {
                    let lp = b.add_union(Vec::new())?;
                    b.patch(end, lp)?;
                    let (s, e) = compile(b, node)?;
                    b.patch(lp, s)?;
                    b.patch(e, lp)?;
                    b.patch(lp, exit)?;
                }
                Some(max) => {
                    for _ in *min..*max {
                        let optional = b.add_union(Vec::new())?;
                        b.patch(end, optional)?;
                        let (s, e) = compile(b, node)?;
                        b.patch(optional, s)?;
                        b.patch(optional, exit)?;
                        end = e;
                    }
                    b.patch(end, exit)?;
                }
            }
            Ok((start, exit))
        }
    }
}

/// One unit of `units`.
fn set(b: &mut Builder, units: &[(u16, u16)]) -> Result<(StateID, StateID), BuildError> {
    code_points(b, &code_point_ranges(units))
}

/// One code point of `ranges`: its UTF-8 byte sequences as a trie of sparse states (one
/// state per distinct set of next-byte ranges, equal sub-tries built once), as regex-automata's
/// own compiler does; a small automaton keeps the lazy DFA's states small, and so its cache.
fn code_points(b: &mut Builder, ranges: &[(u32, u32)]) -> Result<(StateID, StateID), BuildError> {
    let Some(nodes) = utf8_trie(ranges) else {
        return code_point_union(b, ranges);
    };
    let end = b.add_empty()?;
    // Children are pushed after their parents: building from the last node up finds every
    // child already built.
    let mut ids: Vec<StateID> = alloc::vec![end; nodes.len()];
    let mut built: BTreeMap<Vec<(u8, u8, u32)>, StateID> = BTreeMap::new();
    for (n, edges) in nodes.iter().enumerate().rev() {
        let mut trans: Vec<Transition> = Vec::with_capacity(edges.len());
        for &(lo, hi, child) in edges {
            let next = match child {
                LEAF => end,
                c => ids.get(c).copied().unwrap_or(end),
            };
            trans.push(Transition {
                start: lo,
                end: hi,
                next,
            });
        }
        crate::sort::sort_unstable_by(&mut trans, |a, c| a.start < c.start);
        let key: Vec<(u8, u8, u32)> = trans
            .iter()
            .map(|t| (t.start, t.end, t.next.as_u32()))
            .collect();
        let id = match built.get(&key) {
            Some(&id) => id,
            None => {
                let id = match trans.as_slice() {
                    [] => b.add_union(Vec::new())?,
                    &[t] => b.add_range(t)?,
                    _ => b.add_sparse(trans)?,
                };
                built.insert(key, id);
                id
            }
        };
        if let Some(slot) = ids.get_mut(n) {
            *slot = id;
        }
    }
    Ok((ids.first().copied().unwrap_or(end), end))
}

/// A trie edge's child that ends the sequence.
const LEAF: usize = usize::MAX;

/// The byte-range sequences of `ranges` as a trie (node 0 the root; edges `(lo, hi, child)`),
/// or `None` if two sequences' ranges overlap without being equal at some byte (then the
/// union of chains is used).
fn utf8_trie(ranges: &[(u32, u32)]) -> Option<Vec<Vec<(u8, u8, usize)>>> {
    let mut nodes: Vec<Vec<(u8, u8, usize)>> = alloc::vec![Vec::new()];
    let mut ok = true;
    for &(lo, hi) in ranges {
        utf8_sequences(lo, hi, &mut |seq| {
            let mut node = 0;
            for (i, &(blo, bhi)) in seq.iter().enumerate() {
                if !ok {
                    return;
                }
                let last = i + 1 == seq.len();
                let Some(edges) = nodes.get(node) else {
                    ok = false;
                    return;
                };
                match edges.iter().find(|e| e.0 <= bhi && blo <= e.1) {
                    Some(&(elo, ehi, child))
                        if elo == blo && ehi == bhi && !last && child != LEAF =>
                    {
                        node = child;
                    }
                    Some(_) => ok = false,
                    None => {
                        let child = if last {
                            LEAF
                        } else {
                            nodes.push(Vec::new());
                            nodes.len() - 1
                        };
                        match nodes.get_mut(node) {
                            Some(edges) => edges.push((blo, bhi, child)),
                            None => ok = false,
                        }
                        node = child;
                    }
                }
            }
        });
    }
    ok.then_some(nodes)
}

/// One code point of `ranges` as an alternation of byte-range chains, equal suffixes shared.
fn code_point_union(
    b: &mut Builder,
    ranges: &[(u32, u32)],
) -> Result<(StateID, StateID), BuildError> {
    let start = b.add_union(Vec::new())?;
    let end = b.add_empty()?;
    let mut result = Ok(());
    let mut suffixes: BTreeMap<(u8, u8, u32), StateID> = BTreeMap::new();
    for &(lo, hi) in ranges {
        utf8_sequences(lo, hi, &mut |seq| {
            if result.is_err() {
                return;
            }
            result = (|| {
                let mut next = end;
                for (i, &(blo, bhi)) in seq.iter().enumerate().rev() {
                    let key = (blo, bhi, next.as_u32());
                    // The first byte of a sequence hangs off `start` alone: never shared.
                    if i > 0
                        && let Some(&id) = suffixes.get(&key)
                    {
                        next = id;
                        continue;
                    }
                    next = b.add_range(Transition {
                        start: blo,
                        end: bhi,
                        next,
                    })?;
                    if i > 0 {
                        suffixes.insert(key, next);
                    }
                }
                b.patch(start, next)
            })();
        });
    }
    result?;
    Ok((start, end))
}

/// The code points standing for the units `units`: a surrogate is its placeholder.
fn code_point_ranges(units: &[(u16, u16)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (lo, hi) in normalize(units) {
        let (lo, hi) = (u32::from(lo), u32::from(hi));
        if lo < 0xD800 {
            out.push((lo, hi.min(0xD7FF)));
        }
        if lo <= 0xDFFF && hi >= 0xD800 {
            out.push((
                placeholder(lo.max(0xD800) as u16),
                placeholder(hi.min(0xDFFF) as u16),
            ));
        }
        if hi > 0xDFFF {
            out.push((lo.max(0xE000), hi));
        }
    }
    out
}

/// Calls `f` with byte-range sequences whose UTF-8 strings are exactly the encodings of the
/// code points `lo..=hi` (which holds no surrogate).
fn utf8_sequences(lo: u32, hi: u32, f: &mut impl FnMut(&[(u8, u8)])) {
    let mut stack = alloc::vec![(lo, hi)];
    while let Some((start, mut end)) = stack.pop() {
        'split: loop {
            // One encoded length at a time.
            for max in [0x7F, 0x7FF, 0xFFFF] {
                if start <= max && max < end {
                    stack.push((max + 1, end));
                    end = max;
                    continue 'split;
                }
            }
            if end <= 0x7F {
                f(&[(start as u8, end as u8)]);
                break;
            }
            // Then until every byte after the first spans whole continuation ranges.
            for i in 1..4 {
                let m = (1u32 << (6 * i)) - 1;
                if start & !m != end & !m {
                    if start & m != 0 {
                        stack.push(((start | m) + 1, end));
                        end = start | m;
                        continue 'split;
                    }
                    if end & m != m {
                        stack.push((end & !m, end));
                        end = (end & !m) - 1;
                        continue 'split;
                    }
                }
            }
            let (mut a, mut z) = ([0u8; 4], [0u8; 4]);
            let (Some(s), Some(e)) = (char::from_u32(start), char::from_u32(end)) else {
                break;
            };
            let n = s.encode_utf8(&mut a).len();
            e.encode_utf8(&mut z);
            let mut seq = [(0u8, 0u8); 4];
            for k in 0..n {
                seq[k] = (a[k], z[k]);
            }
            f(&seq[..n]);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(seqs: &[Vec<(u8, u8)>], c: char) -> bool {
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        seqs.iter().any(|s| {
            s.len() == bytes.len()
                && s.iter()
                    .zip(bytes)
                    .all(|(&(lo, hi), b)| lo <= *b && *b <= hi)
        })
    }

    /// The sequences of a range match exactly its code points, for ranges across every
    /// boundary of the encoding.
    #[test]
    fn utf8_sequences_match_exactly_the_range() {
        let edges = [
            0, 1, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFF, 0x10000,
            0x3FFFF, 0x40000, 0xF0000, 0xF07FF, 0x10FFFF,
        ];
        for &lo in &edges {
            for &hi in &edges {
                if lo > hi || (lo <= 0xDFFF && hi >= 0xD800) {
                    continue;
                }
                let mut seqs = Vec::new();
                utf8_sequences(lo, hi, &mut |s| seqs.push(s.to_vec()));
                for probe in edges.iter().flat_map(|&e| [e.saturating_sub(1), e, e + 1]) {
                    if let Some(c) = char::from_u32(probe) {
                        let want = (lo..=hi).contains(&probe);
                        assert_eq!(matches(&seqs, c), want, "{lo:x}-{hi:x} at {probe:x}");
                    }
                }
            }
        }
        let mut seqs = Vec::new();
        utf8_sequences(0x61, 0x3042, &mut |s| seqs.push(s.to_vec()));
        for c in '\0'..='\u{ffff}' {
            assert_eq!(matches(&seqs, c), ('a'..='\u{3042}').contains(&c));
        }
    }

    type SetBuilder = fn(&mut Builder, &[(u32, u32)]) -> Result<(StateID, StateID), BuildError>;

    /// Large sets (JS `.`, `\S`, a case-folded class) are built as a trie with shared
    /// sub-tries, not as one chain per byte sequence: a hostile pattern of 200 dots (found by
    /// the `condition` fuzz target) otherwise made the lazy DFA's states ten times larger and
    /// a match ten times slower. The trie's NFA is much smaller than the union's.
    #[test]
    fn large_sets_are_built_as_a_shared_trie() {
        for (pattern, ci) in [
            (".", false),
            ("\\S", false),
            ("[^a-z]", true),
            ("[\\u0100-\\uffff]", true),
        ] {
            let Ok(Node::Set(units)) = super::super::parse::parse(pattern, ci) else {
                panic!("{pattern} parses to one set");
            };
            let ranges = code_point_ranges(&units);
            assert!(utf8_trie(&ranges).is_some(), "{pattern}: a trie");
            let states = |f: SetBuilder| -> usize {
                let mut b = Builder::new();
                let built = (|| {
                    b.start_pattern()?;
                    let (start, end) = f(&mut b, &ranges)?;
                    let m = b.add_match()?;
                    b.patch(end, m)?;
                    b.finish_pattern(start)?;
                    b.build(start, start)
                })();
                built.expect("builds").states().len()
            };
            let (trie, union) = (states(code_points), states(code_point_union));
            assert!(trie < union, "{pattern}: trie {trie} states, union {union}");
            if pattern == "." {
                assert!(trie * 2 <= union, "{pattern}: trie {trie}, union {union}");
            }
        }
    }
}

//! One small sort for every compile-time sort of gb-core and gb-condition.
//!
//! Payload compiling sorts numbers, strings, indices and keys, and only there. `core`'s sorts
//! are fast but large (pattern-defeating quicksort, small-sort networks and a merge sort per
//! element type, about 18 KB of wasm for the handful of types sorted here); a heapsort is a few
//! hundred bytes per type, sorts in place, allocates nothing and is `O(n log n)` whatever the
//! input, so a hostile payload cannot make compiling quadratic. Evaluation never sorts.

/// Sorts `v` in place so that no element is `less` than the one before it (not stable: equal
/// elements may be reordered). `less` must be a strict weak order; if it is not, the order of
/// the result is unspecified, but the call still returns and `v` keeps the same elements.
pub fn sort_unstable_by<T, F: FnMut(&T, &T) -> bool>(v: &mut [T], less: F) {
    // Already in order (the usual case for the short lists of a payload): nothing to move.
    let mut s = Slice { v, less };
    if (1..s.v.len()).all(|i| !s.less(i, i - 1)) {
        return;
    }
    let len = s.v.len();
    heapsort(&mut s, len);
}

/// What the heapsort needs of a slice: one sort body for every element type (sorting is
/// compile-time only, so the indirect calls cost evaluation nothing).
trait Heap {
    /// Whether element `a` is less than element `b`.
    fn less(&mut self, a: usize, b: usize) -> bool;
    /// Swaps elements `a` and `b`.
    fn swap(&mut self, a: usize, b: usize);
}

struct Slice<'v, T, F> {
    v: &'v mut [T],
    less: F,
}

impl<T, F: FnMut(&T, &T) -> bool> Heap for Slice<'_, T, F> {
    fn less(&mut self, a: usize, b: usize) -> bool {
        (self.less)(&self.v[a], &self.v[b])
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.v.swap(a, b);
    }
}

fn heapsort(h: &mut dyn Heap, len: usize) {
    for node in (0..len / 2).rev() {
        sift_down(h, node, len);
    }
    for end in (1..len).rev() {
        h.swap(0, end);
        sift_down(h, 0, end);
    }
}

/// Moves element `node` down the max-heap of the first `end` elements until neither child is
/// greater.
fn sift_down(h: &mut dyn Heap, mut node: usize, end: usize) {
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && h.less(child, child + 1) {
            child += 1;
        }
        if !h.less(node, child) {
            return;
        }
        h.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn sorts_like_core() {
        let mut state = 0x1234_5678_9abc_def1_u64;
        for len in (0..40).chain([100, 1000, 4097]) {
            for modulus in [2, 10, 1 << 40] {
                let mut v: Vec<u64> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state % modulus
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                sort_unstable_by(&mut v, |a, b| a < b);
                assert_eq!(v, want);
                // Sorted and reversed inputs.
                sort_unstable_by(&mut v, |a, b| a < b);
                assert_eq!(v, want);
                sort_unstable_by(&mut v, |a, b| a > b);
                want.reverse();
                assert_eq!(v, want);
            }
        }
    }

    #[test]
    fn an_inconsistent_order_keeps_the_elements() {
        let mut v: Vec<u32> = (0..200).collect();
        let mut calls = 0u32;
        sort_unstable_by(&mut v, |_, _| {
            calls += 1;
            calls.is_multiple_of(3)
        });
        v.sort_unstable();
        assert_eq!(v, (0..200).collect::<Vec<_>>());
    }
}

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
pub fn sort_unstable_by<T, F: FnMut(&T, &T) -> bool>(v: &mut [T], mut less: F) {
    // Already in order (the usual case for the short lists of a payload): nothing to move.
    if v.windows(2).all(|w| !less(&w[1], &w[0])) {
        return;
    }
    let len = v.len();
    for node in (0..len / 2).rev() {
        sift_down(v, node, len, &mut less);
    }
    for end in (1..len).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

/// Moves `v[node]` down the max-heap `v[..end]` until neither child is greater.
fn sift_down<T, F: FnMut(&T, &T) -> bool>(v: &mut [T], mut node: usize, end: usize, less: &mut F) {
    let v = &mut v[..end];
    loop {
        let mut child = 2 * node + 1;
        if child >= v.len() {
            return;
        }
        if child + 1 < v.len() && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[node], &v[child]) {
            return;
        }
        v.swap(node, child);
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

//! `$all` with many items: the plain items (strings, numbers, booleans, `null`) are hashed
//! (strings) or sorted (numbers) once at compile time, and an attribute array is matched
//! against them in one pass, so `$all` of `n` items against `m` elements costs about
//! `O(m + n)` instead of `O(n * m)`.
//!
//! An item matches an element exactly as a compiled value test does: a string when
//! `String(element)` is
//! equal (lowercased for `$alli`), a number when `element * 1` is equal, a boolean when the
//! element is not `null` and its truthiness is equal, `null` when the element is `null`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::str_index::StrIndex;
use serde_json::Value;

use crate::value::{V, with_js_string};

/// From how many items `$all` is indexed (below, the direct scan is as fast).
pub(crate) const INDEX_FROM: usize = 16;

/// The plain items of an `$all`, sorted, and the others.
#[derive(Debug)]
pub(crate) struct AllIndex {
    /// Distinct strings (lowercased for `$alli`); a string's position here is its place in
    /// `seen`, found through `str_index`.
    strs: Vec<String>,
    str_index: StrIndex,
    /// Distinct numbers (`-0` as `0`), sorted.
    nums: Box<[f64]>,
    need_null: bool,
    need_true: bool,
    need_false: bool,
    /// An item no element can match (`NaN`).
    impossible: bool,
    /// Positions of the other items (operator objects, arrays, objects) in the item list.
    pub(crate) others: Box<[usize]>,
}

/// An `$all` item as the index sees it (the compiler describes each item this way).
#[derive(Clone, Copy)]
pub(crate) enum Item<'a> {
    /// A string (already lowercased for `$alli`).
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Null,
    /// An operator object, array or object: tested element by element by the caller.
    Other,
}

fn zero_normalized(n: f64) -> f64 {
    if n == 0.0 { 0.0 } else { n }
}

impl AllIndex {
    pub(crate) fn new<'a>(items: impl Iterator<Item = Item<'a>>) -> AllIndex {
        let mut strs = Vec::new();
        let mut nums = Vec::new();
        let mut others = Vec::new();
        let mut ix = AllIndex {
            strs: Vec::new(),
            str_index: StrIndex::default(),
            nums: Box::new([]),
            need_null: false,
            need_true: false,
            need_false: false,
            impossible: false,
            others: Box::new([]),
        };
        for (i, t) in items.enumerate() {
            match t {
                Item::Str(s) => strs.push(String::from(s)),
                Item::Num(n) if n.is_nan() => ix.impossible = true,
                Item::Num(n) => nums.push(zero_normalized(n)),
                Item::Bool(true) => ix.need_true = true,
                Item::Bool(false) => ix.need_false = true,
                Item::Null => ix.need_null = true,
                Item::Other => others.push(i),
            }
        }
        for s in strs {
            let Ok(at) = u32::try_from(ix.strs.len()) else {
                break;
            };
            let known = &ix.strs;
            let key_of = |i: u32| known.get(i as usize).map(String::as_str);
            if ix.str_index.insert(&s, at, &key_of).is_ok() {
                ix.strs.push(s);
            }
        }
        crate::sort::sort_unstable_by(&mut nums, |a, b| a.total_cmp(b).is_lt());
        nums.dedup();
        ix.nums = nums.into_boxed_slice();
        ix.others = others.into_boxed_slice();
        ix
    }

    /// Whether every plain item matches some element of `elements` (the other items are left
    /// to the caller).
    pub(crate) fn plain_items_match(&self, elements: &[Value], insensitive: bool) -> bool {
        if self.impossible {
            return false;
        }
        let mut seen_strs = vec![false; self.strs.len()];
        let mut seen_nums = vec![false; self.nums.len()];
        let (mut null, mut yes, mut no) = (false, false, false);
        for e in elements {
            let v = V::of(e);
            match v {
                V::Null => null = true,
                other if other.truthy() => yes = true,
                _ => no = true,
            }
            if !self.strs.is_empty() {
                with_js_string(v, |x| {
                    let key_of = |i: u32| self.strs.get(i as usize).map(String::as_str);
                    let found = if insensitive {
                        self.str_index.find(&crate::lower::to_lowercase(x), key_of)
                    } else {
                        self.str_index.find(x, key_of)
                    };
                    if let Some(i) = found
                        && let Some(s) = seen_strs.get_mut(i as usize)
                    {
                        *s = true;
                    }
                });
            }
            if !self.nums.is_empty() {
                let n = v.to_number();
                if !n.is_nan()
                    && let Ok(i) = self
                        .nums
                        .binary_search_by(|p| p.total_cmp(&zero_normalized(n)))
                {
                    seen_nums[i] = true;
                }
            }
        }
        (null || !self.need_null)
            && (yes || !self.need_true)
            && (no || !self.need_false)
            && seen_strs.iter().all(|s| *s)
            && seen_nums.iter().all(|s| *s)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Condition, SavedGroups};
    use alloc::vec::Vec;
    use serde_json::{Value, json};

    /// The indexed `$all` agrees with the item-by-item scan (one-item `$all`s are not indexed).
    #[test]
    fn indexed_all_agrees_with_the_scan() {
        let Value::Array(pool) = json!([
            "a", "A", "b", "1", "01", "1,2", "null", "true", "", "É", "é", "[object Object]",
            1, 0, -0.0, 1.5, 2, null, true, false, [1], [1, 2], ["a"], [], {}, {"x": 1},
            {"$gt": 1}, {"$regex": "^a"}, [["b"]], "ß"
        ]) else {
            unreachable!()
        };
        let groups = SavedGroups::new();
        let elements: [Vec<Value>; 5] = [
            pool[..10].to_vec(),
            pool[10..].to_vec(),
            pool.iter().step_by(3).cloned().collect(),
            pool.clone(),
            Vec::new(),
        ];
        for op in ["$all", "$alli"] {
            for start in 0..pool.len() {
                let items: Vec<Value> = pool.iter().cycle().skip(start).take(20).cloned().collect();
                let big = Condition::compile(&json!({"x": {op: items}}));
                for els in &elements {
                    let attrs = json!({"x": els});
                    let want = items.iter().all(|it| {
                        Condition::compile(&json!({"x": {op: [it]}})).matches(&attrs, &groups)
                    });
                    assert_eq!(
                        big.matches(&attrs, &groups),
                        want,
                        "{op} {items:?} on {els:?}"
                    );
                }
            }
        }
    }
}

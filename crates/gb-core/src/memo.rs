//! What one evaluation remembers of the prerequisites it has evaluated, and how much work it
//! may do.
//!
//! A payload where each feature is gated twice on the next would otherwise be evaluated
//! `2^depth` times. Each prerequisite's result is remembered per evaluation (per user, per
//! feature key), so every feature is evaluated at most once. The first few results live in a
//! small inline buffer: an ordinary evaluation allocates nothing. A result is remembered only
//! when it does not depend on the path that reached it (the load-time prerequisite graph
//! says so): a cycle, or the chain depth limit, make results path-dependent.
//! Those cases, and any other, are bounded by [`MAX_EVALUATION_WORK`].

use alloc::vec::Vec;

use gb_condition::str_index::StrIndex;
use serde_json::Value;

use crate::result::FeatureSource;

/// The most work one evaluation may do: each feature evaluated (not remembered) and each rule
/// visited counts one. An evaluation that needs more fails closed: the feature's value is
/// `null` with [`FeatureSource::EvaluationLimit`].
///
/// With prerequisites remembered, an evaluation visits each feature and rule of the payload at
/// most once, unless cycles or chains deeper than
/// the prerequisite depth limit (64) make results path-dependent.
pub const MAX_EVALUATION_WORK: u32 = 20_000;

/// Results held before the memo spills to a hash map.
const INLINE: usize = 4;

#[derive(Clone, Copy)]
struct Entry<'a> {
    key: &'a str,
    value: &'a Value,
    source: FeatureSource,
}

/// Prerequisite results of one evaluation, by feature key.
pub(crate) struct Memo<'a> {
    inline: [Option<Entry<'a>>; INLINE],
    spill: Option<Spill<'a>>,
}

/// The results past the inline buffer, found by key.
#[derive(Default)]
struct Spill<'a> {
    entries: Vec<Entry<'a>>,
    index: StrIndex,
}

impl<'a> Memo<'a> {
    pub(crate) const fn new() -> Self {
        Memo {
            inline: [None; INLINE],
            spill: None,
        }
    }

    /// The remembered result of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<(&'a Value, FeatureSource)> {
        for e in self.inline.iter() {
            match e {
                Some(e) if e.key == key => return Some((e.value, e.source)),
                Some(_) => {}
                None => return None,
            }
        }
        let spill = self.spill.as_ref()?;
        let e = spill
            .index
            .find(key, |i| spill.entries.get(i as usize).map(|e| e.key))?;
        let e = spill.entries.get(e as usize)?;
        Some((e.value, e.source))
    }

    /// Remembers the result of `key` (allocates only past the inline buffer).
    pub(crate) fn insert(&mut self, key: &'a str, value: &'a Value, source: FeatureSource) {
        if let Some(slot) = self.inline.iter_mut().find(|e| e.is_none()) {
            *slot = Some(Entry { key, value, source });
            return;
        }
        let spill = self.spill.get_or_insert_with(Spill::default);
        let Ok(at) = u32::try_from(spill.entries.len()) else {
            return;
        };
        let entries = &spill.entries;
        let entry = Entry { key, value, source };
        match spill
            .index
            .insert(key, at, &|i| entries.get(i as usize).map(|e| e.key))
        {
            Ok(()) => spill.entries.push(entry),
            Err(i) => {
                if let Some(e) = spill.entries.get_mut(i as usize) {
                    *e = entry;
                }
            }
        }
    }
}

/// Work done so far by one evaluation, against [`MAX_EVALUATION_WORK`].
#[derive(Default)]
pub(crate) struct Budget {
    used: u32,
}

impl Budget {
    /// Counts one unit of work; `false` once the budget is spent.
    #[inline]
    pub(crate) fn spend(&mut self) -> bool {
        if self.used >= MAX_EVALUATION_WORK {
            return false;
        }
        self.used += 1;
        true
    }

    /// Whether the budget is spent.
    #[inline]
    pub(crate) fn exhausted(&self) -> bool {
        self.used >= MAX_EVALUATION_WORK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    #[test]
    fn remembers_past_the_inline_buffer() {
        let keys: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let values: Vec<Value> = (0..20).map(Value::from).collect();
        let mut m = Memo::new();
        for (k, v) in keys.iter().zip(&values) {
            assert!(m.get(k).is_none());
            m.insert(k, v, FeatureSource::Force);
        }
        for (k, v) in keys.iter().zip(&values) {
            assert_eq!(m.get(k), Some((v, FeatureSource::Force)));
        }
        assert!(m.get("other").is_none());
    }

    #[test]
    fn the_budget_runs_out_once() {
        let mut b = Budget::default();
        for _ in 0..MAX_EVALUATION_WORK {
            assert!(b.spend());
        }
        assert!(!b.spend());
        assert!(b.exhausted());
    }
}

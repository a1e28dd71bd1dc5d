//! The compiled features of a payload: each feature's default value and rules, in one
//! exactly-sized array indexed by key.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::values::{ValueId, Values};
use gb_condition::str_index::StrIndex;

use super::rule::Rule;

#[derive(Debug)]
pub(crate) struct Feature {
    pub(crate) key: Box<str>,
    pub(crate) rules: Box<[Rule]>,
    /// The default value, in the table's [`Values`].
    pub(crate) default: ValueId,
    /// The longest chain of prerequisites below this feature; `u32::MAX` if a cycle is
    /// reachable (set at load from the payload's prerequisite graph). A bare `u32` keeps the
    /// entry at 40 bytes.
    pub(super) prereq_height: u32,
}

impl Feature {
    pub(super) fn new(key: &str, default: ValueId, rules: Box<[Rule]>) -> Feature {
        Feature {
            key: key.into(),
            rules,
            default,
            prereq_height: u32::MAX,
        }
    }

    /// The longest chain of prerequisites below this feature; `None` if a cycle is reachable.
    #[inline]
    pub(crate) fn prereq_height(&self) -> Option<u32> {
        (self.prereq_height != u32::MAX).then_some(self.prereq_height)
    }
}

/// The features of a payload in one exactly-sized array, found by key through a hash index
/// of positions (4 bytes per slot instead of a whole entry per slot).
#[derive(Default)]
pub(crate) struct FeatureTable {
    pub(super) entries: Vec<Feature>,
    /// The values features and their rules return.
    pub(crate) values: Values,
    index: StrIndex,
}

impl fmt::Debug for FeatureTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.entries).finish()
    }
}

impl FeatureTable {
    /// The value `id` of a feature or rule of this table.
    #[inline]
    pub(crate) fn value(&self, id: ValueId) -> &serde_json::Value {
        self.values.get(id)
    }

    /// Where feature `key` stands in payload order.
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(key, |i| entries.get(i as usize).map(|f| &*f.key))
            .map(|i| i as usize)
    }

    /// The features, in payload order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Feature> {
        self.entries.iter()
    }

    /// The feature `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: &str) -> Option<&Feature> {
        let entries = &self.entries;
        self.index
            .find(key, |i| entries.get(i as usize).map(|f| &*f.key))
            .and_then(|i| entries.get(i as usize))
    }

    pub(super) fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        let entries = &self.entries;
        self.index
            .reserve(n, &|i| entries.get(i as usize).map(|f| &*f.key));
    }

    /// Adds a feature; a later definition of the same key replaces the earlier one (and
    /// `false` is returned).
    pub(super) fn insert(&mut self, feature: Feature) -> bool {
        // More than u32::MAX features cannot be held in memory anyway.
        let Ok(at) = u32::try_from(self.entries.len()) else {
            return true;
        };
        let entries = &self.entries;
        match self.index.insert(&feature.key, at, &|i| {
            entries.get(i as usize).map(|f| &*f.key)
        }) {
            Ok(()) => {
                self.entries.push(feature);
                true
            }
            Err(i) => {
                if let Some(slot) = self.entries.get_mut(i as usize) {
                    *slot = feature;
                }
                false
            }
        }
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
        let entries = &self.entries;
        self.index
            .shrink_to_fit(&|i| entries.get(i as usize).map(|f| &*f.key));
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|f| &*f.key)
    }
}

//! A bounded, thread-safe in-memory store (one process; tests, single-instance servers).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use gb_core::{StickyAssignmentsDocument, sticky::attribute_key};

use crate::error::StickyError;
use crate::service::{IdentifierAttribute, StickyBucketServiceSync, dedup_attributes, doc_matches};

/// How many documents [`InMemoryStickyBucketService::new`] keeps.
pub const DEFAULT_MEMORY_CAPACITY: usize = 10_000;

/// A bounded in-memory store with least-recently-used eviction.
///
/// * Holds at most `capacity` documents. Saving a new document when full evicts the document
///   that was least recently read or written; a user whose document was evicted is hashed
///   afresh (and may change variation if weights changed since), so size it for your active
///   users.
/// * Lookups and saves take a [`std::sync::Mutex`] for O(log n) work; the lock is never held
///   across an `.await`. A poisoned lock is recovered, not propagated.
/// * Keys use `std`'s randomly seeded `HashMap`, so user-chosen attribute values cannot force
///   hash collisions.
///
/// It implements [`StickyBucketServiceSync`], hence also the async
/// [`StickyBucketService`](crate::StickyBucketService).
pub struct InMemoryStickyBucketService {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    /// key → (document, last-use tick)
    entries: HashMap<String, (StickyAssignmentsDocument, u64)>,
    /// last-use tick → key; the first entry is the eviction candidate.
    order: BTreeMap<u64, String>,
    tick: u64,
    evicted: u64,
}

impl Lru {
    fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.wrapping_add(1);
        self.tick
    }

    fn get(&mut self, key: &str) -> Option<StickyAssignmentsDocument> {
        let t = self.next_tick();
        let (doc, old) = {
            let entry = self.entries.get_mut(key)?;
            let old = entry.1;
            entry.1 = t;
            (entry.0.clone(), old)
        };
        if let Some(k) = self.order.remove(&old) {
            self.order.insert(t, k);
        }
        Some(doc)
    }

    fn put(&mut self, key: String, doc: StickyAssignmentsDocument, capacity: usize) {
        let t = self.next_tick();
        if let Some((_, old)) = self.entries.remove(&key) {
            self.order.remove(&old);
        }
        while self.entries.len() >= capacity {
            let Some((_, victim)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&victim);
            self.evicted = self.evicted.saturating_add(1);
        }
        self.order.insert(t, key.clone());
        self.entries.insert(key, (doc, t));
    }
}

impl InMemoryStickyBucketService {
    /// An empty store holding up to [`DEFAULT_MEMORY_CAPACITY`] documents.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// An empty store holding up to `capacity` documents (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Lru::default()),
        }
    }

    /// The maximum number of documents kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of documents held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many documents were evicted to respect the capacity, since creation.
    pub fn evicted(&self) -> u64 {
        self.lock().evicted
    }

    /// Removes every document.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.entries.clear();
        g.order.clear();
    }

    /// A copy of every document, in key order (does not count as a use).
    pub fn snapshot(&self) -> Vec<StickyAssignmentsDocument> {
        let g = self.lock();
        let mut docs: Vec<StickyAssignmentsDocument> =
            g.entries.values().map(|(d, _)| d.clone()).collect();
        docs.sort_by_key(StickyAssignmentsDocument::key);
        docs
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for InMemoryStickyBucketService {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryStickyBucketService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryStickyBucketService")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl StickyBucketServiceSync for InMemoryStickyBucketService {
    fn get_all_assignments_sync(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        let wanted = dedup_attributes(attributes);
        let mut g = self.lock();
        let mut out = Vec::with_capacity(wanted.len());
        for (name, value) in wanted {
            if let Some(doc) = g.get(&attribute_key(name, value)) {
                // `a||b` + `c` and `a` + `b||c` share a key; only the exact pair answers.
                if doc_matches(&doc, name, value) {
                    out.push(doc);
                }
            }
        }
        Ok(out)
    }

    fn save_assignments_sync(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> Result<(), StickyError> {
        let mut g = self.lock();
        for doc in docs {
            g.put(doc.key(), doc, self.capacity);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn doc(v: &str) -> StickyAssignmentsDocument {
        StickyAssignmentsDocument {
            attribute_name: "id".to_string(),
            attribute_value: v.to_string(),
            assignments: [("e__0".to_string(), v.to_string())].into(),
        }
    }

    fn attr(v: &str) -> IdentifierAttribute {
        ("id".to_string(), v.to_string())
    }

    #[test]
    fn evicts_least_recently_used() -> Result<(), StickyError> {
        let s = InMemoryStickyBucketService::with_capacity(2);
        s.save_assignments_sync(vec![doc("a"), doc("b")])?;
        // Touch "a" so "b" is the oldest.
        assert_eq!(s.get_all_assignments_sync(&[attr("a")])?.len(), 1);
        s.save_assignments_sync(vec![doc("c")])?;
        assert_eq!(s.len(), 2);
        assert_eq!(s.evicted(), 1);
        let got = s.get_all_assignments_sync(&[attr("a"), attr("b"), attr("c")])?;
        let values: Vec<&str> = got.iter().map(|d| d.attribute_value.as_str()).collect();
        assert_eq!(values, vec!["a", "c"]);
        // Overwriting an existing key never evicts.
        s.save_assignments_sync(vec![doc("c"), doc("a")])?;
        assert_eq!(s.evicted(), 1);
        s.clear();
        assert!(s.is_empty());
        Ok(())
    }

    #[test]
    fn capacity_zero_means_one() -> Result<(), StickyError> {
        let s = InMemoryStickyBucketService::with_capacity(0);
        assert_eq!(s.capacity(), 1);
        s.save_assignments_sync(vec![doc("a"), doc("b")])?;
        assert_eq!(s.snapshot(), vec![doc("b")]);
        Ok(())
    }
}

//! A bounded, thread-safe in-memory store (one process; tests, single-instance servers).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use gb_core::{StickyAssignmentsDocument, sticky::attribute_key};

use crate::bounded::BoundedLru;
use crate::error::StickyError;
use crate::service::{IdentifierAttribute, StickyBucketServiceSync, dedup_attributes, doc_matches};

/// How many documents [`InMemoryStickyBucketService::new`] keeps.
pub const DEFAULT_MEMORY_CAPACITY: usize = 10_000;
/// How many bytes of documents [`InMemoryStickyBucketService::new`] keeps (keys and strings
/// counted, plus a fixed overhead per document and assignment).
pub const DEFAULT_MEMORY_BYTES: usize = 64 << 20;

/// The bytes a stored document is counted as: its key and strings, plus fixed overheads.
fn doc_bytes(key: &str, doc: &StickyAssignmentsDocument) -> usize {
    let assignments: usize = doc
        .assignments
        .iter()
        .map(|(k, v)| k.len() + v.len() + 48)
        .sum();
    key.len() + doc.attribute_name.len() + doc.attribute_value.len() + assignments + 96
}

/// A bounded in-memory store with least-recently-used eviction.
///
/// * Holds at most `capacity` documents and `max_bytes` bytes of them (see
///   [`with_limits`](Self::with_limits)). Saving a new document when full evicts the document
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
    inner: Mutex<BoundedLru<String, StickyAssignmentsDocument>>,
}

impl InMemoryStickyBucketService {
    /// An empty store holding up to [`DEFAULT_MEMORY_CAPACITY`] documents.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// An empty store holding up to `capacity` documents (at least 1) and
    /// [`DEFAULT_MEMORY_BYTES`].
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_limits(capacity, DEFAULT_MEMORY_BYTES)
    }

    /// An empty store holding up to `capacity` documents (at least 1) and `max_bytes` bytes
    /// of documents; a single document larger than `max_bytes` is not kept.
    pub fn with_limits(capacity: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(BoundedLru::with_max_bytes(capacity, max_bytes)),
        }
    }

    /// The maximum number of documents kept.
    pub fn capacity(&self) -> usize {
        self.lock().max_entries()
    }

    /// The number of documents held now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many documents were evicted to respect the capacity, since creation.
    pub fn evicted(&self) -> u64 {
        self.lock().evicted()
    }

    /// Removes every document.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// A copy of every document, in key order (does not count as a use).
    pub fn snapshot(&self) -> Vec<StickyAssignmentsDocument> {
        let g = self.lock();
        let mut docs: Vec<StickyAssignmentsDocument> = g.values().cloned().collect();
        docs.sort_by_key(StickyAssignmentsDocument::key);
        docs
    }

    fn lock(&self) -> MutexGuard<'_, BoundedLru<String, StickyAssignmentsDocument>> {
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
            .field("capacity", &self.capacity())
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
                if doc_matches(doc, name, value) {
                    out.push(doc.clone());
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
            let key = doc.key();
            let bytes = doc_bytes(&key, &doc);
            g.insert(key, doc, bytes);
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
    fn bounded_in_bytes() -> Result<(), StickyError> {
        let big = |v: &str| StickyAssignmentsDocument {
            attribute_name: "id".to_string(),
            attribute_value: v.to_string(),
            assignments: [("e__0".to_string(), "x".repeat(1000))].into(),
        };
        let s = InMemoryStickyBucketService::with_limits(100, 3500);
        s.save_assignments_sync(vec![big("a"), big("b"), big("c"), big("d")])?;
        // Each document counts about 1,150 bytes: three fit in 3,500.
        assert_eq!(s.len(), 3);
        assert_eq!(s.evicted(), 1);
        assert!(s.get_all_assignments_sync(&[attr("a")])?.is_empty());
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

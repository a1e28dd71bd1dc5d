//! Sticky bucketing as plain data: the caller loads a user's assignment documents, evaluation
//! reads and updates them in memory, and the caller saves the documents that changed.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// One stored sticky-bucket document: every assignment of one attribute value.
///
/// The wire and storage shape is the GrowthBook one:
/// `{"attributeName": "id", "attributeValue": "123", "assignments": {"exp__0": "1"}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StickyAssignmentsDocument {
    /// The attribute the user was hashed on, e.g. `"id"`.
    pub attribute_name: String,
    /// The attribute's value, as text (`JSON.stringify` for non-strings, as the JS SDK does).
    pub attribute_value: String,
    /// `"<experimentKey>__<bucketVersion>"` mapped to the assigned variation's `meta.key`.
    #[serde(default)]
    pub assignments: BTreeMap<String, String>,
}

impl StickyAssignmentsDocument {
    /// The document's primary key, `"<attributeName>||<attributeValue>"`.
    pub fn key(&self) -> String {
        attribute_key(&self.attribute_name, &self.attribute_value)
    }
}

/// The primary key of a document: `"<attributeName>||<attributeValue>"`.
pub fn attribute_key(attribute_name: &str, attribute_value: &str) -> String {
    let mut k = String::with_capacity(attribute_name.len() + attribute_value.len() + 2);
    k.push_str(attribute_name);
    k.push_str("||");
    k.push_str(attribute_value);
    k
}

/// A user's sticky-bucket documents during evaluation, keyed by [`attribute_key`].
///
/// Evaluation updates documents in place (so later evaluations for the same user see new
/// assignments) and remembers which keys changed; [`StickyBucketDocs::take_changed`] hands the
/// documents to save back to the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StickyBucketDocs {
    docs: BTreeMap<String, StickyAssignmentsDocument>,
    changed: BTreeSet<String>,
}

impl StickyBucketDocs {
    /// An empty set of documents (a user with no stored assignments).
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the set from loaded documents; each is filed under its own key.
    pub fn from_docs<I: IntoIterator<Item = StickyAssignmentsDocument>>(docs: I) -> Self {
        let mut s = Self::new();
        for d in docs {
            s.insert(d);
        }
        s
    }

    /// Adds or replaces a loaded document (not marked as changed).
    pub fn insert(&mut self, doc: StickyAssignmentsDocument) {
        self.docs.insert(doc.key(), doc);
    }

    /// The document stored under `key` (`"<attributeName>||<attributeValue>"`).
    pub fn get(&self, key: &str) -> Option<&StickyAssignmentsDocument> {
        self.docs.get(key)
    }

    /// Every document, changed or not, in key order.
    pub fn docs(&self) -> impl Iterator<Item = &StickyAssignmentsDocument> {
        self.docs.values()
    }

    /// Number of documents held.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no document is held.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Whether any document changed since the last [`StickyBucketDocs::take_changed`].
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The documents that evaluation changed since the last call, ready to save.
    pub fn take_changed(&mut self) -> Vec<StickyAssignmentsDocument> {
        let keys = core::mem::take(&mut self.changed);
        keys.into_iter()
            .filter_map(|k| self.docs.get(&k).cloned())
            .collect()
    }

    /// Stores an updated document and marks it changed (used by evaluation).
    pub(crate) fn put_changed(&mut self, doc: StickyAssignmentsDocument) {
        let key = doc.key();
        self.changed.insert(key.clone());
        self.docs.insert(key, doc);
    }
}

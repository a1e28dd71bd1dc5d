//! Sticky bucketing as plain data: the caller loads a user's assignment documents, evaluation
//! reads and updates them in memory, and the caller saves the documents that changed.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::User;
use crate::experiment::Experiment;
use crate::feature::FeatureSet;
use gb_condition::is_truthy;

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

/// The sticky-bucket documents one evaluation reads and updates, as a type: `()` when the
/// caller passes none, so that an evaluation entry point without documents
/// ([`FeatureSet::eval_feature`], [`FeatureSet::run`], [`FeatureSet::url_redirect`]) is compiled
/// without the sticky-bucketing steps (a wasm build that never passes documents links none of
/// them); `Option<&mut StickyBucketDocs>` when the caller decides at run time.
pub(crate) trait StickyAccess {
    /// The documents, if this evaluation has any.
    fn docs(&self) -> Option<&StickyBucketDocs>;
    /// The documents to update, if this evaluation has any.
    fn docs_mut(&mut self) -> Option<&mut StickyBucketDocs>;
}

impl StickyAccess for () {
    #[inline(always)]
    fn docs(&self) -> Option<&StickyBucketDocs> {
        None
    }
    #[inline(always)]
    fn docs_mut(&mut self) -> Option<&mut StickyBucketDocs> {
        None
    }
}

impl StickyAccess for Option<&mut StickyBucketDocs> {
    #[inline]
    fn docs(&self) -> Option<&StickyBucketDocs> {
        self.as_deref()
    }
    #[inline]
    fn docs_mut(&mut self) -> Option<&mut StickyBucketDocs> {
        self.as_deref_mut()
    }
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

/// What a user's stored documents say about one experiment.
pub(crate) struct StoredVariation {
    /// The variation of the stored assignment, if it names one of the experiment's.
    pub(crate) variation: Option<usize>,
    /// A stored assignment below the experiment's `minBucketVersion` keeps the user out.
    pub(crate) blocked: bool,
}

/// The reference `getStickyBucketVariation`: looks the experiment up in the documents of the
/// user's hash attribute and of its fallback attribute (each `(name, truthy value)`).
pub(crate) fn stored_variation(
    docs: &StickyBucketDocs,
    exp: &Experiment,
    (ha, hv): (&str, Option<&Value>),
    (fa, fv): (&str, Option<&Value>),
) -> StoredVariation {
    let none = StoredVariation {
        variation: None,
        blocked: false,
    };
    let hash_doc = docs.get(&attribute_key(
        ha,
        &hv.map(sticky_value).unwrap_or_default(),
    ));
    let fb_doc = fv.and_then(|fv| docs.get(&attribute_key(fa, &sticky_value(fv))));
    let docs_iter = || hash_doc.into_iter().chain(fb_doc);
    if exp.min_bucket_version > 0.0 {
        // `<key>__<version>`; a document's keys are untrusted, so they are never sliced at an
        // index that may fall inside a character.
        let blocked = docs_iter().any(|d| {
            d.assignments.keys().any(|k| {
                k.strip_prefix(exp.key.as_str())
                    .and_then(|rest| rest.strip_prefix("__"))
                    .is_some_and(|v| is_version_below(v, exp.min_bucket_version))
            })
        });
        if blocked {
            return StoredVariation {
                variation: None,
                blocked: true,
            };
        }
    }
    let want = &exp.sticky_key;
    let stored = hash_doc
        .and_then(|d| d.assignments.get(want))
        .or_else(|| fb_doc.and_then(|d| d.assignments.get(want)));
    let Some(stored) = stored else {
        return none;
    };
    StoredVariation {
        variation: exp
            .meta
            .iter()
            .position(|m| m.key.as_deref() == Some(stored.as_str())),
        blocked: false,
    }
}

/// Records that the user hashed on `attr = value` got `variation_key` in `exp` (a no-op
/// when the documents already say so).
pub(crate) fn save_assignment(
    docs: &mut StickyBucketDocs,
    exp: &Experiment,
    attr: &str,
    value: &Value,
    variation_key: &str,
) -> bool {
    let attr_value = sticky_value(value);
    let key = attribute_key(attr, &attr_value);
    let exp_key = &exp.sticky_key;
    let existing = docs.get(&key);
    if existing
        .and_then(|d| d.assignments.get(exp_key))
        .map(String::as_str)
        == Some(variation_key)
    {
        return false;
    }
    let mut doc = existing
        .cloned()
        .unwrap_or_else(|| StickyAssignmentsDocument {
            attribute_name: attr.into(),
            attribute_value: attr_value.clone(),
            assignments: Default::default(),
        });
    doc.attribute_name = attr.into();
    doc.attribute_value = attr_value;
    doc.assignments
        .insert(exp_key.clone(), variation_key.into());
    docs.put_changed(doc);
    true
}

/// Whether `suffix` is the text of an integer `i` with `0 <= i < min` (JavaScript `String(i)`).
fn is_version_below(suffix: &str, min: f64) -> bool {
    let canonical = !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
        && (suffix == "0" || !suffix.starts_with("0"));
    // At most 15 digits: no overflow, and exact as an `f64`.
    canonical
        && suffix.len() <= 15
        && (suffix
            .bytes()
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0')) as f64)
            < min
}

/// The reference `toString(hashValue)` for sticky-bucket documents: strings as they are,
/// anything else as JS `JSON.stringify` writes it (`[-0]` is `[0]`, `1.0` is `1`).
pub(crate) fn sticky_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // Attributes built in code may nest arbitrarily: serializing recurses, so a value too
        // deep to be a sensible id gets no sticky-bucket key text.
        other if gb_condition::nests_deeper_than(other, crate::depth::MAX_JSON_DEPTH) => {
            String::new()
        }
        other => {
            let mut s = String::new();
            let _ = gb_condition::write_js_json(&mut s, other);
            s
        }
    }
}

impl FeatureSet {
    /// The `(attribute, value)` pairs to look sticky-bucket documents up by for this user
    /// (attributes with no value are left out).
    pub fn sticky_bucket_attributes(&self, user: &User<'_>) -> Vec<(String, String)> {
        self.sticky_attributes
            .iter()
            .filter_map(|a| {
                let v = user.attributes.get(a).filter(|v| is_truthy(v))?;
                Some((a.clone(), sticky_value(v)))
            })
            .collect()
    }
}

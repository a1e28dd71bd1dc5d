//! The bounded deduplication of experiment-viewed events.

use alloc::string::String;
use core::fmt::Write as _;

use gb_core::Experiment;
use serde_json::Value;

use crate::js_string::js_string;
use crate::seen::SeenSet;

/// A bounded "seen" set of tracking keys (`hashAttribute`, `hashValue`, experiment key,
/// variation id: the JS SDK's key), as digests in a [`SeenSet`].
#[derive(Debug)]
pub(crate) struct Dedup {
    seen: SeenSet,
}

impl Dedup {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            // Insertion order, as before: a hit is one hash lookup on the evaluation path.
            seen: SeenSet::new(capacity.max(1), false),
        }
    }

    /// Records the assignment; `true` if it was not seen before (so it should be tracked).
    pub(crate) fn first_time(&self, exp: &Experiment, r: &gb_core::ExperimentResult<'_>) -> bool {
        self.first_time_of(r.hash_attribute, r.hash_value, exp.key(), r.variation_id)
    }

    /// [`first_time`](Self::first_time) from the parts of the key.
    pub(crate) fn first_time_of(
        &self,
        hash_attribute: &str,
        hash_value: &Value,
        experiment_key: &str,
        variation_id: usize,
    ) -> bool {
        // The JS SDK's `getExperimentDedupeKey`: `hashAttribute + hashValue + key +
        // variationId`, one string concatenation (so `String(1.0)` is `"1"`).
        let mut key = String::with_capacity(hash_attribute.len() + experiment_key.len() + 24);
        key.push_str(hash_attribute);
        key.push_str(&js_string(hash_value));
        key.push_str(experiment_key);
        let _ = write!(key, "{variation_id}");
        self.seen.first_sight(self.seen.digest(&key))
    }

    /// Entries held (for tests and health checks).
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// JS `getExperimentDedupeKey` is `hashAttribute + hashValue + experiment.key +
    /// variationId`: `String(1.0)` is `"1"`, so a hash value of `1.0` and one of `1` (or
    /// `"1"`) are the same exposure; the concatenation also joins `"id1" + "e"` and
    /// `"id" + "1e"`.
    #[test]
    fn dedup_key_is_the_js_string_concatenation() {
        let d = Dedup::new(100);
        assert!(d.first_time_of("id", &json!(1.0), "exp", 0));
        assert!(!d.first_time_of("id", &json!(1), "exp", 0));
        assert!(!d.first_time_of("id", &json!("1"), "exp", 0));
        assert!(d.first_time_of("id", &json!(1), "exp", 1));
        assert!(!d.first_time_of("id1", &json!(""), "exp", 1));
        assert!(d.first_time_of("id", &json!([1, 2]), "e", 0));
        assert!(!d.first_time_of("id", &json!("1,2"), "e", 0));
    }
}

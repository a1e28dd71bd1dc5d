//! The per-client cache of remote evaluations.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use std::sync::{Mutex, PoisonError};

use gb_sticky::BoundedLru;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::snapshot::Snapshot;

const REMOTE_CACHE_CAPACITY: usize = 1000;

/// The per-client cache of remote evaluations, keyed by the `cache_key_attributes` (plus URL
/// and forced values). Bounded; entries expire after the cache TTL.
#[derive(Debug)]
pub(crate) struct RemoteCache {
    attributes: Option<Vec<String>>,
    ttl: Duration,
    entries: Mutex<BoundedLru<String, (Arc<Snapshot>, Instant)>>,
}

impl RemoteCache {
    pub(crate) fn new(attributes: Option<Vec<String>>, ttl: Duration) -> Self {
        Self {
            attributes,
            ttl,
            entries: Mutex::new(BoundedLru::new(REMOTE_CACHE_CAPACITY)),
        }
    }

    /// The cache key of a user: the `cache_key_attributes`, URL and forced values; `None` when
    /// no cache key attributes are configured (nothing is cached).
    pub(crate) fn key_for(
        &self,
        attributes: &Map<String, Value>,
        url: &str,
        forced_variations: &Map<String, Value>,
        forced_features: &Map<String, Value>,
    ) -> Option<String> {
        let names = self.attributes.as_ref()?;
        let picked: Vec<Value> = names
            .iter()
            .map(|n| attributes.get(n).cloned().unwrap_or(Value::Null))
            .collect();
        Some(
            Value::Array(vec![
                Value::Array(picked),
                Value::String(url.into()),
                Value::Object(forced_variations.clone()),
                Value::Object(forced_features.clone()),
            ])
            .to_string(),
        )
    }

    /// The cached evaluation for `key`, unless older than the TTL.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Snapshot>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (snap, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(snap))
    }

    /// Caches an evaluation, evicting the least recently used past the capacity.
    pub(crate) fn put(&self, key: String, snap: Arc<Snapshot>) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (snap, Instant::now()), 0);
    }
}

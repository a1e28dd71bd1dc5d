//! [`SeenSet`]: a bounded, sharded set of 64-bit digests, for deduplication (experiment
//! exposures, the tracking plugin's recent events). Built on gb-sticky's [`BoundedLru`].

use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::collections::hash_map::RandomState;
use std::sync::{Mutex, PoisonError};

use gb_sticky::BoundedLru;

const SHARDS: usize = 16;

/// A bounded "seen" set: values are kept as 64-bit SipHash digests with a random key (no
/// flooding, fixed memory per entry), in 16 shards to keep contention low; each shard evicts
/// its least recently seen (or oldest) digests. Capacity 0 keeps nothing (everything is new).
pub(crate) struct SeenSet {
    hasher: RandomState,
    /// Whether a digest seen again counts as used (LRU) or not (insertion order).
    touch: bool,
    shards: Vec<Mutex<BoundedLru<u64, ()>>>,
}

impl fmt::Debug for SeenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeenSet")
            .field("shards", &self.shards.len())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl SeenSet {
    /// A set of about `capacity` digests (rounded up to a multiple of 16; none if 0); with
    /// `touch`, evicting the least recently seen, else the oldest inserted (hits cost one hash
    /// lookup).
    pub(crate) fn new(capacity: usize, touch: bool) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = if capacity == 0 { 0 } else { SHARDS };
        Self {
            hasher: RandomState::new(),
            touch,
            shards: (0..shards)
                .map(|_| Mutex::new(BoundedLru::new(per_shard)))
                .collect(),
        }
    }

    /// The digest of `value` under this set's random key.
    pub(crate) fn digest(&self, value: impl Hash) -> u64 {
        self.hasher.hash_one(value)
    }

    /// A hasher with this set's random key, for values hashed piecewise.
    pub(crate) fn hasher(&self) -> impl core::hash::Hasher {
        self.hasher.build_hasher()
    }

    /// Records `digest`; `true` the first time (or once it was evicted), `false` if held.
    pub(crate) fn first_sight(&self, digest: u64) -> bool {
        if self.shards.is_empty() {
            return true;
        }
        // The low bits pick the shard; usize is at least 16 bits wide.
        let shard = &self.shards[(digest as usize) % SHARDS];
        shard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sight(digest, self.touch)
    }

    /// Digests held (for tests and health checks).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

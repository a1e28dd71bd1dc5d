//! [`BoundedLru`]: the one bounded cache type of the workspace. gb-sticky's in-memory store
//! uses it, and gb-sdk builds its caches and "seen" sets on it (tracking dedup, the tracking
//! plugin's recent events, the remote-evaluation cache).

use alloc::collections::VecDeque;
use core::borrow::Borrow;
use core::fmt;
use core::hash::Hash;
use std::collections::HashMap;

/// A least-recently-used cache bounded in entries and in bytes.
///
/// * Holds at most `max_entries` entries (at least 1) whose declared sizes sum to at most
///   `max_bytes`. Inserting past either bound evicts the least recently read or written
///   entries first; an entry larger than `max_bytes` on its own is not stored.
/// * The size of an entry is what the caller declares on [`insert`](Self::insert) (for example
///   the bytes of its key and value); the cache does not measure values itself.
/// * Keys use `std`'s randomly seeded `HashMap`, so user-chosen keys cannot force hash
///   collisions. Reads and writes cost O(log n).
///
/// Not synchronized: wrap it in a `Mutex` (or shard it) to share it.
pub struct BoundedLru<K, V> {
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    entries: HashMap<K, Slot<V>>,
    /// Uses, oldest first, as (tick, key); an entry whose tick is no longer its key's is stale
    /// and skipped. Compacted when over twice the entries, so O(1) amortized per operation.
    order: VecDeque<(u64, K)>,
    tick: u64,
    evicted: u64,
}

struct Slot<V> {
    value: V,
    tick: u64,
    bytes: usize,
}

impl<K, V> fmt::Debug for BoundedLru<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedLru")
            .field("len", &self.entries.len())
            .field("bytes", &self.bytes)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .field("evicted", &self.evicted)
            .finish()
    }
}

impl<K: Hash + Eq + Clone, V> BoundedLru<K, V> {
    /// An empty cache of at most `max_entries` entries (at least 1), unbounded in bytes.
    pub fn new(max_entries: usize) -> Self {
        Self::with_max_bytes(max_entries, usize::MAX)
    }

    /// An empty cache of at most `max_entries` entries (at least 1) and `max_bytes` bytes.
    pub fn with_max_bytes(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            max_bytes,
            bytes: 0,
            entries: HashMap::new(),
            order: VecDeque::new(),
            tick: 0,
            evicted: 0,
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.wrapping_add(1);
        self.tick
    }

    /// The value of `key`, marking it as the most recently used.
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let t = self.next_tick();
        let (k, _) = self.entries.get_key_value(key)?;
        self.order.push_back((t, k.clone()));
        self.entries.get_mut(key)?.tick = t;
        // After the tick is set, so the new use is live when compacting.
        self.compact();
        self.entries.get(key).map(|s| &s.value)
    }

    /// The value of `key`, without marking it as used.
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|s| &s.value)
    }

    /// Stores `value` under `key` as the most recently used entry, declaring its size as
    /// `bytes`, and evicts the least recently used entries past the bounds. Returns whether
    /// `key` was absent before. An entry over `max_bytes` alone is not stored (and an older
    /// value under `key` is removed).
    pub fn insert(&mut self, key: K, value: V, bytes: usize) -> bool {
        let was_present = self.remove(&key).is_some();
        if bytes > self.max_bytes {
            return !was_present;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries
                || self.bytes.saturating_add(bytes) > self.max_bytes)
        {
            let Some((tick, victim)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&victim).is_some_and(|s| s.tick == tick)
                && let Some(slot) = self.entries.remove(&victim)
            {
                self.bytes -= slot.bytes;
                self.evicted = self.evicted.saturating_add(1);
            }
        }
        let t = self.next_tick();
        self.order.push_back((t, key.clone()));
        self.entries.insert(
            key,
            Slot {
                value,
                tick: t,
                bytes,
            },
        );
        self.bytes += bytes;
        self.compact();
        !was_present
    }

    /// Drops stale uses once they outnumber the live entries.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.entries.len() + 8 {
            let entries = &self.entries;
            self.order
                .retain(|(t, k)| entries.get(k).is_some_and(|s| s.tick == *t));
        }
    }

    /// Records `key` in a "seen" set (`V = ()`, size 0): `true` if it was not held (it is now,
    /// as the most recently used); `false` if it was. With `touch`, a key seen again is marked
    /// as used (least-recently-used eviction); without, a hit is one hash lookup and the set
    /// evicts in insertion order.
    pub fn first_sight(&mut self, key: K, touch: bool) -> bool
    where
        V: Default,
    {
        let held = if touch {
            self.get(&key).is_some()
        } else {
            self.entries.contains_key(&key)
        };
        !held && self.insert(key, V::default(), 0)
    }

    /// Removes `key`, returning its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.entries.remove(key)?;
        self.bytes -= slot.bytes;
        self.compact();
        Some(slot.value)
    }

    /// The number of entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The declared sizes of the entries held, summed.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The most entries held at once.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// How many entries were evicted to respect the bounds, since creation.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Removes every entry (the eviction count is kept).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// The values held, in no particular order (does not count as a use).
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.values().map(|s| &s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedLru;

    #[test]
    fn evicts_least_recently_used_past_max_entries() {
        let mut c = BoundedLru::new(2);
        assert!(c.insert("a", 1, 0));
        assert!(c.insert("b", 2, 0));
        assert_eq!(c.get("a"), Some(&1));
        assert!(c.insert("c", 3, 0));
        assert_eq!(c.len(), 2);
        assert_eq!(c.evicted(), 1);
        assert_eq!(c.peek("b"), None);
        // Overwriting a held key never evicts.
        assert!(!c.insert("a", 10, 0));
        assert_eq!(c.evicted(), 1);
        assert_eq!(c.peek("a"), Some(&10));
    }

    #[test]
    fn evicts_past_max_bytes_and_refuses_oversized_entries() {
        let mut c = BoundedLru::with_max_bytes(100, 10);
        c.insert(1, (), 4);
        c.insert(2, (), 4);
        assert_eq!(c.bytes(), 8);
        c.insert(3, (), 4);
        assert_eq!((c.len(), c.bytes()), (2, 8));
        assert_eq!(c.peek(&1), None);
        // Larger than the whole budget: not stored, nothing evicted for it.
        c.insert(4, (), 11);
        assert_eq!((c.len(), c.bytes()), (2, 8));
        assert_eq!(c.remove(&2), Some(()));
        assert_eq!(c.bytes(), 4);
        c.clear();
        assert_eq!((c.len(), c.bytes()), (0, 0));
    }

    #[test]
    fn first_sight_is_a_bounded_seen_set() {
        let mut c: BoundedLru<u64, ()> = BoundedLru::new(2);
        assert!(c.first_sight(1, true));
        assert!(!c.first_sight(1, true));
        assert!(c.first_sight(2, true));
        assert!(c.first_sight(3, true));
        assert_eq!(c.len(), 2);
        // 1 was the least recently used: evicted, so it is new again.
        assert!(c.first_sight(1, true));
        // Without touching, eviction follows insertion: 3 is older than 1.
        let mut f: BoundedLru<u64, ()> = BoundedLru::new(2);
        assert!(f.first_sight(3, false) && f.first_sight(1, false));
        assert!(!f.first_sight(3, false));
        assert!(f.first_sight(2, false));
        assert!(f.first_sight(3, false));
        // Many touches never let the set outgrow its bound (stale uses are compacted).
        let mut t: BoundedLru<u64, ()> = BoundedLru::new(3);
        for i in 0..1000 {
            t.first_sight(i % 5, true);
            t.first_sight(0, true);
            assert!(t.len() <= 3 && t.order.len() <= 2 * 3 + 9);
        }
    }
}

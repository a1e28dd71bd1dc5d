//! The bounded queue of writes waiting for an unreachable Redis: one entry per key (a later
//! save of the same key replaces the earlier one, which `SET` would overwrite anyway), kept in
//! the order of their latest save, limited in entries and bytes.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use std::collections::HashMap;

/// Queued `(key, json)` writes.
#[derive(Debug)]
pub(crate) struct Pending {
    order: BTreeMap<u64, (String, String)>,
    index: HashMap<String, u64>,
    next: u64,
    bytes: usize,
    max_docs: usize,
    max_bytes: usize,
}

impl Pending {
    pub(crate) fn new(max_docs: usize, max_bytes: usize) -> Self {
        Self {
            order: BTreeMap::new(),
            index: HashMap::new(),
            next: 0,
            bytes: 0,
            max_docs,
            max_bytes,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Queues a write, replacing a queued one for the same key. False (nothing queued) if it
    /// does not fit the limits.
    pub(crate) fn push(&mut self, key: String, json: String) -> bool {
        let old_bytes = self
            .index
            .get(&key)
            .and_then(|seq| self.order.get(seq))
            .map_or(0, |(k, j)| k.len() + j.len());
        let replacing = self.index.contains_key(&key);
        let new_bytes = key.len() + json.len();
        let docs_after = self.order.len() + usize::from(!replacing);
        let bytes_after = self.bytes - old_bytes + new_bytes;
        if docs_after > self.max_docs || bytes_after > self.max_bytes {
            return false;
        }
        if let Some(seq) = self.index.remove(&key) {
            self.order.remove(&seq);
        }
        let seq = self.next;
        self.next += 1;
        self.index.insert(key.clone(), seq);
        self.order.insert(seq, (key, json));
        self.bytes = bytes_after;
        true
    }

    /// The queued writes in order (cloned: they stay queued until [`clear`](Self::clear)).
    pub(crate) fn snapshot(&self) -> Vec<(String, String)> {
        self.order.values().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.order.clear();
        self.index.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        String::from(x)
    }

    #[test]
    fn latest_write_per_key_in_order_within_entry_and_byte_limits() {
        let mut p = Pending::new(2, 20);
        assert!(p.push(s("a"), s("1")));
        assert!(p.push(s("b"), s("2")));
        assert!(
            !p.push(s("c"), s("3")),
            "a third key is over the entry limit"
        );
        assert!(p.push(s("a"), s("4")), "replacing a key needs no new entry");
        assert_eq!(p.snapshot(), vec![(s("b"), s("2")), (s("a"), s("4"))]);
        assert!(!p.push(s("b"), "x".repeat(30)), "over the byte limit");
        assert_eq!(p.len(), 2);
        p.clear();
        assert!(p.is_empty());
        assert!(p.push(s("c"), s("3")));
    }
}

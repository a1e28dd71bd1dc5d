//! One hash index from strings to positions in a list the caller keeps (gb-core's feature
//! keys, value texts and condition texts, the strings of a large `$all`, saved-group ids; and,
//! through its hashed methods, the condition-group results one evaluation remembers): every
//! such index is this one type, so a size-first build links one copy of the hash table's
//! insert and resize code instead of one per map.

use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Strings → `u32` positions; the strings themselves stay in the caller's list, read back
/// through `key_of` (4 bytes per slot).
#[derive(Debug, Default)]
pub struct StrIndex {
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl StrIndex {
    /// The position of `key`, where `key_of` reads the key at a position (inlined into each
    /// caller: lookups stay as fast as a map of their own).
    #[inline(always)]
    pub fn find<'k>(&self, key: &str, key_of: impl Fn(u32) -> Option<&'k str>) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.table.find(hash, |&i| key_of(i) == Some(key)).copied()
    }

    /// Adds `key` at position `at`, or returns the position it already has.
    pub fn insert<'k>(
        &mut self,
        key: &str,
        at: u32,
        key_of: &dyn Fn(u32) -> Option<&'k str>,
    ) -> Result<(), u32> {
        let hasher = self.hasher.clone();
        self.insert_hashed(
            hasher.hash_one(key),
            at,
            &|i| key_of(i) == Some(key),
            &|i| key_of(i).map_or(0, |k| hasher.hash_one(k)),
        )
    }

    /// The hasher of this index (for keys that are not strings: [`StrIndex::insert_hashed`]).
    pub(crate) fn hasher(&self) -> DefaultHashBuilder {
        self.hasher.clone()
    }

    /// The position whose key has `hash` and satisfies `eq`.
    pub(crate) fn find_hashed(&self, hash: u64, eq: &dyn Fn(u32) -> bool) -> Option<u32> {
        self.table.find(hash, |&i| eq(i)).copied()
    }

    /// Adds position `at` under `hash` unless a position satisfying `eq` is there already
    /// (returned); `rehash` gives the hash of any stored position (when the table grows). The
    /// one insert of every index, whatever its keys.
    pub(crate) fn insert_hashed(
        &mut self,
        hash: u64,
        at: u32,
        eq: &dyn Fn(u32) -> bool,
        rehash: &dyn Fn(u32) -> u64,
    ) -> Result<(), u32> {
        match self.table.entry(hash, |&i| eq(i), |&i| rehash(i)) {
            hashbrown::hash_table::Entry::Occupied(o) => Err(*o.get()),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(at);
                Ok(())
            }
        }
    }

    /// Makes room for `n` more keys.
    pub fn reserve<'k>(&mut self, n: usize, key_of: &dyn Fn(u32) -> Option<&'k str>) {
        let hasher = &self.hasher;
        self.table
            .reserve(n, |&i| key_of(i).map_or(0, |k| hasher.hash_one(k)));
    }

    /// Frees the slots no key needs.
    pub fn shrink_to_fit<'k>(&mut self, key_of: &dyn Fn(u32) -> Option<&'k str>) {
        let hasher = &self.hasher;
        self.table
            .shrink_to_fit(|&i| key_of(i).map_or(0, |k| hasher.hash_one(k)));
    }
}

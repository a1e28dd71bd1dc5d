//! [`AllResults`]: every feature's result for one user, from one pass.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};
use yoke::{Yoke, Yokeable};

use crate::feature_result::{FeatureResult, Held};
use crate::inputs::EvalCart;
use crate::result::Reason;

/// Every feature's gb-core result, borrowed from an [`EvalCart`], in payload order.
#[derive(Yokeable)]
pub(crate) struct HeldAll<'a>(pub(crate) Vec<(&'a str, gb_core::FeatureResult<'a>)>);

pub(crate) type AllShared = Yoke<HeldAll<'static>, Arc<EvalCart>>;

/// Every feature's result for one user, keyed by feature, from
/// [`UserContext::eval_all`](crate::UserContext::eval_all).
///
/// Holds the snapshot it was evaluated on (shared, not copied): [`get`](Self::get) hands out
/// a [`FeatureResult`] for one feature without evaluating again.
pub struct AllResults {
    inner: AllShared,
    reason: Reason,
}

impl AllResults {
    pub(crate) fn new(inner: AllShared, reason: Reason) -> Self {
        Self { inner, reason }
    }

    fn entry(&self, key: &str) -> Option<usize> {
        let i = self.inner.backing_cart().snap.features.position(key)?;
        // Results are in payload order; check, in case of a mismatch never seen.
        (self.inner.get().0.get(i).map(|(k, _)| *k) == Some(key)).then_some(i)
    }

    /// How many features there are.
    pub fn len(&self) -> usize {
        self.inner.get().0.len()
    }

    /// Whether there are none (no features loaded).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether features were loaded.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The result of feature `key` (`None` if the payload has no such feature).
    pub fn get(&self, key: &str) -> Option<FeatureResult> {
        let i = self.entry(key)?;
        let one = self
            .inner
            .map_project_cloned(move |all, _| Held(all.0[i].1.clone()));
        Some(FeatureResult::shared(one, self.reason))
    }

    /// The value of feature `key`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        let i = self.entry(key)?;
        self.inner.get().0.get(i).map(|(_, r)| r.value)
    }

    /// Whether feature `key` is on (`false` when unknown).
    pub fn is_on(&self, key: &str) -> bool {
        self.value(key)
            .is_some_and(gb_core::gb_condition::is_truthy)
    }

    /// The feature keys, in payload order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.get().0.iter().map(|(k, _)| *k)
    }

    /// Every feature's key and borrowed gb-core result, in payload order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &gb_core::FeatureResult<'_>)> + '_ {
        self.inner.get().0.iter().map(|(k, r)| (*k, r))
    }

    /// Every feature's value by key (the JS SDK's `getFeatures` values).
    pub fn values(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, r)| (k.into(), r.value.clone()))
            .collect()
    }

    /// Every feature's result as the spec's JSON, by key.
    pub fn to_json(&self) -> Value {
        Value::Object(self.iter().map(|(k, r)| (k.into(), r.to_json())).collect())
    }
}

impl fmt::Debug for AllResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllResults")
            .field("len", &self.len())
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

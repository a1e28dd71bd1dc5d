//! One compiled payload: the immutable snapshot every evaluation reads.

use alloc::sync::Arc;

use gb_core::FeatureSet;
use serde_json::Value;

use crate::result::Reason;

/// One compiled payload. Immutable: a refresh builds a new one and swaps it in.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) features: FeatureSet,
    /// Increases by one with every payload applied (0: nothing loaded yet).
    pub(crate) version: u64,
    /// Whether this holds loaded features (false only for the empty initial snapshot).
    pub(crate) loaded: bool,
    /// The payload these features were compiled from, as served (decrypted), for
    /// [`GrowthBook::payload`](crate::GrowthBook::payload).
    pub(crate) payload: Option<Arc<Value>>,
}

impl Snapshot {
    pub(crate) fn reason(&self) -> Reason {
        if self.loaded {
            Reason::Evaluated
        } else {
            Reason::NotReady
        }
    }

    pub(crate) fn loaded(features: FeatureSet, version: u64) -> Self {
        Self {
            features,
            version,
            loaded: true,
            payload: None,
        }
    }

    /// The same snapshot, remembering the payload it was compiled from.
    pub(crate) fn with_payload(mut self, payload: Option<Arc<Value>>) -> Self {
        self.payload = payload;
        self
    }
}

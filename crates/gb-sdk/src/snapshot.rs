//! One compiled payload: the immutable snapshot every evaluation reads.

use gb_core::FeatureSet;

use crate::result::Reason;

/// One compiled payload. Immutable: a refresh builds a new one and swaps it in.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) features: FeatureSet,
    /// Increases by one with every payload applied (0: nothing loaded yet).
    pub(crate) version: u64,
    /// Whether this holds loaded features (false only for the empty initial snapshot).
    pub(crate) loaded: bool,
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
        }
    }
}

//! What one user is evaluated on besides the features: attributes, URL, forced values. Shared
//! (`Arc`) by the user's context and by every result that borrows from them.

use alloc::string::String;
use alloc::sync::Arc;

use gb_core::User;
use serde_json::{Map, Value};

use crate::snapshot::Snapshot;

/// The URL and forced values of a context: the client's, shared by every context until one
/// changes them (copy on write).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) url: String,
    pub(crate) forced_variations: Map<String, Value>,
    pub(crate) forced_features: Map<String, Value>,
}

/// A user's attributes and overrides.
#[derive(Debug, Clone)]
pub(crate) struct UserInputs {
    pub(crate) attributes: Map<String, Value>,
    pub(crate) overrides: Arc<Overrides>,
    pub(crate) qa_mode: bool,
    pub(crate) enabled: bool,
}

impl UserInputs {
    /// The borrowed user gb-core evaluates.
    #[inline]
    pub(crate) fn user(&self) -> User<'_> {
        let o = &*self.overrides;
        let mut user = User::new(&self.attributes)
            .with_url(&o.url)
            .with_qa_mode(self.qa_mode)
            .with_enabled(self.enabled);
        if !o.forced_variations.is_empty() {
            user = user.with_forced_variations(&o.forced_variations);
        }
        if !o.forced_features.is_empty() {
            user = user.with_forced_features(&o.forced_features);
        }
        user
    }
}

/// Everything a result borrows from: the snapshot and the user's inputs, each shared.
#[derive(Debug)]
pub(crate) struct EvalCart {
    pub(crate) snap: Arc<Snapshot>,
    pub(crate) inputs: Arc<UserInputs>,
}

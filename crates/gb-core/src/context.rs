//! The per-user evaluation context.

use alloc::string::String;

use serde_json::{Map, Value};

/// Everything about one user that evaluation reads. Cheap to build and `Copy`: it only
/// borrows.
#[derive(Clone, Copy, Debug)]
pub struct User<'a> {
    /// The user's attributes (`id`, `country`, ...).
    pub attributes: &'a Map<String, Value>,
    /// The current URL, for query-string forced variations and URL targeting (`""` if none).
    pub url: &'a str,
    /// Experiment key → forced variation index.
    pub forced_variations: Option<&'a Map<String, Value>>,
    /// Feature key → forced value (source `override`).
    pub forced_features: Option<&'a Map<String, Value>>,
    /// QA mode: no one is put in an experiment by hashing.
    pub qa_mode: bool,
    /// When false, no experiment runs.
    pub enabled: bool,
}

impl<'a> User<'a> {
    /// A user with these attributes and every other setting at its default.
    pub fn new(attributes: &'a Map<String, Value>) -> Self {
        User {
            attributes,
            url: "",
            forced_variations: None,
            forced_features: None,
            qa_mode: false,
            enabled: true,
        }
    }

    /// Sets the URL.
    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = url;
        self
    }

    /// Sets forced variations (experiment key → variation index).
    pub fn with_forced_variations(mut self, fv: &'a Map<String, Value>) -> Self {
        self.forced_variations = Some(fv);
        self
    }

    /// Sets forced feature values.
    pub fn with_forced_features(mut self, ff: &'a Map<String, Value>) -> Self {
        self.forced_features = Some(ff);
        self
    }

    /// Sets QA mode.
    pub fn with_qa_mode(mut self, qa: bool) -> Self {
        self.qa_mode = qa;
        self
    }

    /// Enables or disables experiments.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

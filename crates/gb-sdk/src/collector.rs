//! What one evaluation reports, collected so that callbacks run after it, with no lock held.

use alloc::string::String;
use alloc::vec::Vec;

use gb_core::{Experiment, Observer};

/// Collects what an evaluation reports, so that callbacks run after it, with no lock held.
pub(crate) struct Collector<'a> {
    pub(crate) track: bool,
    pub(crate) usage: bool,
    pub(crate) viewed: Vec<(&'a Experiment, gb_core::ExperimentResult<'a>)>,
    pub(crate) used: Vec<(String, gb_core::FeatureResult<'a>)>,
}

impl Collector<'_> {
    /// A collector keeping experiment exposures if `track`, feature usage if `usage`.
    pub(crate) fn new(track: bool, usage: bool) -> Self {
        Self {
            track,
            usage,
            viewed: Vec::new(),
            used: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.viewed.is_empty() && self.used.is_empty()
    }
}

impl<'a> Observer<'a> for Collector<'a> {
    fn on_experiment_viewed(
        &mut self,
        experiment: &'a Experiment,
        result: &gb_core::ExperimentResult<'a>,
    ) {
        if self.track {
            self.viewed.push((experiment, result.clone()));
        }
    }

    fn on_feature_usage(&mut self, key: &str, result: &gb_core::FeatureResult<'a>) {
        if self.usage {
            self.used.push((key.into(), result.clone()));
        }
    }
}

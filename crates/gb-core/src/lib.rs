//! GrowthBook feature and experiment evaluation: `#![no_std]` + `alloc`, no I/O, no async.
//!
//! A [`FeatureSet`] is a GrowthBook payload (the JSON the features endpoint serves) compiled
//! once into an immutable snapshot: conditions parsed into typed trees, regular expressions
//! compiled, bucket ranges and hash seeds precomputed, contextual-bandit leaves resolved.
//! Evaluation reads it through `&self`, borrows its results from it, and allocates nothing for
//! the common cases.
//!
//! Semantics follow the reference JavaScript SDK (`@growthbook/growthbook` 1.8.0) and pass
//! every section of the shared spec suite: 32-bit FNV-1a over UTF-16 code units, hash
//! versions 1 and 2, force rules and rollouts, experiments with the full `runExperiment` step
//! order, filters, namespaces, prerequisites with cycle detection, saved groups, contextual
//! bandits, forced variations and values, QA mode, and sticky bucketing as data: the caller
//! passes a user's [`StickyBucketDocs`] in and saves the documents evaluation changed.
//!
//! Evaluation never fails and never panics: a malformed rule disables itself (see
//! [`FeatureSet::warnings`]), an unknown feature gives [`FeatureSource::UnknownFeature`].
//!
//! # Example
//!
//! ```
//! use gb_core::{FeatureSet, FeatureSource, User};
//! use serde_json::json;
//!
//! let fs = FeatureSet::from_json_str(r#"{"features": {
//!     "dark-mode": {"defaultValue": false, "rules": [
//!         {"condition": {"country": {"$in": ["US", "CA"]}}, "force": true}
//!     ]},
//!     "button": {"defaultValue": "blue", "rules": [
//!         {"key": "button-test", "variations": ["blue", "green"], "hashVersion": 2}
//!     ]}
//! }}"#).unwrap();
//!
//! let attrs = json!({"id": "user-1", "country": "US"});
//! let user = User::new(attrs.as_object().unwrap());
//!
//! let dark = fs.eval_feature("dark-mode", &user);
//! assert!(dark.on());
//! assert_eq!(dark.source, FeatureSource::Force);
//!
//! let button = fs.eval_feature("button", &user);
//! assert_eq!(button.source, FeatureSource::Experiment);
//! let exp = button.experiment_result.as_ref().unwrap();
//! assert!(exp.in_experiment && exp.hash_used);
//! assert_eq!(button.value, &json!(["blue", "green"])[exp.variation_id]);
//!
//! assert_eq!(fs.eval_feature("nope", &user).source, FeatureSource::UnknownFeature);
//! ```
#![no_std]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod bucket;
mod compiling;
mod context;
mod depth;
mod eval_all;
mod evaluate;
mod experiment;
mod feature;
pub mod hash;
pub mod json;
mod memo;
mod prereq_graph;
mod result;
pub mod sticky;
pub mod trace;
pub mod url;
mod values;
pub mod warning;

pub use context::User;
pub use experiment::{Experiment, ExperimentJson};
pub use feature::{FeatureSet, ParseError};
pub use result::{BanditInfo, ExperimentResult, FeatureResult, FeatureSource, UrlRedirect};
pub use sticky::{StickyAssignmentsDocument, StickyBucketDocs};
pub use trace::{Observer, Trace};
pub use warning::Warning;

pub use gb_condition;
pub use serde_json;

/// The limits that bound loading and evaluation.
pub mod limits {
    pub use crate::depth::MAX_JSON_DEPTH;
    pub use crate::memo::MAX_EVALUATION_WORK;
    pub use crate::prereq_graph::MAX_PREREQUISITE_DEPTH;
}

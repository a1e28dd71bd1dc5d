//! GrowthBook evaluation core.
#![no_std]
extern crate alloc;
#[cfg(test)]
extern crate std;

mod bucket;
mod context;
mod evaluate;
mod experiment;
mod feature;
mod hash;
mod result;
pub mod sticky;
mod url;

pub use bucket::{
    Range, bucket_ranges, choose_variation, equal_weights, in_namespace, in_range,
    query_string_override,
};
pub use context::User;
pub use evaluate::{MAX_PREREQUISITE_DEPTH, Observer, Trace, UrlRedirect};
pub use experiment::Experiment;
pub use feature::{FeatureSet, MAX_JSON_DEPTH, ParseError};
pub use hash::{Fnv1a32, HashVersion, fnv1a32, hash};
pub use result::{BanditInfo, ExperimentResult, FeatureResult, FeatureSource, is_truthy};
pub use sticky::{StickyAssignmentsDocument, StickyBucketDocs, attribute_key};
pub use url::merge_query_strings;

pub use gb_condition;
pub use serde_json;

//! GrowthBook evaluation core.
#![no_std]
extern crate alloc;

pub mod sticky;
pub use sticky::{StickyAssignmentsDocument, StickyBucketDocs, attribute_key};

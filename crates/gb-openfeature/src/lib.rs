#![doc = include_str!("../README.md")]

extern crate alloc;

mod context;
mod provider;
mod resolve;

pub use context::{context_to_attributes, json_field, struct_to_json};
pub use provider::{
    DEFAULT_INIT_TIMEOUT, DEFAULT_TARGETING_KEY_ATTRIBUTE, GrowthBookProvider, PROVIDER_NAME,
    provider_status,
};
pub use resolve::CYCLIC_PREREQUISITE;

/// The GrowthBook SDK this provider wraps, so one dependency gives both.
pub use gb_sdk;
/// The OpenFeature API this provider implements (the version the provider is built against).
pub use open_feature;

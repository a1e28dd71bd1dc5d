#![doc = include_str!("../README.md")]

extern crate alloc;

mod attributes;
mod builder;
mod client;
mod collector;
mod config;
mod dedup;
mod deferred;
mod detail;
mod error;
mod eval_all;
mod event_size;
mod experiment_builder;
mod feature_result;
mod inputs;
mod js_string;
#[cfg(feature = "tower")]
mod layer;
mod plugin;
mod remote;
pub mod remote_eval;
mod request;
mod result;
mod seen;
mod snapshot;
mod state;
mod sticky_writer;
pub mod testing;
mod tracking;
mod updates;
mod user;

pub use attributes::{Attributes, AttributesError};
pub use builder::GrowthBookBuilder;
pub use client::GrowthBook;
pub use config::{
    DEFAULT_API_HOST, DEFAULT_CACHE_TTL, DEFAULT_DEDUP_CAPACITY, DEFAULT_STICKY_TIMEOUT,
    RefreshStrategy,
};
pub use deferred::{DEFERRED_TRACKING_CAPACITY, DeferredTrackingCall};
pub use detail::{EvaluationError, EvaluationReason, FeatureDetail};
pub use error::{Error, Result, Source};
pub use eval_all::AllResults;
pub use experiment_builder::{ExperimentBuilder, ExperimentError};
pub use feature_result::FeatureResult;
/// The feature caches live beside the payload engine in gb-transport (a third-party cache
/// depends on gb-transport only); re-exported here.
pub use gb_transport::cache;
#[cfg(feature = "redis")]
pub use gb_transport::cache::RedisFeatureCache;
pub use gb_transport::cache::{
    CacheEntry, CacheError, FeatureCache, FileFeatureCache, MemoryFeatureCache,
};
#[cfg(feature = "tower")]
pub use layer::{GrowthBookLayer, GrowthBookService};
pub use plugin::{FeatureUsageCallback, Plugin, TrackingCallback};
pub use remote_eval::RemoteEvalEndpoint;
#[cfg(feature = "tower")]
pub use remote_eval::RemoteEvalService;
pub use request::{RequestContext, RequestInfo, browser_and_device};
pub use result::{ExperimentResult, Reason};
pub use state::Status;
pub use tracking::{
    DEFAULT_INGESTOR_HOST, DEFAULT_TRACKING_BATCH_SIZE, DEFAULT_TRACKING_DEDUP_CAPACITY,
    DEFAULT_TRACKING_FLUSH_INTERVAL, DEFAULT_TRACKING_MAX_EVENT_BYTES,
    DEFAULT_TRACKING_QUEUE_BYTES, DEFAULT_TRACKING_QUEUE_CAPACITY, EVENT_EXPERIMENT_VIEWED,
    EVENT_FEATURE_EVALUATED, EventSink, GrowthBookTrackingPlugin, HttpEventSink, TrackedEvent,
    TrackingPluginBuilder, TrackingStats,
};
pub use user::UserContext;

pub use gb_core::{Experiment, FeatureSource};
pub use gb_transport::{
    BackoffConfig, Dial, NetworkConfig, ProxyConfig, TlsConfig, Transport, TransportError,
};

/// The evaluation core (borrowed results, `FeatureSet`, hashing), for advanced use.
pub use gb_core;
/// Sticky-bucket stores: [`sticky::InMemoryStickyBucketService`], the cookie store,
/// `RedisStickyBucketService` (feature `redis`), and the service traits.
pub use gb_sticky as sticky;
/// Transports and payload decryption, for custom transports.
pub use gb_transport as transport;
/// `serde_json`, so `json!` and `Map` need no extra dependency.
pub use serde_json;

//! The GrowthBook tracking plugin: ships "Experiment Viewed", "Feature Evaluated" and custom
//! events to GrowthBook's ingestor, as the JS SDK's `growthbookTrackingPlugin` does.
//!
//! * Wire format: `POST {ingestor_host}/track?client_key={key}`, a JSON array of event
//!   payloads, `Content-Type: text/plain`, `Accept: application/json`.
//! * Hooks run on the evaluating thread and only deduplicate, build the event and `try_send` it
//!   into a queue bounded in events and bytes: a full queue drops the event (counted), an
//!   event over its own size limit is dropped (counted as oversized), nothing ever waits for the
//!   network. A worker thread with its own small runtime batches and posts.

/// The event name of an experiment exposure (the JS SDK's `EVENT_EXPERIMENT_VIEWED`).
pub const EVENT_EXPERIMENT_VIEWED: &str = "Experiment Viewed";
/// The event name of a feature evaluation (the JS SDK's `EVENT_FEATURE_EVALUATED`).
pub const EVENT_FEATURE_EVALUATED: &str = "Feature Evaluated";
/// The default ingestor (the JS SDK's).
pub const DEFAULT_INGESTOR_HOST: &str = "https://us-east-1.gb-ingest.com";

mod builder;
mod event;
mod plugin;
mod sink;
mod stats;
mod worker;

pub use builder::{
    DEFAULT_TRACKING_BATCH_SIZE, DEFAULT_TRACKING_DEDUP_CAPACITY, DEFAULT_TRACKING_FLUSH_INTERVAL,
    DEFAULT_TRACKING_MAX_EVENT_BYTES, DEFAULT_TRACKING_QUEUE_BYTES,
    DEFAULT_TRACKING_QUEUE_CAPACITY, TrackingPluginBuilder,
};
pub use event::TrackedEvent;
pub use plugin::GrowthBookTrackingPlugin;
pub use sink::{EventSink, HttpEventSink};
pub use stats::TrackingStats;

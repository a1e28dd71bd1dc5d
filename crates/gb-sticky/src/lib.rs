//! Sticky-bucketing stores for GrowthBook: the service traits, and in-memory, Redis and cookie
//! adapters.
//!
//! Sticky bucketing keeps a user in the variation they first saw when an experiment's targeting
//! or weights change. `gb_core` evaluates on documents in memory
//! ([`gb_core::StickyBucketDocs`]); this crate loads and saves them. Per user or request:
//!
//! 1. **fetch**: [`load_docs`] calls [`StickyBucketService::get_all_assignments`] once for
//!    every identifier attribute the payload uses (`("id", "123")`, `("deviceId", "d1")`, ...);
//! 2. **evaluate** with `gb_core` on the returned [`StickyBucketDocs`];
//! 3. **save**: [`save_changed`] passes [`StickyBucketDocs::take_changed`] to
//!    [`StickyBucketService::save_assignments`].
//!
//! If step 1 fails (store down, timeout), evaluate with empty docs: plain hashing.
//!
//! Documents have the GrowthBook shape
//! `{"attributeName": "id", "attributeValue": "123", "assignments": {"<experimentKey>__<bucketVersion>": "<variationKey>"}}`
//! and the key `attributeName||attributeValue` ([`gb_core::sticky::attribute_key`]).
//!
//! | store | feature | use |
//! |---|---|---|
//! | [`InMemoryStickyBucketService`] | always | one process; bounded, LRU eviction |
//! | `CookieStickyBucketService` + `CookieCodec` | `cookie` (default) | web servers: docs in the visitor's cookies |
//! | `RedisStickyBucketService` | `redis` | shared across instances; `MGET`, TTL, timeouts |
//! | your own | | implement [`StickyBucketService`] or [`StickyBucketServiceSync`], check with `conformance` (feature `test-util`) |
//!
//! ```
//! use gb_core::{FeatureSet, User};
//! use gb_sticky::{InMemoryStickyBucketService, StickyAssignmentsDocument, StickyBucketService};
//! use gb_sticky::{load_docs, save_changed};
//! use std::sync::Arc;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! # rt.block_on(async {
//! let store: Arc<dyn StickyBucketService> = Arc::new(InMemoryStickyBucketService::new());
//! let features = FeatureSet::from_json_str(r#"{"features": {"checkout": {"defaultValue": "old",
//!     "rules": [{"key": "checkout-exp", "variations": ["old", "new"],
//!                "meta": [{"key": "0"}, {"key": "1"}], "weights": [0.5, 0.5]}]}}}"#)?;
//!
//! // An earlier request put user 123 in variation "1".
//! let earlier = StickyAssignmentsDocument {
//!     attribute_name: "id".into(),
//!     attribute_value: "123".into(),
//!     assignments: [("checkout-exp__0".to_string(), "1".to_string())].into(),
//! };
//! store.save_assignments(vec![earlier]).await?;
//!
//! let attributes = serde_json::json!({"id": "123", "deviceId": "d9"});
//! let user = User::new(attributes.as_object().expect("an object"));
//!
//! // 1. Fetch the docs of every identifier attribute the payload uses, in one call; if the
//! //    store fails, evaluate without docs (plain hashing).
//! let wanted = features.sticky_bucket_attributes(&user);
//! let mut docs = load_docs(store.as_ref(), &wanted).await.unwrap_or_default();
//!
//! // 2. Evaluate: the stored assignment wins.
//! let result = features.eval_feature_with("checkout", &user, Some(&mut docs), &mut ());
//! assert_eq!(result.value, "new");
//!
//! // 3. Save what evaluation changed (here nothing: the assignment was already stored).
//! save_changed(store.as_ref(), &mut docs).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without a runtime, use the sync side: [`load_docs_sync`] / [`save_changed_sync`] on a
//! [`StickyBucketServiceSync`] (the in-memory and cookie stores are both).
extern crate alloc;

pub mod bounded;
#[cfg(feature = "test-util")]
pub mod conformance;
#[cfg(feature = "cookie")]
pub mod cookie;
pub mod error;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
pub mod service;

#[cfg(feature = "cookie")]
pub use bounded::BoundedLru;
pub use cookie::{CookieCodec, CookieStickyBucketService, SameSite};
pub use error::{BoxError, StickyError, StickyErrorKind};
pub use gb_core::{StickyAssignmentsDocument, StickyBucketDocs, sticky::attribute_key};
pub use memory::InMemoryStickyBucketService;
#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisStickyBucketService};
pub use service::{
    BoxFuture, IdentifierAttribute, StickyBucketService, StickyBucketServiceSync, load_docs,
    load_docs_sync, save_changed, save_changed_sync,
};

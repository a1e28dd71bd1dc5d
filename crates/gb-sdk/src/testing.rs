//! Test data for your own tests: a client with fixed feature values (for everyone, or per
//! attribute value), no network, no runtime; and [`StaticTransport`], a [`Transport`] that
//! serves a payload from memory (for testing refresh and status handling without a server).
//!
//! ```
//! use gb_sdk::Attributes;
//! use gb_sdk::testing::TestData;
//!
//! # fn main() -> gb_sdk::Result<()> {
//! let data = TestData::new()
//!     .feature("new-checkout", true)
//!     .feature("button-color", "green")
//!     .feature_for("button-color", "id", "vip-1", "gold");
//! let client = data.client()?;
//!
//! let user = client.user(Attributes::new().insert("id", "user-1"));
//! assert!(user.is_on("new-checkout"));
//! assert_eq!(user.feature_value("button-color", String::new()), "green");
//! let vip = client.user(Attributes::new().insert("id", "vip-1"));
//! assert_eq!(vip.feature_value("button-color", String::new()), "gold");
//!
//! // Change a value while the test runs.
//! data.clone().feature("new-checkout", false).apply(&client)?;
//! assert!(!user.is_on("new-checkout"));
//! # Ok(())
//! # }
//! ```

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use gb_transport::{BoxFuture, FetchRequest, FetchResponse, Transport, TransportError};
use serde_json::{Map, Value, json};

use crate::client::GrowthBook;
use crate::error::Result;

/// Fixed feature values: for everyone ([`feature`](Self::feature)) and for the users whose
/// attribute has a given value ([`feature_for`](Self::feature_for), checked first, in the
/// order given). Turned into an ordinary payload, so evaluation is the real one.
#[derive(Debug, Clone, Default)]
pub struct TestData {
    /// Feature key → (value for everyone, per-user rules).
    features: Vec<(String, Value, Vec<Value>)>,
}

impl TestData {
    /// No features.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, key: &str) -> &mut (String, Value, Vec<Value>) {
        let i = match self.features.iter().position(|(k, _, _)| k == key) {
            Some(i) => i,
            None => {
                self.features.push((key.into(), Value::Null, Vec::new()));
                self.features.len() - 1
            }
        };
        &mut self.features[i]
    }

    /// Feature `key` has `value` for everyone (replacing an earlier value; per-user values
    /// stay).
    #[must_use]
    pub fn feature(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.entry(key).1 = value.into();
        self
    }

    /// Feature `key` has `value` for users whose `attribute` equals `equals`.
    #[must_use]
    pub fn feature_for(
        mut self,
        key: &str,
        attribute: &str,
        equals: impl Into<Value>,
        value: impl Into<Value>,
    ) -> Self {
        let mut condition = Map::new();
        condition.insert(attribute.into(), equals.into());
        self.entry(key).2.push(json!({
            "id": format!("test-{attribute}"),
            "condition": condition,
            "force": value.into(),
        }));
        self
    }

    /// The payload (`{"features": ...}`) these values make.
    pub fn payload(&self) -> Value {
        let features: Map<String, Value> = self
            .features
            .iter()
            .map(|(k, v, rules)| {
                (
                    k.clone(),
                    json!({"defaultValue": v, "rules": rules.clone()}),
                )
            })
            .collect();
        json!({ "features": features })
    }

    /// A client on these values: no network, no async runtime needed.
    ///
    /// # Errors
    /// As [`GrowthBookBuilder::build`](crate::GrowthBookBuilder::build) (never for a
    /// client built from test data alone).
    pub fn client(&self) -> Result<GrowthBook> {
        GrowthBook::builder().payload(self.payload()).build()
    }

    /// Replaces a client's features with these values (every user sees them at once).
    ///
    /// # Errors
    /// As [`GrowthBook::set_payload`].
    pub fn apply(&self, client: &GrowthBook) -> Result<u64> {
        client.set_payload(&self.payload())
    }

    /// A [`StaticTransport`] serving these values.
    pub fn transport(&self) -> Arc<StaticTransport> {
        Arc::new(StaticTransport::new(&self.payload()))
    }
}

/// A [`Transport`] that serves a payload from memory: every fetch answers the current one
/// (with an ETag that changes with [`set_payload`](Self::set_payload)). Streaming and remote
/// evaluation are unsupported. Give it to
/// [`GrowthBookBuilder::transport`](crate::GrowthBookBuilder::transport) with any client key.
#[derive(Debug)]
pub struct StaticTransport {
    state: Mutex<(Arc<str>, u64)>,
    fetches: AtomicUsize,
}

impl StaticTransport {
    /// Serves `payload` (a `{"features": ...}` object).
    pub fn new(payload: &Value) -> Self {
        Self {
            state: Mutex::new((payload.to_string().into(), 1)),
            fetches: AtomicUsize::new(0),
        }
    }

    /// Serves `payload` from the next fetch on.
    pub fn set_payload(&self, payload: &Value) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *s = (payload.to_string().into(), s.1 + 1);
    }

    /// How many fetches were answered.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }
}

impl Transport for StaticTransport {
    fn fetch_features(
        &self,
        request: FetchRequest,
    ) -> BoxFuture<'_, core::result::Result<FetchResponse, TransportError>> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let (body, version) = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let _ = request;
        Box::pin(async move {
            Ok(FetchResponse {
                body,
                etag: Some(format!("\"static-{version}\"")),
                sse_supported: false,
                not_modified: false,
            })
        })
    }
}

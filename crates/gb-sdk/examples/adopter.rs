//! The whole adopter path in one program: a client, attributes from your own struct, typed
//! values and details, every feature at once, an inline experiment, event tracking, status,
//! shutdown.
//!
//! ```text
//! cargo run -p gb-sdk --example adopter                       # offline: examples/payload.json
//! GB_CLIENT_KEY=sdk-abc123 cargo run -p gb-sdk --example adopter   # your GrowthBook project
//! ```
//!
//! Offline, tracked events go to a sink that prints them; with a client key, to GrowthBook's
//! ingestor.

extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::transport::{BoxFuture, TransportError};
use gb_sdk::{
    Attributes, EventSink, ExperimentBuilder, GrowthBook, GrowthBookTrackingPlugin, Plugin,
    RefreshStrategy,
};
use serde::{Deserialize, Serialize};

/// Your own user type: its fields become the targeting attributes.
#[derive(Serialize)]
struct Customer {
    id: String,
    country: String,
    plan: Option<String>,
    employee: bool,
}

/// A feature's JSON value, typed.
#[derive(Debug, Deserialize)]
struct Pricing {
    plan: String,
    price: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn core::error::Error>> {
    let key = std::env::var("GB_CLIENT_KEY").ok();

    // Tracking: "Experiment Viewed", "Feature Evaluated" and your own events, batched off the
    // evaluating thread.
    let mut tracking = GrowthBookTrackingPlugin::builder(key.clone().unwrap_or_default());
    if key.is_none() {
        tracking = tracking.sink(Arc::new(PrintSink));
    }
    let tracking = tracking.build()?;

    let builder = GrowthBook::builder().plugin(Arc::clone(&tracking) as Arc<dyn Plugin>);
    let client = match &key {
        Some(key) => builder
            .client_key(key)
            .refresh(RefreshStrategy::Streaming)
            .build()?,
        None => builder
            .payload(serde_json::from_str::<Value>(include_str!(
                "../../../examples/payload.json"
            ))?)
            .build()?,
    };
    // Evaluations never wait for the network: before features load they return defaults.
    client.ready(Duration::from_secs(3)).await;
    println!("status: {:?}", *client.status_changes().borrow());

    // Attributes: from your struct, or built by hand.
    let customer = Customer {
        id: "user-42".into(),
        country: "US".into(),
        plan: Some("pro".into()),
        employee: false,
    };
    let user = client.user(Attributes::from_serialize(&customer)?);
    let guest = client.user(
        Attributes::new()
            .insert("id", "guest-7")
            .insert("country", "DE"),
    );

    // Typed values (the default when the feature is missing or has another type).
    let color: String = user.feature_value("checkout-button", "blue".into());
    let max_upload: u32 = user.feature_value("max-upload-mb", 25);
    println!("checkout-button = {color}, max-upload-mb = {max_upload}");

    // Typed details: the value and why.
    let pricing = user.feature_detail(
        "pricing-page",
        Pricing {
            plan: "standard".into(),
            price: 12.0,
        },
    );
    println!(
        "pricing-page = {} at {}: {:?}, rule {:?}, variation {:?}",
        pricing.value.plan,
        pricing.value.price,
        pricing.reason,
        pricing.rule_id,
        pricing.variation_id()
    );
    let wrong = guest.feature_detail("checkout-button", 0);
    println!(
        "checkout-button as a number: {} ({:?})",
        wrong.value, wrong.reason
    );

    // Every feature at once (e.g. to hand to a browser).
    let all = user.eval_all();
    println!("{} features: {}", all.len(), Value::Object(all.values()));

    // An inline experiment, checked when built.
    let hero = ExperimentBuilder::new("hero-copy")
        .variations(["Fast checkout", "One-click checkout"])
        .weights([0.5, 0.5])
        .hash_version(2)
        .build()?;
    println!("hero-copy: {}", user.run(&hero).value);

    // Your own events.
    let mut props = Map::new();
    props.insert("amount".into(), json!(49.9));
    user.log_event("Purchase", props);

    // Shutdown, one call: sticky saves flushed, the tracking plugin posts what it holds.
    client.shutdown(Duration::from_secs(2)).await;
    println!("tracking: {:?}", tracking.stats());
    Ok(())
}

/// An event sink that prints each batch (offline stand-in for the ingestor).
#[derive(Debug)]
struct PrintSink;

impl EventSink for PrintSink {
    fn send<'a>(&'a self, events: &'a [Value]) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            for e in events {
                println!("event: {}", e["event_name"]);
            }
            Ok(())
        })
    }
}

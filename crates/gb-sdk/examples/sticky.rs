//! Sticky bucketing: a user keeps their variation when the experiment's weights change.
//! `cargo run -p gb-sdk --example sticky`
extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::{Value, json};
use gb_sdk::sticky::InMemoryStickyBucketService;

fn payload(weights: [f64; 2]) -> Value {
    json!({"features": {"checkout": {"defaultValue": "old", "rules": [{
        "key": "checkout-exp", "variations": ["old", "new"],
        "meta": [{"key": "0"}, {"key": "1"}], "weights": weights
    }]}}})
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> gb_sdk::Result<()> {
    // Any `StickyBucketService`: in memory here; Redis or cookies in production.
    let store = Arc::new(InMemoryStickyBucketService::new());
    let client = GrowthBook::builder()
        .payload(payload([0.5, 0.5]))
        .sticky_bucket_service(store)
        .build()?;
    let attributes = gb_sdk::Attributes::new().insert("id", "user-7");
    // One call loads the user's documents; evaluation then never waits.
    let user = client.user(attributes.clone()).prepare().await?;
    let first = user.feature_value("checkout", String::new());
    // Saves happen in the background; flush only to be sure before reading them back.
    client.flush().await;

    client.set_payload(&payload([0.0, 1.0]))?;
    let later = client.user(attributes).prepare().await?;
    println!(
        "first: {first}, after the weight change: {}",
        later.feature_value("checkout", String::new())
    );
    client.shutdown(Duration::from_secs(1)).await;
    Ok(())
}

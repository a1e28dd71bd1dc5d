//! Tracking and feature-usage callbacks, and a plugin. `cargo run -p gb-sdk --example callbacks`
extern crate alloc;

use alloc::sync::Arc;

use gb_sdk::serde_json::json;
use gb_sdk::{Experiment, ExperimentResult, GrowthBook, Plugin, UserContext};

#[derive(Debug)]
struct Logger;

impl Plugin for Logger {
    fn name(&self) -> &str {
        "logger"
    }
    fn on_experiment_viewed(&self, e: &Experiment, r: &ExperimentResult, _: &UserContext) {
        println!("[plugin] {} -> {}", e.key(), r.key);
    }
}

fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .payload(
            json!({"features": {"price": {"defaultValue": 10, "rules": [{
                "key": "pricing", "variations": [10, 12], "hashAttribute": "id"
            }]}}}),
        )
        // Fires once per user, experiment and variation, only for hashed assignments.
        .on_experiment_viewed(|experiment, result, user| {
            println!(
                "track {} for {:?}: variation {}",
                experiment.key(),
                user.attributes().get("id"),
                result.variation_id
            );
        })
        .on_feature_usage(|key, result, _| println!("used {key} = {}", result.value()))
        .plugin(Arc::new(Logger))
        .build()?;
    for id in ["a", "b", "a"] {
        let user = client.user(gb_sdk::Attributes::new().insert("id", id));
        println!("{id}: price {}", user.feature_value("price", 0));
    }
    Ok(())
}

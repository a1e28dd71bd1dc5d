//! Offline: a local payload, no server. `cargo run -p gb-sdk --example offline`
use gb_sdk::serde_json::json;
use gb_sdk::{Experiment, GrowthBook};

fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .payload_json(
            r#"{"features": {
                "new-checkout": {"defaultValue": false,
                    "rules": [{"condition": {"country": {"$in": ["NZ", "AU"]}}, "force": true}]},
                "max-items": {"defaultValue": 10}
            }}"#,
        )
        .build()?;
    for country in ["NZ", "US"] {
        let user = client.user(
            gb_sdk::Attributes::new()
                .insert("id", "42")
                .insert("country", country),
        );
        println!(
            "{country}: new-checkout={} max-items={}",
            user.is_on("new-checkout"),
            user.feature_value("max-items", 0u32)
        );
        println!(
            "  explained: {}",
            user.eval_feature("new-checkout").to_json()
        );
    }
    let exp = Experiment::from_json(&json!({"key": "banner", "variations": ["red", "green"]}));
    let result = client.user(gb_sdk::Attributes::new()).run(&exp);
    println!("inline experiment: {}", result.to_json());
    Ok(())
}

//! GrowthBook behind the OpenFeature API, offline (a local payload).
//! `cargo run -p gb-openfeature --example openfeature`
use gb_openfeature::GrowthBookProvider;
use gb_openfeature::gb_sdk::GrowthBook;
use gb_openfeature::open_feature::{
    EvaluationContext, EvaluationContextFieldValue, OpenFeature, StructValue,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn core::error::Error>> {
    let growthbook = GrowthBook::builder()
        .payload_json(
            r##"{"features": {
                "new-checkout": {"defaultValue": false,
                    "rules": [{"condition": {"country": {"$in": ["NZ", "AU"]}}, "force": true}]},
                "max-items": {"defaultValue": 10,
                    "rules": [{"condition": {"plan.tier": "gold"}, "force": 50}]},
                "banner": {"defaultValue": "Welcome", "rules": [{"key": "banner-copy",
                    "variations": ["Welcome", "Hello there"], "weights": [0.5, 0.5]}]},
                "theme": {"defaultValue": {"primary": "#0055ff", "rounded": true}}
            }}"##,
        )
        .on_experiment_viewed(|experiment, result, user| {
            println!(
                "  [track] {} saw {} of {}",
                user.attributes()["id"],
                result.key,
                experiment.key()
            );
        })
        .build()?;

    // The one line that differs from any other OpenFeature provider.
    OpenFeature::singleton_mut()
        .await
        .set_provider(GrowthBookProvider::new(growthbook))
        .await;
    let client = OpenFeature::singleton().await.create_client();

    for (id, country, tier) in [("ann", "NZ", "gold"), ("bob", "US", "free")] {
        let plan = StructValue::default().with_field("tier", tier);
        let context = EvaluationContext::default()
            .with_targeting_key(id)
            .with_custom_field("country", country)
            .with_custom_field("plan", EvaluationContextFieldValue::new_struct(plan));
        let checkout = client
            .get_bool_details("new-checkout", Some(&context), None)
            .await
            .map_err(|e| e.code)?;
        let items = client
            .get_int_value("max-items", Some(&context), None)
            .await
            .map_err(|e| e.code)?;
        let banner = client
            .get_string_details("banner", Some(&context), None)
            .await
            .map_err(|e| e.code)?;
        let theme: StructValue = client
            .get_struct_value("theme", Some(&context), None)
            .await
            .map_err(|e| e.code)?;
        println!(
            "{id}: new-checkout={} ({:?}), max-items={items}, banner={:?} ({:?}, variant {:?}), theme={}",
            checkout.value,
            checkout.reason,
            banner.value,
            banner.reason,
            banner.variant,
            gb_openfeature::struct_to_json(&theme)
        );
        // Errors carry the OpenFeature code; the caller's default applies.
        let missing = client
            .get_float_value("missing", Some(&context), None)
            .await;
        println!(
            "  missing: {:?} -> {}",
            missing.as_ref().map_err(|e| &e.code),
            missing.clone().unwrap_or(1.5)
        );
    }

    // Drops the provider, which closes the GrowthBook client.
    OpenFeature::singleton_mut().await.shutdown().await;
    Ok(())
}

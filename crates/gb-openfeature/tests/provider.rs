//! Reasons, errors, context mapping, tracking and lifecycle, through the OpenFeature API.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use gb_openfeature::gb_sdk::serde_json::{Value, json};
use gb_openfeature::gb_sdk::{GrowthBook, GrowthBookBuilder, Status};
use gb_openfeature::open_feature::provider::{FeatureProvider, ProviderStatus};
use gb_openfeature::open_feature::{
    Client, EvaluationContext, EvaluationContextFieldValue, EvaluationError, EvaluationErrorCode,
    EvaluationReason, FlagMetadataValue, OpenFeature, StructValue, Value as OfValue,
};
use gb_openfeature::{GrowthBookProvider, json_field, provider_status, struct_to_json};

fn payload() -> Value {
    json!({"features": {
        "dark-mode": {"defaultValue": false, "rules": [
            {"id": "fr_beta", "condition": {"beta": true}, "force": true}
        ]},
        "color": {"defaultValue": "blue", "rules": [{
            "key": "color-test", "coverage": 1.0, "hashAttribute": "id",
            "variations": ["red", "green"], "weights": [0.5, 0.5],
            "meta": [{"key": "v-red", "name": "Red"}, {"key": "v-green", "name": "Green"}]
        }]},
        "limit": {"defaultValue": 10},
        "limit-float": {"defaultValue": 3.0},
        "ratio": {"defaultValue": 0.25},
        "settings": {"defaultValue": {"theme": "dark", "sizes": [1, 2.5], "extra": null}},
        "list": {"defaultValue": [1, 2]},
        "gated": {"defaultValue": "on", "rules": [
            {"parentConditions": [{"id": "dark-mode", "condition": {"value": true}, "gate": true}]}
        ]},
        "no-value": {"defaultValue": null},
        "forced": {"defaultValue": 1}
    }})
}

fn builder() -> GrowthBookBuilder {
    GrowthBook::builder()
        .payload(payload())
        .forced_features(json!({"forced": 2}).as_object().cloned().unwrap())
}

async fn client_for(provider: GrowthBookProvider) -> Client {
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    api.create_client()
}

fn user(id: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(id)
}

fn code<T: core::fmt::Debug>(r: Result<T, EvaluationError>) -> EvaluationErrorCode {
    r.unwrap_err().code
}

#[tokio::test]
async fn reasons_variants_and_metadata() {
    let client = client_for(GrowthBookProvider::new(builder().build().unwrap())).await;
    let beta = user("u1").with_custom_field("beta", true);

    let d = client
        .get_bool_details("dark-mode", Some(&beta), None)
        .await
        .unwrap();
    assert!(d.value);
    assert_eq!(d.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(d.variant.as_deref(), Some("fr_beta"));
    let meta = &d.flag_metadata.values;
    assert_eq!(meta["source"], FlagMetadataValue::String("force".into()));
    assert_eq!(meta["ruleId"], FlagMetadataValue::String("fr_beta".into()));

    let d = client
        .get_bool_details("dark-mode", Some(&user("u1")), None)
        .await
        .unwrap();
    assert!(!d.value);
    assert_eq!(d.reason, Some(EvaluationReason::Default));
    assert_eq!(d.variant, None);

    let d = client
        .get_string_details("color", Some(&user("u1")), None)
        .await
        .unwrap();
    assert_eq!(d.reason, Some(EvaluationReason::Split));
    let meta = &d.flag_metadata.values;
    assert_eq!(
        meta["experimentKey"],
        FlagMetadataValue::String("color-test".into())
    );
    let FlagMetadataValue::Int(variation) = meta["variationId"] else {
        panic!("variationId {meta:?}")
    };
    let (key, name) = [("v-red", "Red"), ("v-green", "Green")][usize::try_from(variation).unwrap()];
    assert_eq!(
        d.value,
        ["red", "green"][usize::try_from(variation).unwrap()]
    );
    assert_eq!(d.variant.as_deref(), Some(key));
    assert_eq!(meta["variationKey"], FlagMetadataValue::String(key.into()));
    assert_eq!(
        meta["variationName"],
        FlagMetadataValue::String(name.into())
    );
    assert_eq!(meta["inExperiment"], FlagMetadataValue::Bool(true));
    assert_eq!(meta["hashUsed"], FlagMetadataValue::Bool(true));

    let d = client.get_int_details("forced", None, None).await.unwrap();
    assert_eq!((d.value, d.reason), (2, Some(EvaluationReason::Static)));

    // A failed gating prerequisite: disabled, the type's default.
    let d = client
        .get_string_details("gated", Some(&user("u1")), None)
        .await
        .unwrap();
    assert_eq!(
        (d.value.as_str(), d.reason),
        ("", Some(EvaluationReason::Disabled))
    );
    let d = client
        .get_string_details("gated", Some(&beta), None)
        .await
        .unwrap();
    assert_eq!(d.value, "on");
    // A feature without a value.
    let d = client
        .get_bool_details("no-value", None, None)
        .await
        .unwrap();
    assert_eq!(
        (d.value, d.reason),
        (false, Some(EvaluationReason::Default))
    );
}

#[tokio::test]
async fn typed_values_and_errors() {
    let client = client_for(GrowthBookProvider::new(builder().build().unwrap())).await;
    assert_eq!(client.get_int_value("limit", None, None).await.unwrap(), 10);
    assert_eq!(
        client
            .get_int_value("limit-float", None, None)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        client.get_float_value("limit", None, None).await.unwrap(),
        10.0
    );
    assert_eq!(
        client.get_float_value("ratio", None, None).await.unwrap(),
        0.25
    );
    let s: StructValue = client
        .get_struct_value("settings", None, None)
        .await
        .unwrap();
    assert_eq!(
        struct_to_json(&s),
        json!({"sizes": [1, 2.5], "theme": "dark"})
    );

    // Type mismatches: an error, so the caller's default applies.
    for r in [
        client.get_bool_value("limit", None, None).await,
        client.get_bool_value("color", None, None).await,
    ] {
        assert_eq!(code(r), EvaluationErrorCode::TypeMismatch);
    }
    assert_eq!(
        client.get_int_value("ratio", None, None).await.unwrap_or(7),
        7
    );
    assert_eq!(
        code(client.get_string_value("limit", None, None).await),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(
            client
                .get_struct_value::<StructValue>("list", None, None)
                .await
        ),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(client.get_float_details("settings", None, None).await),
        EvaluationErrorCode::TypeMismatch
    );

    // Unknown features.
    assert_eq!(
        code(client.get_bool_details("nope", None, None).await),
        EvaluationErrorCode::FlagNotFound
    );
    assert!(
        client
            .get_bool_value("nope", None, None)
            .await
            .unwrap_or(true)
    );
    assert_eq!(
        client
            .get_string_value("nope", None, None)
            .await
            .unwrap_or_default(),
        ""
    );
}

#[tokio::test]
async fn context_fields_become_attributes() {
    let provider = GrowthBookProvider::new(builder().build().unwrap());
    // 2024-05-01T12:30:00.250Z
    let signup =
        time::OffsetDateTime::from_unix_timestamp_nanos(1_714_566_600_250_000_000).unwrap();
    let plan = StructValue::default()
        .with_field("tier", "gold")
        .with_field("seats", 5)
        .with_field("tags", vec!["a", "b"])
        .with_field("owner", StructValue::default().with_field("admin", true));
    let context = user("u1")
        .with_custom_field("id", "overridden")
        .with_custom_field("age", 42)
        .with_custom_field("score", 0.5)
        .with_custom_field("beta", false)
        .with_custom_field("signup", signup)
        .with_custom_field("plan", EvaluationContextFieldValue::new_struct(plan))
        .with_custom_field(
            "groups",
            EvaluationContextFieldValue::new_struct(OfValue::Array(vec!["x".into(), 1.into()])),
        )
        .with_custom_field(
            "roles",
            EvaluationContextFieldValue::new_struct(vec!["admin".to_string()]),
        )
        .with_custom_field("raw", json_field(json!({"n": null, "l": [null]})))
        .with_custom_field("big", json_field(json!(u64::MAX)))
        .with_custom_field("nan", f64::NAN)
        .with_custom_field("opaque", EvaluationContextFieldValue::new_struct(1u8));
    assert_eq!(
        Value::Object(provider.attributes(&context)),
        json!({
            "age": 42, "beta": false, "big": u64::MAX,
            "groups": ["x", 1], "id": "u1", "nan": null,
            "plan": {"owner": {"admin": true}, "seats": 5, "tags": ["a", "b"], "tier": "gold"},
            "raw": {"n": null, "l": [null]}, "roles": ["admin"], "score": 0.5,
            "signup": "2024-05-01T12:30:00.250Z"
        })
    );

    // The same attributes drive targeting through OpenFeature.
    let gb = GrowthBook::builder()
        .payload(
            json!({"features": {"f": {"defaultValue": false, "rules": [{"force": true,
            "condition": {
                "id": "u1", "plan.tier": "gold", "plan.owner.admin": true,
                "plan.tags": {"$elemMatch": {"$eq": "b"}}, "roles": {"$all": ["admin"]},
                "age": {"$gte": 18}, "score": {"$lt": 1}, "beta": false,
                "signup": {"$gt": "2024-01-01T00:00:00.000Z"}
            }}]}}}),
        )
        .build()
        .unwrap();
    let client = client_for(GrowthBookProvider::new(gb)).await;
    assert!(
        client
            .get_bool_value("f", Some(&context), None)
            .await
            .unwrap()
    );
    let other = context.clone().with_targeting_key("u2");
    assert!(
        !client
            .get_bool_value("f", Some(&other), None)
            .await
            .unwrap()
    );

    // A custom targeting-key attribute.
    let gb = GrowthBook::builder()
        .payload(json!({"features": {"f": {"defaultValue": 0, "rules": [
            {"condition": {"userId": "u1"}, "force": 1}]}}}))
        .build()
        .unwrap();
    let client = client_for(GrowthBookProvider::new(gb).targeting_key_attribute("userId")).await;
    assert_eq!(
        client
            .get_int_value("f", Some(&user("u1")), None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .get_int_value("f", Some(&user("u2")), None)
            .await
            .unwrap(),
        0
    );
}

/// An address nothing listens on.
fn refused_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[tokio::test]
async fn not_ready_client_returns_defaults_with_provider_not_ready() {
    // A server that accepts connections and never answers: the client stays not ready.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gb = GrowthBook::builder()
        .client_key("sdk-test")
        .api_host(format!("http://{}", listener.local_addr().unwrap()))
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let provider = GrowthBookProvider::new(gb.clone()).init_timeout(Duration::from_millis(50));
    assert_eq!(provider.status(), ProviderStatus::NotReady);
    let client = client_for(provider).await;
    assert_eq!(gb.status(), Status::NotReady);

    let ctx = user("u1");
    let c = Some(&ctx);
    assert!(
        client
            .get_bool_value("dark-mode", c, None)
            .await
            .unwrap_or(true)
    );
    assert_eq!(client.get_int_value("limit", c, None).await.unwrap_or(5), 5);
    assert_eq!(
        client
            .get_float_value("ratio", c, None)
            .await
            .unwrap_or(0.5),
        0.5
    );
    assert_eq!(
        client
            .get_string_value("color", c, None)
            .await
            .unwrap_or_default(),
        ""
    );
    for got in [
        code(client.get_bool_details("dark-mode", c, None).await),
        code(client.get_int_details("limit", c, None).await),
        code(client.get_float_details("ratio", c, None).await),
        code(client.get_string_details("color", c, None).await),
        code(
            client
                .get_struct_details::<StructValue>("settings", c, None)
                .await,
        ),
    ] {
        assert_eq!(got, EvaluationErrorCode::ProviderNotReady);
    }

    // Once features arrive (here: set directly), the same client resolves them.
    gb.set_payload(&payload()).unwrap();
    assert_eq!(client.get_int_value("limit", c, None).await.unwrap(), 10);
    drop(listener);
}

#[tokio::test]
async fn status_follows_the_client() {
    // Nothing listens: the first fetch fails and the client reports an error.
    let gb = GrowthBook::builder()
        .client_key("sdk-test")
        .api_host(refused_addr())
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let mut provider = GrowthBookProvider::new(gb).init_timeout(Duration::from_secs(1));
    // Waits (bounded) for features that never come; the failed fetch is recorded by then.
    provider.initialize(&EvaluationContext::default()).await;
    assert_eq!(provider.status(), ProviderStatus::Error);
    let client = client_for(provider).await;
    assert_eq!(
        code(client.get_bool_value("dark-mode", None, None).await),
        EvaluationErrorCode::ProviderNotReady
    );

    let ready = GrowthBookProvider::new(builder().build().unwrap());
    assert_eq!(ready.status(), ProviderStatus::Ready);

    assert_eq!(provider_status(Status::NotReady), ProviderStatus::NotReady);
    assert_eq!(provider_status(Status::Ready), ProviderStatus::Ready);
    assert_eq!(provider_status(Status::Stale), ProviderStatus::STALE);
    assert_eq!(provider_status(Status::Error), ProviderStatus::Error);
}

#[tokio::test]
async fn initialize_waits_for_the_first_features() {
    let gb = builder().build().unwrap();
    let mut provider = GrowthBookProvider::new(gb);
    let started = tokio::time::Instant::now();
    provider.initialize(&EvaluationContext::default()).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a local payload is ready at once"
    );
    assert_eq!(provider.metadata().name, gb_openfeature::PROVIDER_NAME);
}

#[tokio::test]
async fn experiment_exposures_are_tracked() {
    let viewed = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&viewed);
    let gb = builder()
        .on_experiment_viewed(move |experiment, result, user| {
            assert_eq!(experiment.key(), "color-test");
            assert!(result.in_experiment);
            assert!(user.attributes().contains_key("id"));
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let client = client_for(GrowthBookProvider::new(gb)).await;
    for id in ["u1", "u2", "u1"] {
        client
            .get_string_value("color", Some(&user(id)), None)
            .await
            .unwrap();
    }
    // Once per user and variation (the client's deduplication).
    assert_eq!(viewed.load(Ordering::SeqCst), 2);
    // Not for features that are not experiments.
    client
        .get_bool_value("dark-mode", Some(&user("u3")), None)
        .await
        .unwrap();
    assert_eq!(viewed.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_callback_does_not_break_evaluation() {
    let gb = builder()
        .on_experiment_viewed(|_, _, _| panic!("tracking backend down"))
        .build()
        .unwrap();
    let client = client_for(GrowthBookProvider::new(gb)).await;
    let d = client
        .get_string_details("color", Some(&user("u1")), None)
        .await
        .unwrap();
    assert_eq!(d.reason, Some(EvaluationReason::Split));
}

#[tokio::test]
async fn singleton_api_and_shutdown_close_the_client() {
    let gb = builder().build().unwrap();
    let kept = GrowthBook::builder().payload(payload()).build().unwrap();
    {
        let mut api = OpenFeature::singleton_mut().await;
        api.set_provider(GrowthBookProvider::new(gb.clone())).await;
        api.set_named_provider(
            "kept",
            GrowthBookProvider::new(kept.clone()).close_on_drop(false),
        )
        .await;
    }
    let client = OpenFeature::singleton().await.create_client();
    let ctx = user("u1").with_custom_field("beta", true);
    assert!(
        client
            .get_bool_value("dark-mode", Some(&ctx), None)
            .await
            .unwrap()
    );
    let named = OpenFeature::singleton().await.create_named_client("kept");
    assert_eq!(named.get_int_value("limit", None, None).await.unwrap(), 10);
    drop((client, named));

    OpenFeature::singleton_mut().await.shutdown().await;
    assert!(
        gb.is_closed(),
        "shutdown drops the provider, which closes the client"
    );
    assert!(
        !kept.is_closed(),
        "close_on_drop(false) leaves the client open"
    );
    kept.close();
}

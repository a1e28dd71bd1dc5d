//! The `feature` section of the GrowthBook spec suite, resolved through the OpenFeature API
//! (a non-singleton `OpenFeature` per case, `client.get_*_details`).
#![allow(clippy::unwrap_used, reason = "test")]

use gb_openfeature::gb_sdk::GrowthBook;
use gb_openfeature::gb_sdk::serde_json::{Map, Value, json};
use gb_openfeature::open_feature::{
    Client, EvaluationContext, EvaluationDetails, EvaluationError, EvaluationReason, FlagMetadata,
    OpenFeature, StructValue,
};
use gb_openfeature::{CYCLIC_PREREQUISITE, GrowthBookProvider, json_field, struct_to_json};

fn object(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// An OpenFeature client whose provider wraps a GrowthBook client for the spec context.
async fn open_feature_client(ctx: &Value) -> Client {
    let payload = json!({
        "features": ctx.get("features").cloned().unwrap_or(json!({})),
        "savedGroups": ctx.get("savedGroups").cloned().unwrap_or(Value::Null),
        "contextualBandits": ctx.get("contextualBandits").cloned().unwrap_or(Value::Null),
        "experiments": ctx.get("experiments").cloned().unwrap_or(Value::Null),
    });
    let growthbook = GrowthBook::builder()
        .payload(payload)
        .qa_mode(ctx.get("qaMode").and_then(Value::as_bool).unwrap_or(false))
        .enabled(ctx.get("enabled").and_then(Value::as_bool).unwrap_or(true))
        .url(ctx.get("url").and_then(Value::as_str).unwrap_or(""))
        .forced_variations(object(ctx.get("forcedVariations")))
        .forced_features(object(ctx.get("forcedFeatures")))
        .build()
        .unwrap();
    let mut api = OpenFeature::default();
    api.set_provider(GrowthBookProvider::new(growthbook)).await;
    api.create_client()
}

/// The spec attributes as an evaluation context: a string `id` is the targeting key, every
/// other attribute a custom field.
fn evaluation_context(ctx: &Value) -> EvaluationContext {
    let mut context = EvaluationContext::default();
    for (name, value) in object(ctx.get("attributes")) {
        match value {
            Value::String(id) if name == "id" => context.targeting_key = Some(id),
            other => context.add_custom_field(name, json_field(other)),
        }
    }
    context
}

fn expected_reason(source: &str) -> EvaluationReason {
    match source {
        "force" => EvaluationReason::TargetingMatch,
        "experiment" => EvaluationReason::Split,
        "defaultValue" => EvaluationReason::Default,
        "override" => EvaluationReason::Static,
        "prerequisite" => EvaluationReason::Disabled,
        other => EvaluationReason::Other(other.into()),
    }
}

/// Checks one case; returns whether its value was resolved (`false`: a null expected value,
/// checked by reason or error code).
async fn check_case(case: &Value) -> Result<bool, String> {
    let (ctx, key, want) = (&case[1], case[2].as_str().unwrap(), &case[3]);
    let client = open_feature_client(ctx).await;
    let context = evaluation_context(ctx);
    let source = want["source"].as_str().unwrap();
    let reason = Some(expected_reason(source));
    let c = Some(&context);
    let mismatch = |got: String| Err(format!("got {got}, want {want}"));

    let details = match &want["value"] {
        Value::Bool(b) => {
            let d = client.get_bool_details(key, c, None).await;
            // A boolean is not a string.
            expect_error(client.get_string_value(key, c, None).await, "TYPE_MISMATCH")?;
            matching(d, b, &reason)?
        }
        Value::String(s) => {
            let d = client.get_string_details(key, c, None).await;
            expect_error(client.get_bool_value(key, c, None).await, "TYPE_MISMATCH")?;
            matching(d, s, &reason)?
        }
        Value::Number(n) if n.is_i64() => {
            // Integers widen to floats.
            let f = client.get_float_details(key, c, None).await;
            matching(f, &n.as_f64().unwrap(), &reason)?;
            expect_error(client.get_string_value(key, c, None).await, "TYPE_MISMATCH")?;
            let d = client.get_int_details(key, c, None).await;
            matching(d, &n.as_i64().unwrap(), &reason)?
        }
        Value::Number(n) => {
            let d = client.get_float_details(key, c, None).await;
            matching(d, &n.as_f64().unwrap(), &reason)?
        }
        Value::Object(_) => {
            let d = client.get_struct_details::<StructValue>(key, c, None).await;
            let d = d.map(|d| EvaluationDetails {
                value: struct_to_json(&d.value),
                flag_key: d.flag_key,
                reason: d.reason,
                variant: d.variant,
                flag_metadata: d.flag_metadata,
            });
            matching(d, &want["value"], &reason)?
        }
        Value::Array(_) => {
            // OpenFeature's structured type is a map: arrays are a type mismatch.
            expect_error(
                client.get_struct_value::<StructValue>(key, c, None).await,
                "TYPE_MISMATCH",
            )?;
            return Ok(false);
        }
        Value::Null => {
            check_null(&client, key, &context, source).await?;
            return Ok(false);
        }
    };
    let (variant, metadata) = details;
    let meta = |k: &str| metadata.values.get(k).cloned();
    if meta("source") != Some(source.into()) {
        return mismatch(format!("metadata {metadata:?}"));
    }
    if let Some(r) = want.get("experimentResult") {
        let ok = variant.as_deref() == r["key"].as_str()
            && meta("experimentKey") == want["experiment"]["key"].as_str().map(Into::into)
            && meta("variationId") == r["variationId"].as_i64().map(Into::into)
            && meta("inExperiment") == r["inExperiment"].as_bool().map(Into::into);
        if !ok {
            return mismatch(format!("variant {variant:?}, metadata {metadata:?}"));
        }
    }
    Ok(true)
}

/// A null value: unknown features and cyclic prerequisites are errors for every type; other
/// sources give the type's default with their reason.
async fn check_null(
    client: &Client,
    key: &str,
    context: &EvaluationContext,
    source: &str,
) -> Result<(), String> {
    let c = Some(context);
    let code = match source {
        "unknownFeature" => Some("FLAG_NOT_FOUND"),
        "cyclicPrerequisite" => Some(CYCLIC_PREREQUISITE),
        _ => None,
    };
    if let Some(code) = code {
        expect_error(client.get_bool_value(key, c, None).await, code)?;
        expect_error(client.get_string_value(key, c, None).await, code)?;
        expect_error(client.get_int_value(key, c, None).await, code)?;
        expect_error(client.get_float_value(key, c, None).await, code)?;
        return expect_error(
            client.get_struct_value::<StructValue>(key, c, None).await,
            code,
        );
    }
    let reason = Some(expected_reason(source));
    let b = client.get_bool_details(key, c, None).await;
    let s = client.get_string_details(key, c, None).await;
    let ok = matches!(&b, Ok(d) if !d.value && d.reason == reason)
        && matches!(&s, Ok(d) if d.value.is_empty() && d.reason == reason);
    if ok {
        Ok(())
    } else {
        Err(format!("null value from {source}: got {b:?} / {s:?}"))
    }
}

/// The variant and metadata of a resolution with the wanted value and reason.
fn matching<T: PartialEq + core::fmt::Debug>(
    got: Result<EvaluationDetails<T>, EvaluationError>,
    value: &T,
    reason: &Option<EvaluationReason>,
) -> Result<(Option<String>, FlagMetadata), String> {
    match got {
        Ok(d) if d.value == *value && d.reason == *reason => Ok((d.variant, d.flag_metadata)),
        other => Err(format!("got {other:?}, want {value:?} ({reason:?})")),
    }
}

fn expect_error<T: core::fmt::Debug>(
    got: Result<T, EvaluationError>,
    code: &str,
) -> Result<(), String> {
    match got {
        Err(e) if e.code.to_string() == code => Ok(()),
        other => Err(format!("want error {code}, got {other:?}")),
    }
}

#[tokio::test]
async fn feature_section_through_open_feature() {
    let cases = spec_tests::load_cases().unwrap();
    let list = cases["feature"].as_array().unwrap();
    let mut failures = Vec::new();
    let (mut resolved, mut defaults) = (0, 0);
    for case in list {
        match check_case(case).await {
            Ok(true) => resolved += 1,
            Ok(false) => defaults += 1,
            Err(e) => failures.push(format!("{}: {e}", case[0])),
        }
    }
    eprintln!(
        "feature: {} cases, {resolved} resolved to the spec value, {defaults} null (default or error) cases",
        list.len()
    );
    assert!(
        failures.is_empty(),
        "{}/{} failed:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n")
    );
    assert!(resolved > 0);
}

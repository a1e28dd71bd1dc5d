//! GrowthBook feature results to OpenFeature resolution details.

use alloc::format;
use alloc::string::{String, ToString};
use std::collections::HashMap;

use gb_sdk::serde_json::{Map, Value};
use gb_sdk::{EvaluationError as GbError, EvaluationReason as GbReason, FeatureResult};
use open_feature::provider::ResolutionDetails;
use open_feature::{
    EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult, FlagMetadata,
    StructValue,
};

/// The error code of a feature whose prerequisites form a cycle (a payload error).
pub const CYCLIC_PREREQUISITE: &str = "CYCLIC_PREREQUISITE";

/// Why a JSON value cannot be returned as the requested type.
pub(crate) type Mismatch = &'static str;

/// Turns a feature result into resolution details: the value converted by `convert`, the
/// reason, variant and flag metadata of its source, or the OpenFeature error it stands for.
pub(crate) fn resolution<T: Default>(
    flag_key: &str,
    result: &FeatureResult,
    convert: impl FnOnce(&Value) -> Result<T, Mismatch>,
) -> EvaluationResult<ResolutionDetails<T>> {
    // Mapped from the SDK's typed reason, not re-derived from the GrowthBook source.
    let reason = match result.evaluation_reason() {
        GbReason::NotReady => {
            return Err(error(
                EvaluationErrorCode::ProviderNotReady,
                "GrowthBook features are not loaded yet".into(),
            ));
        }
        GbReason::UnknownFeature => {
            return Err(error(
                EvaluationErrorCode::FlagNotFound,
                format!("no GrowthBook feature `{flag_key}`"),
            ));
        }
        GbReason::Error(GbError::CyclicPrerequisite) => {
            return Err(error(
                EvaluationErrorCode::General(CYCLIC_PREREQUISITE.into()),
                format!("the prerequisites of `{flag_key}` form a cycle"),
            ));
        }
        GbReason::Default => EvaluationReason::Default,
        GbReason::TargetingMatch => EvaluationReason::TargetingMatch,
        GbReason::Split => EvaluationReason::Split,
        GbReason::Override => EvaluationReason::Static,
        GbReason::Prerequisite => EvaluationReason::Disabled,
        _ => EvaluationReason::Unknown,
    };
    // A null value (a failed prerequisite, a feature without a value) has no typed form: the
    // OpenFeature default of the type, with the source's reason.
    let value = if result.value().is_null() {
        T::default()
    } else {
        convert(result.value()).map_err(|expected| {
            error(
                EvaluationErrorCode::TypeMismatch,
                format!("GrowthBook feature `{flag_key}` is not {expected}"),
            )
        })?
    };
    let (variant, metadata) = describe(result);
    Ok(ResolutionDetails {
        value,
        variant,
        reason: Some(reason),
        flag_metadata: Some(metadata),
    })
}

fn error(code: EvaluationErrorCode, message: String) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message),
    }
}

/// The variant (the experiment variation's key, else the rule id) and the flag metadata.
fn describe(result: &FeatureResult) -> (Option<String>, FlagMetadata) {
    let mut metadata = FlagMetadata::default().with_value("source", result.source().as_str());
    let rule_id = result.rule_id();
    if !rule_id.is_empty() {
        metadata.add_value("ruleId", rule_id.to_string());
    }
    let mut variant = (!rule_id.is_empty()).then(|| rule_id.to_string());
    if let Some(key) = result.experiment_key() {
        metadata.add_value("experimentKey", key);
    }
    if let Some(r) = result.experiment_result() {
        metadata.add_value(
            "variationId",
            i64::try_from(r.variation_id).unwrap_or(i64::MAX),
        );
        metadata.add_value("variationKey", r.key.clone());
        if let Some(name) = &r.name {
            metadata.add_value("variationName", name.clone());
        }
        metadata.add_value("inExperiment", r.in_experiment);
        metadata.add_value("hashUsed", r.hash_used);
        variant = Some(r.key);
    }
    (variant, metadata)
}

pub(crate) fn to_bool(v: &Value) -> Result<bool, Mismatch> {
    v.as_bool().ok_or("a boolean")
}

pub(crate) fn to_string(v: &Value) -> Result<String, Mismatch> {
    v.as_str().map(ToString::to_string).ok_or("a string")
}

/// Integers, and floats with no fractional part within the `i64` range (`3.0`).
pub(crate) fn to_int(v: &Value) -> Result<i64, Mismatch> {
    const NOT_INT: Mismatch = "an integer";
    let n = v.as_number().ok_or(NOT_INT)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // 2^63: the first float past `i64::MAX` (`i64::MAX as f64` rounds up to it).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) => Ok(f as i64),
        _ => Err(NOT_INT),
    }
}

/// Any number (integers widen to `f64`).
pub(crate) fn to_float(v: &Value) -> Result<f64, Mismatch> {
    v.as_f64().ok_or("a number")
}

/// A JSON object. OpenFeature values have no `null`: null fields are left out; a null inside
/// an array makes the value unrepresentable. Arrays are not structs (OpenFeature's structured
/// type is a map).
pub(crate) fn to_struct(v: &Value) -> Result<StructValue, Mismatch> {
    const NOT_STRUCT: Mismatch = "an object without nulls in arrays";
    match v {
        Value::Object(m) => object_to_struct(m).ok_or(NOT_STRUCT),
        _ => Err(NOT_STRUCT),
    }
}

fn object_to_struct(m: &Map<String, Value>) -> Option<StructValue> {
    let mut fields = HashMap::with_capacity(m.len());
    for (k, v) in m {
        if !v.is_null() {
            fields.insert(k.clone(), to_value(v)?);
        }
    }
    Some(StructValue { fields })
}

/// A non-null JSON value as an OpenFeature value; `None` if it holds a null in an array.
fn to_value(v: &Value) -> Option<open_feature::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => open_feature::Value::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => open_feature::Value::Int(i),
            None => open_feature::Value::Float(n.as_f64()?),
        },
        Value::String(s) => open_feature::Value::String(s.clone()),
        Value::Array(list) => {
            open_feature::Value::Array(list.iter().map(to_value).collect::<Option<_>>()?)
        }
        Value::Object(m) => open_feature::Value::Struct(object_to_struct(m)?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use gb_sdk::serde_json::json;

    use super::*;
    use crate::context::struct_to_json;

    #[test]
    fn numbers() {
        assert_eq!(to_int(&json!(3)), Ok(3));
        assert_eq!(to_int(&json!(3.0)), Ok(3));
        assert_eq!(to_int(&json!(-2.0e18)), Ok(-2_000_000_000_000_000_000));
        assert!(to_int(&json!(3.5)).is_err());
        assert!(to_int(&json!(1e19)).is_err());
        assert!(to_int(&json!(u64::MAX)).is_err());
        assert!(to_int(&json!("3")).is_err());
        assert_eq!(to_float(&json!(3)), Ok(3.0));
        assert_eq!(to_float(&json!(0.25)), Ok(0.25));
        assert!(to_float(&json!(true)).is_err());
    }

    #[test]
    fn structs() {
        let v = json!({"a": 1, "b": null, "c": [1.5, "x", {"d": false}], "e": {"f": null}});
        let s = to_struct(&v).unwrap();
        assert_eq!(
            struct_to_json(&s),
            json!({"a": 1, "c": [1.5, "x", {"d": false}], "e": {}})
        );
        assert!(to_struct(&json!({"a": [1, null]})).is_err());
        assert!(to_struct(&json!([1, 2])).is_err());
        assert!(to_struct(&json!("x")).is_err());
    }
}

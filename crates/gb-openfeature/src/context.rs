//! OpenFeature evaluation contexts to GrowthBook attributes.

use alloc::string::String;
use alloc::vec::Vec;
use core::any::Any;

use gb_sdk::serde_json::{Map, Number, Value};
use open_feature::{EvaluationContext, EvaluationContextFieldValue, StructValue};

/// Converts an evaluation context to GrowthBook attributes: every custom field becomes an
/// attribute of its natural JSON type, then the targeting key (if any) is stored under
/// `targeting_key_attribute`, overriding a custom field of that name.
///
/// Keys are inserted in sorted order (the context's maps are unordered), so equal contexts give
/// equal attribute objects.
pub fn context_to_attributes(
    context: &EvaluationContext,
    targeting_key_attribute: &str,
) -> Map<String, Value> {
    let mut fields: Vec<(&String, &EvaluationContextFieldValue)> =
        context.custom_fields.iter().collect();
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut attributes = Map::new();
    for (name, field) in fields {
        match field_to_json(field) {
            Some(v) => {
                attributes.insert(name.clone(), v);
            }
            None => tracing::warn!(
                field = %name,
                "OpenFeature context field holds a struct of an unsupported type; ignored"
            ),
        }
    }
    if let Some(key) = &context.targeting_key {
        attributes.insert(targeting_key_attribute.into(), Value::String(key.clone()));
    }
    attributes
}

/// A context field for a JSON value: booleans, integers, floats and strings become the
/// matching primitive field; `null`, arrays, objects and integers beyond `i64` become a struct
/// field holding the `serde_json::Value` (the only way to pass lists, since
/// [`EvaluationContextFieldValue`] has no list variant).
pub fn json_field(value: Value) -> EvaluationContextFieldValue {
    match value {
        Value::Bool(b) => EvaluationContextFieldValue::Bool(b),
        Value::String(s) => EvaluationContextFieldValue::String(s),
        Value::Number(n) if n.is_i64() || n.is_f64() => match n.as_i64() {
            Some(i) => EvaluationContextFieldValue::Int(i),
            None => EvaluationContextFieldValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => EvaluationContextFieldValue::new_struct(other),
    }
}

/// One context field as JSON; `None` for a struct of an unsupported type.
fn field_to_json(field: &EvaluationContextFieldValue) -> Option<Value> {
    Some(match field {
        EvaluationContextFieldValue::Bool(b) => Value::Bool(*b),
        EvaluationContextFieldValue::Int(i) => Value::from(*i),
        EvaluationContextFieldValue::Float(f) => float(*f),
        EvaluationContextFieldValue::String(s) => Value::String(s.clone()),
        EvaluationContextFieldValue::DateTime(dt) => {
            Value::String(iso_8601(dt.unix_timestamp_nanos()))
        }
        EvaluationContextFieldValue::Struct(any) => any_to_json(&**any)?,
    })
}

/// The struct payloads understood: OpenFeature's own value types, `serde_json` values and
/// string lists.
fn any_to_json(any: &(dyn Any + Send + Sync)) -> Option<Value> {
    if let Some(s) = any.downcast_ref::<StructValue>() {
        Some(struct_to_json(s))
    } else if let Some(v) = any.downcast_ref::<open_feature::Value>() {
        Some(value_to_json(v))
    } else if let Some(list) = any.downcast_ref::<Vec<open_feature::Value>>() {
        Some(Value::Array(list.iter().map(value_to_json).collect()))
    } else if let Some(v) = any.downcast_ref::<Value>() {
        Some(v.clone())
    } else if let Some(m) = any.downcast_ref::<Map<String, Value>>() {
        Some(Value::Object(m.clone()))
    } else {
        any.downcast_ref::<Vec<String>>()
            .map(|list| Value::Array(list.iter().cloned().map(Value::String).collect()))
    }
}

/// A struct value as JSON, keys sorted (the inverse of the provider's struct resolution,
/// except that JSON `null` fields are absent from struct values).
pub fn struct_to_json(s: &StructValue) -> Value {
    let mut fields: Vec<(&String, &open_feature::Value)> = s.fields.iter().collect();
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

pub(crate) fn value_to_json(v: &open_feature::Value) -> Value {
    match v {
        open_feature::Value::Bool(b) => Value::Bool(*b),
        open_feature::Value::Int(i) => Value::from(*i),
        open_feature::Value::Float(f) => float(*f),
        open_feature::Value::String(s) => Value::String(s.clone()),
        open_feature::Value::Array(list) => Value::Array(list.iter().map(value_to_json).collect()),
        open_feature::Value::Struct(s) => struct_to_json(s),
    }
}

/// A finite float as a JSON number; NaN and infinities as `null` (as `JSON.stringify` does).
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A Unix time in nanoseconds as JavaScript's `Date.prototype.toISOString` writes it
/// (`2024-05-01T12:30:00.000Z`, millisecond precision), so that GrowthBook's string
/// comparisons order dates correctly.
fn iso_8601(unix_nanos: i128) -> String {
    let millis = unix_nanos.div_euclid(1_000_000);
    let secs = millis.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        alloc::format!("{year:04}")
    } else {
        alloc::format!("{year:+07}")
    };
    alloc::format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        millis.rem_euclid(1000)
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use super::*;

    #[test]
    fn dates_format_like_javascript() {
        assert_eq!(iso_8601(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T23:59:59.999Z
        assert_eq!(
            iso_8601(1_709_251_199_999_000_000),
            "2024-02-29T23:59:59.999Z"
        );
        // One millisecond before the epoch.
        assert_eq!(iso_8601(-1_000_000), "1969-12-31T23:59:59.999Z");
        // 10000-01-01T00:00:00.000Z
        assert_eq!(
            iso_8601(253_402_300_800_000_000_000),
            "+010000-01-01T00:00:00.000Z"
        );
    }
}

//! One user's evaluated payload: what the JavaScript SDK's remote-evaluation mode consumes.

use alloc::vec;

use gb_core::FeatureSource;
use gb_transport::RemoteEvalRequest;
use serde_json::{Map, Value};

use crate::client::GrowthBook;

/// Evaluates every feature of `client`'s current payload for the user of `request` and
/// returns the evaluated payload: `{"features": {key: {"defaultValue": value, ...}},
/// "experiments": [], "dateUpdated": ...}`. `None` while the client has no features loaded.
///
/// The user is built as [`GrowthBook::user`] builds one (the client's default attributes under
/// the request's), with the request's URL, forced variations and forced features. Exposures are
/// not passed to this client's tracking callback or plugins: they travel to the caller inside
/// the response (`tracks`), and the calling SDK fires its own callback, once, as if it had
/// evaluated the rules itself. Feature-usage callbacks do run, once per feature.
pub fn evaluated_payload(client: &GrowthBook, request: &RemoteEvalRequest) -> Option<Value> {
    if client.version() == 0 {
        return None;
    }
    let served = client.payload();
    let user = client
        .user(request.attributes.clone())
        .with_url(request.url.clone())
        .with_forced_variations(request.forced_variations.clone())
        .with_forced_features(request.forced_features.iter().cloned().collect())
        .with_deferred_tracking();
    // Every feature in one pass over the snapshot, results borrowed from it.
    let all = user.eval_all();
    let mut features = Map::new();
    for (key, result) in all.iter() {
        features.insert(key.into(), evaluated_feature(result));
    }
    let mut out = Map::new();
    out.insert("status".into(), Value::from(200));
    out.insert("features".into(), Value::Object(features));
    out.insert("experiments".into(), Value::Array(vec![]));
    let date = served
        .as_deref()
        .and_then(|p| p.get("dateUpdated"))
        .cloned()
        .unwrap_or(Value::Null);
    out.insert("dateUpdated".into(), date);
    Some(Value::Object(out))
}

/// `{"defaultValue": value}`, plus, when an experiment decided it by hashing, one force rule
/// whose `tracks` make the client fire its tracking callback (JS `core.ts`, `rule.tracks`).
fn evaluated_feature(result: &gb_core::FeatureResult<'_>) -> Value {
    let mut def = Map::new();
    def.insert("defaultValue".into(), result.value.clone());
    if let (FeatureSource::Experiment, Some(experiment), Some(exp_result)) = (
        result.source,
        result.experiment_json(),
        result.experiment_result.as_ref(),
    ) && exp_result.hash_used
    {
        let mut track = Map::new();
        track.insert("experiment".into(), experiment.to_value());
        track.insert("result".into(), exp_result.to_json());
        let mut rule = Map::new();
        if !result.rule_id.is_empty() {
            rule.insert("id".into(), Value::String(result.rule_id.into()));
        }
        rule.insert("force".into(), result.value.clone());
        rule.insert("tracks".into(), Value::Array(vec![Value::Object(track)]));
        def.insert("rules".into(), Value::Array(vec![Value::Object(rule)]));
    }
    Value::Object(def)
}

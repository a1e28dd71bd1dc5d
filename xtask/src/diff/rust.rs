//! The project side: the same batch evaluated with `gb-core`, answered in the runner's shape.

use gb_core::{FeatureSet, StickyAssignmentsDocument, StickyBucketDocs, User};
use serde_json::{Map, Value, json};

/// Evaluates a batch (`{"payload", "features", "users"}`) as `runner.js` does.
pub(crate) fn eval(batch: &Value) -> Value {
    let fs = FeatureSet::from_value(&batch["payload"]);
    let empty = Vec::new();
    let features = batch["features"].as_array().unwrap_or(&empty);
    let users = batch["users"].as_array().unwrap_or(&empty);
    let mut results = Vec::with_capacity(users.len());
    let mut all_docs = Vec::with_capacity(users.len());
    let no_attrs = Map::new();
    for u in users {
        let attrs = u["attributes"].as_object().unwrap_or(&no_attrs);
        let mut user = User::new(attrs)
            .with_url(u["url"].as_str().unwrap_or(""))
            .with_qa_mode(u["qaMode"].as_bool().unwrap_or(false))
            .with_enabled(u["enabled"].as_bool().unwrap_or(true));
        if let Some(fv) = u["forcedVariations"].as_object() {
            user = user.with_forced_variations(fv);
        }
        if let Some(ff) = u["forcedFeatures"].as_object() {
            user = user.with_forced_features(ff);
        }
        let mut docs = u["stickyDocs"].as_object().map(|m| {
            StickyBucketDocs::from_docs(m.values().filter_map(|d| {
                serde_json::from_value::<StickyAssignmentsDocument>(d.clone()).ok()
            }))
        });
        let row: Vec<Value> = features
            .iter()
            .map(|f| {
                fs.eval_feature_with(f.as_str().unwrap_or(""), &user, docs.as_mut(), &mut ())
                    .to_json()
            })
            .collect();
        results.push(Value::Array(row));
        all_docs.push(match &docs {
            Some(d) => {
                let mut m = Map::new();
                for doc in d.docs() {
                    m.insert(doc.key(), serde_json::to_value(doc).unwrap_or(Value::Null));
                }
                Value::Object(m)
            }
            None => Value::Null,
        });
    }
    let urls = super::urls::eval(&fs, &batch["urlCases"]);
    json!({"results": results, "docs": all_docs, "urls": urls})
}

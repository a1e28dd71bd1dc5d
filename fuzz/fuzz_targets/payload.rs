//! Payload load + evaluate: any bytes as a payload (with optional `attributes`, `stickyDocs`,
//! `forcedVariations` and `url` inside it) load without panicking; every feature and inline
//! experiment evaluates with sticky documents and a tracing observer; loading the text and
//! loading its parsed value give the same snapshot; results serialize.
#![no_main]

use gb_core::sticky::{StickyAssignmentsDocument, StickyBucketDocs};
use gb_core::{Experiment, ExperimentResult, FeatureResult, FeatureSet, Observer, Trace, User};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// Counts what the evaluation reports and checks each event is well formed.
#[derive(Default)]
struct Counter {
    traces: usize,
    viewed: usize,
    used: usize,
}

impl<'a> Observer<'a> for Counter {
    fn on_experiment_viewed(&mut self, experiment: &'a Experiment, result: &ExperimentResult<'a>) {
        // A viewed result out of the experiment (a sticky bucket or a range naming a variation
        // that does not exist) is the baseline, as in JS `getExperimentResult`.
        assert!(
            result.in_experiment || result.variation_id == 0,
            "viewed out of the experiment, but not with the baseline"
        );
        assert!(result.variation_id < experiment.variations().len());
        self.viewed += 1;
    }
    fn on_feature_usage(&mut self, _key: &str, _result: &FeatureResult<'a>) {
        self.used += 1;
    }
    fn on_trace(&mut self, event: Trace<'_>) {
        if let Trace::Hash { hash: Some(h), .. } = event {
            assert!((0.0..=1.0).contains(&h), "hash {h} out of range");
        }
        self.traces += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(fs) = FeatureSet::from_json_str(text) else {
        return;
    };
    // The text and the parsed value compile to the same features and warnings.
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let same = FeatureSet::from_value(&v);
        assert_eq!(same.len(), fs.len());
        assert_eq!(same.warnings(), fs.warnings());
    }
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let empty = Map::new();
    let attrs = v
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let forced = v.get("forcedVariations").and_then(Value::as_object);
    let url = v.get("url").and_then(Value::as_str).unwrap_or("");
    let docs: Vec<StickyAssignmentsDocument> = v
        .get("stickyDocs")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    let mut sticky = StickyBucketDocs::from_docs(docs);
    let mut user = User::new(attrs).with_url(url);
    if let Some(f) = forced {
        user = user.with_forced_variations(f);
    }
    let mut keys: Vec<&str> = fs.keys().collect();
    keys.sort_unstable();
    for key in keys.iter().take(64) {
        // An observer changes nothing: the same documents give the same result without one
        // (with documents, a rule may hash on its fallback attribute, so compare like with like).
        let mut plain_docs = sticky.clone();
        let mut obs = Counter::default();
        let r = fs.eval_feature_with(key, &user, Some(&mut sticky), &mut obs);
        let plain = fs.eval_feature_with(key, &user, Some(&mut plain_docs), &mut ());
        assert_eq!(r.value, plain.value, "an observer changed {key}");
        assert_eq!(r.source, plain.source, "an observer changed {key}");
        assert_eq!(plain_docs, sticky, "an observer changed what {key} saved");
        // Without documents, `eval_feature` (compiled without the sticky steps) and
        // `eval_feature_with(None)` (with them, never taken) agree.
        let bare = fs.eval_feature(key, &user);
        let none = fs.eval_feature_with(key, &user, None, &mut Counter::default());
        assert_eq!(
            bare.value, none.value,
            "eval_feature and eval_feature_with differ on {key}"
        );
        assert_eq!(
            bare.source, none.source,
            "eval_feature and eval_feature_with differ on {key}"
        );
        let _ = serde_json::to_string(&r).unwrap_or_default();
        if let Some(e) = r.experiment_json() {
            let _ = e.to_value();
        }
    }
    let _ = sticky.take_changed();
    let _ = fs.url_redirect(&user);
    let _ = fs.sticky_bucket_attributes(&user);
    if let Some(Value::Array(exps)) = v.get("experiments") {
        for e in exps.iter().take(8) {
            let exp = Experiment::from_json(e);
            let r = fs.run_with(&exp, &user, None, &mut Counter::default());
            if r.in_experiment {
                assert!(r.variation_id < exp.variations().len());
            }
            let _ = exp.as_json().to_value();
            let _ = r.to_json();
        }
    }
});

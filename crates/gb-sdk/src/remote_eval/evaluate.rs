//! One user's evaluated payload: what the JavaScript SDK's remote-evaluation mode consumes.

use gb_core::FeatureSource;
use gb_transport::RemoteEvalRequest;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::client::GrowthBook;
use crate::eval_all::AllResults;

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
    let evaluated = Evaluated::new(client, request)?;
    serde_json::to_value(&evaluated).ok()
}

/// The evaluated payload as JSON bytes (the endpoint's body): the same document as
/// [`evaluated_payload`], serialized straight from the borrowed results with no `Value` tree.
pub(crate) fn evaluated_payload_bytes(
    client: &GrowthBook,
    request: &RemoteEvalRequest,
) -> Option<Vec<u8>> {
    let evaluated = Evaluated::new(client, request)?;
    serde_json::to_vec(&evaluated).ok()
}

/// Every feature's result for one request (one pass over the snapshot, results borrowed from
/// it) and the payload's `dateUpdated`.
struct Evaluated {
    all: AllResults,
    date: Value,
}

impl Evaluated {
    fn new(client: &GrowthBook, request: &RemoteEvalRequest) -> Option<Self> {
        if client.version() == 0 {
            return None;
        }
        let date = client
            .payload()
            .as_deref()
            .and_then(|p| p.get("dateUpdated"))
            .cloned()
            .unwrap_or(Value::Null);
        let user = client
            .user(request.attributes.clone())
            .with_url(request.url.clone())
            .with_forced_variations(request.forced_variations.clone())
            .with_forced_features(request.forced_features.iter().cloned().collect())
            .with_exposures_returned();
        Some(Self {
            all: user.eval_all(),
            date,
        })
    }
}

impl Serialize for Evaluated {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("status", &200)?;
        m.serialize_entry("features", &Features(&self.all))?;
        m.serialize_entry("experiments", &[(); 0])?;
        m.serialize_entry("dateUpdated", &self.date)?;
        m.end()
    }
}

struct Features<'a>(&'a AllResults);

impl Serialize for Features<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (key, result) in self.0.iter() {
            m.serialize_entry(key, &Feature(result))?;
        }
        m.end()
    }
}

/// `{"defaultValue": value}`, plus, when an experiment decided it by hashing, one force rule
/// whose `tracks` make the client fire its tracking callback (JS `core.ts`, `rule.tracks`).
struct Feature<'r, 'a>(&'r gb_core::FeatureResult<'a>);

impl Serialize for Feature<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let tracked = r.source == FeatureSource::Experiment
            && r.experiment.is_some()
            && r.experiment_result.as_ref().is_some_and(|e| e.hash_used);
        let mut m = s.serialize_map(Some(1 + usize::from(tracked)))?;
        m.serialize_entry("defaultValue", r.value)?;
        if tracked {
            m.serialize_entry("rules", &[TrackedRule(r)])?;
        }
        m.end()
    }
}

/// `{"id"?, "force": value, "tracks": [{"experiment", "result"}]}`.
struct TrackedRule<'r, 'a>(&'r gb_core::FeatureResult<'a>);

impl Serialize for TrackedRule<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        if !r.rule_id.is_empty() {
            m.serialize_entry("id", r.rule_id)?;
        }
        m.serialize_entry("force", r.value)?;
        m.serialize_entry("tracks", &Tracks(r))?;
        m.end()
    }
}

struct Tracks<'r, 'a>(&'r gb_core::FeatureResult<'a>);

impl Serialize for Tracks<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1))?;
        if let (Some(experiment), Some(result)) =
            (self.0.experiment_json(), self.0.experiment_result.as_ref())
        {
            seq.serialize_element(&Track { experiment, result })?;
        }
        seq.end()
    }
}

#[derive(serde::Serialize)]
struct Track<'r, 'a> {
    experiment: gb_core::ExperimentJson<'a>,
    result: &'r gb_core::ExperimentResult<'a>,
}

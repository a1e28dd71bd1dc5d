//! The payload: features, rules, saved groups and contextual bandits, compiled into one
//! immutable snapshot. The feature table is in [`table`], rules and their parsing in [`rule`].

mod rule;
mod stream;
mod table;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use gb_condition::SavedGroups;
use serde_json::Value;

use crate::compiling::Compiling;
use crate::depth::MAX_JSON_DEPTH;
use crate::experiment::Experiment;
use crate::json::JsonError;
use crate::warning::{Warning, WarningKind};

pub(crate) use rule::{ForceRule, RuleKind};
use rule::{parse_feature, push_unique};
pub(crate) use table::Feature;
use table::FeatureTable;

/// A payload that could not be read at all.
///
/// It keeps the JSON reader's typed error ([`JsonError`]) and writes its text only when
/// displayed, so a build that never prints it (a wasm module) carries no error formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    why: Why,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Why {
    Json(JsonError),
    NotObject,
}

impl ParseError {
    fn json(e: JsonError) -> Self {
        ParseError { why: Why::Json(e) }
    }

    /// The JSON error, when the text was not JSON (`None`: JSON, but not an object).
    pub fn json_error(&self) -> Option<&JsonError> {
        match &self.why {
            Why::Json(e) => Some(e),
            Why::NotObject => None,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid GrowthBook payload: ")?;
        match &self.why {
            Why::Json(e) => fmt::Display::fmt(e, f),
            Why::NotObject => f.write_str("the payload is not a JSON object"),
        }
    }
}

impl core::error::Error for ParseError {}

/// A compiled, immutable GrowthBook payload: what every evaluation reads.
///
/// Build it once per payload (`from_json_str` or `from_value`) and share it; evaluations take
/// `&self` and never clone it.
#[derive(Debug, Default)]
pub struct FeatureSet {
    pub(crate) features: FeatureTable,
    pub(crate) saved_groups: SavedGroups,
    pub(crate) experiments: Vec<Experiment>,
    pub(crate) sticky_attributes: Vec<String>,
    pub(crate) warnings: Vec<Warning>,
}

impl FeatureSet {
    /// An empty payload (every feature unknown).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and compiles a payload from JSON text.
    ///
    /// Fails only when the text is not JSON at all (or not an object). Malformed features and
    /// rules are disabled one by one and reported in [`FeatureSet::warnings`]. JSON nested
    /// deeper than [`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH) has its over-deep parts cut off (a condition holding
    /// one is disabled) rather than failing the whole payload.
    pub fn from_json_str(text: &str) -> Result<FeatureSet, ParseError> {
        // Feature by feature from the text; anything unusual (invalid JSON, repeated keys,
        // `features` not an object) is loaded through one parsed tree instead,
        // which gives the same snapshot and warnings with the whole tree in memory.
        if let Some(fs) = stream::load(text) {
            return Ok(fs);
        }
        let value = Self::parse_json(text)?;
        if !value.is_object() {
            return Err(ParseError {
                why: Why::NotObject,
            });
        }
        Ok(Self::compile(value))
    }

    /// Parses payload text as [`FeatureSet::from_json_str`] does, without compiling it: JSON
    /// nested deeper than [`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH) has its over-deep parts replaced by a marker
    /// that disables a condition holding it (for tools that read the payload's JSON too).
    pub fn parse_json(text: &str) -> Result<Value, ParseError> {
        crate::json::parse(text).map_err(ParseError::json)
    }

    /// Compiles a parsed payload (`{features, savedGroups, contextualBandits, experiments}`).
    /// Never fails; see [`FeatureSet::warnings`]. Containers nested deeper than
    /// [`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH) are cut off, as in payload text.
    pub fn from_value(payload: &Value) -> FeatureSet {
        Self::compile(crate::depth::clone_cut(payload, MAX_JSON_DEPTH))
    }

    /// Like [`FeatureSet::from_value`], taking the payload by value (no copy of its parts).
    pub fn from_owned_value(mut payload: Value) -> FeatureSet {
        crate::depth::cut_in_place(&mut payload, MAX_JSON_DEPTH);
        Self::compile(payload)
    }

    fn compile(mut payload: Value) -> FeatureSet {
        let mut l = Loader::new(payload.get("savedGroups").unwrap_or(&Value::Null));
        let features = payload.get_mut("features").map(Value::take);
        let bandits = payload.get("contextualBandits").and_then(Value::as_object);
        match features {
            Some(Value::Object(features)) => {
                l.fs.features.reserve(features.len());
                for (key, def) in features {
                    // A JSON object has no duplicate keys: nothing is replaced.
                    l.feature(&key, def, bandits);
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => l.w.warn(
                WarningKind::FeaturesNotObject,
                "features must be an object; no feature loaded",
            ),
        }
        l.finish(payload.get_mut("experiments").map(Value::take))
    }

    /// Problems found while compiling: each says where (feature, payload rule index), what
    /// kind, and what evaluation does about it.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.len() == 0
    }

    /// Whether the payload defines `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.features.get(key).is_some()
    }

    /// The feature keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.features.keys()
    }

    /// The compiled saved groups.
    pub fn saved_groups(&self) -> &SavedGroups {
        &self.saved_groups
    }

    /// The attributes that identify users for sticky bucketing (every experiment's hash and
    /// fallback attribute).
    pub fn sticky_bucket_identifier_attributes(&self) -> &[String] {
        &self.sticky_attributes
    }
}

/// One payload being compiled, in the order every loader follows: saved groups, then each
/// feature as it is read, then the prerequisite graph and the experiments.
pub(super) struct Loader {
    fs: FeatureSet,
    w: Compiling,
    sticky: Vec<String>,
    /// Keys whose definition was not an object (they have no table entry), so that a key
    /// repeated in payload text is noticed whatever its definitions are
    /// ([`Loader::keys_repeated`]).
    not_objects: Vec<String>,
}

impl Loader {
    pub(super) fn new(saved_groups: &Value) -> Loader {
        let mut w = Compiling::default();
        let fs = FeatureSet {
            saved_groups: w.saved_groups(saved_groups),
            ..FeatureSet::new()
        };
        Loader {
            fs,
            w,
            sticky: Vec::new(),
            not_objects: Vec::new(),
        }
    }

    /// Compiles feature `key`; `false` if `key` was defined as an object before (the text
    /// loader then falls back to the parsed tree; [`Loader::keys_repeated`] finds the other
    /// repeats).
    pub(super) fn feature(
        &mut self,
        key: &str,
        def: Value,
        bandits: Option<&serde_json::Map<String, Value>>,
    ) -> bool {
        self.w.at(Some(key), None);
        match parse_feature(key, def, bandits, &mut self.w, &mut self.sticky) {
            Some(f) => self.fs.features.insert(f),
            None => {
                self.w.warn(
                    WarningKind::FeatureDisabled,
                    "its definition is not an object",
                );
                self.not_objects.push(key.into());
                true
            }
        }
    }

    /// Whether a key whose definition was not an object was defined again, as an object or
    /// not (checked once all features are read: a sort, not a hash set per key).
    pub(super) fn keys_repeated(&mut self) -> bool {
        let keys = &mut self.not_objects;
        gb_condition::sort::sort_unstable_by(keys, |a, b| a < b);
        keys.windows(2).any(|w| w[0] == w[1])
            || keys.iter().any(|k| self.fs.features.get(k).is_some())
    }

    pub(super) fn finish(self, experiments: Option<Value>) -> FeatureSet {
        let (mut fs, mut w, mut sticky) = (self.fs, self.w, self.sticky);
        w.at(None, None);
        fs.features.values = core::mem::take(&mut w.values).finish();
        annotate_prerequisites(&mut fs.features, &mut w);
        if let Some(Value::Array(exps)) = experiments {
            for e in exps {
                let exp = Experiment::parse(e, &mut w);
                push_unique(&mut sticky, exp.hash_attribute.as_deref().unwrap_or("id"));
                if let Some(f) = &exp.fallback_attribute {
                    push_unique(&mut sticky, f);
                }
                fs.experiments.push(exp);
            }
        }
        fs.features.shrink_to_fit();
        fs.experiments.shrink_to_fit();
        fs.sticky_attributes = sticky;
        fs.warnings = w.warnings;
        fs
    }
}

/// The ids every rule of `f` may gate on (rule parents and experiments' parents).
fn prerequisite_ids(f: &Feature) -> Vec<&str> {
    fn from<'f>(ids: &mut Vec<&'f str>, e: &'f Experiment) {
        ids.extend(
            e.rare()
                .parent_conditions
                .iter()
                .flatten()
                .map(|p| p.id.as_str()),
        );
    }
    let mut ids = Vec::new();
    for r in &f.rules {
        ids.extend(r.parents.iter().flatten().map(|p| p.id.as_str()));
        match &r.kind {
            RuleKind::Experiment(e) => from(&mut ids, e),
            RuleKind::Bandit(b) => {
                b.leaves.iter().for_each(|(_, e)| from(&mut ids, e));
                from(&mut ids, &b.fallback);
            }
            RuleKind::Force(_) | RuleKind::Skip => {}
        }
    }
    ids
}

/// Sets every feature's `prereq_height` from the payload's prerequisite graph.
fn annotate_prerequisites(features: &mut FeatureTable, warnings: &mut Compiling) {
    let heights = {
        let keys: Vec<&str> = features.keys().collect();
        let parents: Vec<Vec<&str>> = features.entries.iter().map(prerequisite_ids).collect();
        crate::prereq_graph::heights(&keys, &parents, &|k| features.position(k), warnings)
    };
    for (f, h) in features.entries.iter_mut().zip(heights) {
        f.prereq_height = h.filter(|&h| h != u32::MAX).unwrap_or(u32::MAX);
    }
}

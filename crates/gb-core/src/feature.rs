//! The payload: features, rules, saved groups and contextual bandits, compiled into one
//! immutable snapshot.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use core::hash::BuildHasher;
use gb_condition::{Condition, SavedGroups};

use hashbrown::{DefaultHashBuilder, HashTable};
use serde_json::{Map, Value};

use crate::bucket::Range;
use crate::compiling::{Compiling, compact};
use crate::experiment::{
    BanditMeta, Experiment, Filter, ParentCondition, Shape, parse_filters, parse_parents,
};
use crate::hash::{HashVersion, Seed};
use crate::result::is_truthy;

/// How deeply a payload's JSON may nest before the over-deep parts are cut off.
pub const MAX_JSON_DEPTH: usize = 100;

/// A payload that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    msg: String,
}

impl ParseError {
    fn new(msg: String) -> Self {
        ParseError { msg }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid GrowthBook payload: {}", self.msg)
    }
}

impl core::error::Error for ParseError {}

#[derive(Debug)]
pub(crate) struct Feature {
    pub(crate) key: Box<str>,
    /// `null`, `true` and `false` are not boxed (`small`); anything else is.
    default_boxed: Option<Box<Value>>,
    default_small: Small,
    pub(crate) rules: Box<[Rule]>,
    /// The longest chain of prerequisites below this feature; `u32::MAX` if a cycle is
    /// reachable (set at load from the payload's prerequisite graph). A bare `u32` keeps the
    /// entry at 48 bytes.
    prereq_height: u32,
}

#[derive(Debug, Clone, Copy)]
enum Small {
    Null,
    True,
    False,
}

impl Feature {
    fn new(key: &str, default_value: Value, rules: Box<[Rule]>) -> Feature {
        let (default_boxed, default_small) = match default_value {
            Value::Null => (None, Small::Null),
            Value::Bool(true) => (None, Small::True),
            Value::Bool(false) => (None, Small::False),
            other => (Some(Box::new(compact(other, 0))), Small::Null),
        };
        Feature {
            key: key.into(),
            default_boxed,
            default_small,
            rules,
            prereq_height: u32::MAX,
        }
    }

    /// The feature's default value.
    #[inline]
    pub(crate) fn default_value(&self) -> &Value {
        match (&self.default_boxed, self.default_small) {
            (Some(v), _) => v,
            (None, Small::Null) => &NULL,
            (None, Small::True) => &TRUE,
            (None, Small::False) => &FALSE,
        }
    }

    /// The longest chain of prerequisites below this feature; `None` if a cycle is reachable.
    #[inline]
    pub(crate) fn prereq_height(&self) -> Option<u32> {
        (self.prereq_height != u32::MAX).then_some(self.prereq_height)
    }
}

/// A JSON value held by a compiled payload: `null` and booleans cost nothing, anything else
/// is boxed (a `Value` is 72 bytes, and most feature values are booleans).
#[derive(Debug)]
pub(crate) enum JsonValue {
    Null,
    Bool(bool),
    Boxed(Box<Value>),
}

static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

impl From<Value> for JsonValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => JsonValue::Null,
            Value::Bool(b) => JsonValue::Bool(b),
            other => JsonValue::Boxed(Box::new(compact(other, 0))),
        }
    }
}

impl core::ops::Deref for JsonValue {
    type Target = Value;

    #[inline]
    fn deref(&self) -> &Value {
        match self {
            JsonValue::Null => &NULL,
            JsonValue::Bool(true) => &TRUE,
            JsonValue::Bool(false) => &FALSE,
            JsonValue::Boxed(v) => v,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: Box<str>,
    pub(crate) parents: Option<Box<[ParentCondition]>>,
    pub(crate) filters: Option<Box<[Filter]>>,
    pub(crate) kind: RuleKind,
}

#[derive(Debug)]
pub(crate) enum RuleKind {
    Force(Box<ForceRule>),
    Experiment(Box<Experiment>),
    Bandit {
        leaves: Box<[(Arc<Condition>, Box<Experiment>)]>,
        fallback: Box<Experiment>,
    },
    /// A rule with no variations (skipped, as the reference does).
    Skip,
}

#[derive(Debug)]
pub(crate) struct ForceRule {
    pub(crate) value: JsonValue,
    pub(crate) condition: Option<Arc<Condition>>,
    /// `seed || featureKey`, ready to hash.
    pub(crate) seed: Seed,
    pub(crate) hash_attribute: Option<Box<str>>,
    pub(crate) fallback_attribute: Option<Box<str>>,
    pub(crate) disable_sticky_bucketing: bool,
    pub(crate) range: Option<Range>,
    pub(crate) coverage: Option<f64>,
    pub(crate) hash_version: HashVersion,
}

/// The features of a payload in one exactly-sized array, found by key through a hash index
/// of positions (4 bytes per slot instead of a whole entry per slot).
#[derive(Default)]
pub(crate) struct FeatureTable {
    entries: Vec<Feature>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl fmt::Debug for FeatureTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.entries).finish()
    }
}

impl FeatureTable {
    /// The feature `key`.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&Feature> {
        let hash = self.hasher.hash_one(key);
        let entries = &self.entries;
        self.index
            .find(hash, |&i| {
                entries.get(i as usize).is_some_and(|f| &*f.key == key)
            })
            .and_then(|&i| entries.get(i as usize))
    }

    /// Where feature `key` stands in payload order.
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        let entries = &self.entries;
        self.index
            .find(hash, |&i| {
                entries.get(i as usize).is_some_and(|f| &*f.key == key)
            })
            .map(|&i| i as usize)
    }

    fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.reserve(n, |&i| {
            entries
                .get(i as usize)
                .map_or(0, |f| hasher.hash_one(&*f.key))
        });
    }

    /// Adds a feature; a later definition of the same key replaces the earlier one.
    fn insert(&mut self, feature: Feature) {
        let hash = self.hasher.hash_one(&*feature.key);
        let (entries, hasher) = (&mut self.entries, &self.hasher);
        match self.index.entry(
            hash,
            |&i| {
                entries
                    .get(i as usize)
                    .is_some_and(|f| f.key == feature.key)
            },
            |&i| {
                entries
                    .get(i as usize)
                    .map_or(0, |f| hasher.hash_one(&*f.key))
            },
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => {
                if let Some(slot) = entries.get_mut(*o.get() as usize) {
                    *slot = feature;
                }
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                // More than u32::MAX features cannot be held in memory anyway.
                let Ok(i) = u32::try_from(entries.len()) else {
                    return;
                };
                entries.push(feature);
                v.insert(i);
            }
        }
    }

    fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.shrink_to_fit(|&i| {
            entries
                .get(i as usize)
                .map_or(0, |f| hasher.hash_one(&*f.key))
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The features, in payload order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Feature> {
        self.entries.iter()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|f| &*f.key)
    }
}

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
    pub(crate) warnings: Vec<String>,
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
    /// deeper than [`MAX_JSON_DEPTH`] has its over-deep parts cut off (a condition holding
    /// one is disabled) rather than failing the whole payload.
    pub fn from_json_str(text: &str) -> Result<FeatureSet, ParseError> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) if format!("{e}").contains("recursion limit") => {
                let cut = cut_deep_json(text, MAX_JSON_DEPTH);
                serde_json::from_str(&cut).map_err(|e| ParseError::new(e.to_string()))?
            }
            Err(e) => return Err(ParseError::new(e.to_string())),
        };
        if !value.is_object() {
            return Err(ParseError::new("the payload is not a JSON object".into()));
        }
        // serde_json refuses text nested deeper than 128: no need to walk it again.
        Ok(Self::compile(value))
    }

    /// Compiles a parsed payload (`{features, savedGroups, contextualBandits, experiments}`).
    /// Never fails; see [`FeatureSet::warnings`]. Containers nested deeper than
    /// [`MAX_JSON_DEPTH`] are cut off, as in payload text.
    pub fn from_value(payload: &Value) -> FeatureSet {
        Self::compile(crate::depth::clone_cut(payload, MAX_JSON_DEPTH))
    }

    /// Like [`FeatureSet::from_value`], taking the payload by value (no copy of its parts).
    pub fn from_owned_value(mut payload: Value) -> FeatureSet {
        crate::depth::cut_in_place(&mut payload, MAX_JSON_DEPTH);
        Self::compile(payload)
    }

    fn compile(mut payload: Value) -> FeatureSet {
        let mut fs = FeatureSet::new();
        let mut w = Compiling::default();
        fs.saved_groups = w.saved_groups(payload.get("savedGroups").unwrap_or(&Value::Null));
        let mut sticky = Vec::<String>::new();
        let features = payload.get_mut("features").map(Value::take);
        let bandits = payload.get("contextualBandits").and_then(Value::as_object);
        match features {
            Some(Value::Object(features)) => {
                fs.features.reserve(features.len());
                for (key, def) in features {
                    match parse_feature(&key, def, bandits, &mut w, &mut sticky) {
                        Some(f) => fs.features.insert(f),
                        None => w.push(format!(
                            "feature {key:?} disabled: its definition is not an object"
                        )),
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => w.push("features must be an object; no feature loaded".into()),
        }
        annotate_prerequisites(&mut fs.features, &mut w);
        if let Some(Value::Array(exps)) = payload.get_mut("experiments").map(Value::take) {
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

    /// Problems found while compiling: each names the feature, rule or group it disabled.
    pub fn warnings(&self) -> &[String] {
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

/// The ids every rule of `f` may gate on (rule parents and experiments' parents).
fn prerequisite_ids(f: &Feature) -> Vec<&str> {
    fn from<'f>(ids: &mut Vec<&'f str>, e: &'f Experiment) {
        ids.extend(e.parent_conditions.iter().flatten().map(|p| p.id.as_str()));
    }
    let mut ids = Vec::new();
    for r in &f.rules {
        ids.extend(r.parents.iter().flatten().map(|p| p.id.as_str()));
        match &r.kind {
            RuleKind::Experiment(e) => from(&mut ids, e),
            RuleKind::Bandit { leaves, fallback } => {
                leaves.iter().for_each(|(_, e)| from(&mut ids, e));
                from(&mut ids, fallback);
            }
            RuleKind::Force(_) | RuleKind::Skip => {}
        }
    }
    ids
}

/// Sets every feature's `prereq_height` from the payload's prerequisite graph.
fn annotate_prerequisites(features: &mut FeatureTable, warnings: &mut Vec<String>) {
    let heights = {
        let keys: Vec<&str> = features.keys().collect();
        let parents: Vec<Vec<&str>> = features.entries.iter().map(prerequisite_ids).collect();
        crate::prereq_graph::heights(&keys, &parents, warnings)
    };
    for (f, h) in features.entries.iter_mut().zip(heights) {
        f.prereq_height = h.filter(|&h| h != u32::MAX).unwrap_or(u32::MAX);
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn parse_feature(
    key: &str,
    def: Value,
    bandits: Option<&Map<String, Value>>,
    w: &mut Compiling,
    sticky: &mut Vec<String>,
) -> Option<Feature> {
    let mut m = match def {
        Value::Object(m) => m,
        // JS `if (!features[id])` is unknownFeature; any other truthy shape (`[]`, `5`,
        // `"x"`) is a feature without rules or default: `null` from `defaultValue`.
        other if is_truthy(&other) => {
            w.push(format!(
                "feature {key:?}: its definition is not an object; JS evaluates it to null"
            ));
            Map::new()
        }
        _ => return None,
    };
    let default_value = m.remove("defaultValue").unwrap_or(Value::Null);
    let rules = match m.remove("rules") {
        None | Some(Value::Null) => Box::default(),
        Some(Value::Array(rules)) => rules
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| match parse_rule(key, r, bandits, w, sticky) {
                Ok(rule) => Some(rule),
                Err(why) => {
                    w.push(format!("feature {key:?} rule {i} disabled: {why}"));
                    None
                }
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
        Some(_) => {
            w.push(format!(
                "feature {key:?}: rules must be an array; rules ignored"
            ));
            Box::default()
        }
    };
    Some(Feature::new(key, default_value, rules))
}

fn opt_str(m: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match m.get(k) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{k} must be a string")),
    }
}

fn parse_rule(
    feature_key: &str,
    r: Value,
    bandits: Option<&Map<String, Value>>,
    w: &mut Compiling,
    sticky: &mut Vec<String>,
) -> Result<Rule, String> {
    let Value::Object(mut m) = r else {
        return Err("a rule must be an object".into());
    };
    let id: Box<str> = opt_str(&m, "id").unwrap_or(None).unwrap_or_default().into();
    let parents = match m.get("parentConditions") {
        None | Some(Value::Null) => None,
        Some(pc) => Some(parse_parents(pc, w)?.into_boxed_slice()),
    };
    let filters = match m.get("filters") {
        None | Some(Value::Null) => None,
        Some(f) => Some(parse_filters(f)?.into_boxed_slice()),
    };
    let condition = match m.get("condition") {
        // JS `rule.condition && !conditionPasses(..)`: any truthy shape is evaluated as JS
        // evaluates it (gb-condition warns about non-object shapes).
        Some(c) if is_truthy(c) => {
            let cond = w.condition(c);
            if !cond.is_valid() {
                w.push(format!("feature {feature_key:?}: a rule's condition cannot be compiled; the rule matches nobody"));
            }
            Some(cond)
        }
        _ => None,
    };
    if let Some(force) = m.remove("force") {
        let range = match m.get("range") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_array().map(Vec::as_slice) {
                Some([a, b]) => Some((
                    a.as_f64().ok_or("range must hold numbers")?,
                    b.as_f64().ok_or("range must hold numbers")?,
                )),
                _ => return Err("range must be [start, end]".into()),
            },
        };
        let coverage = match m.get("coverage") {
            None => None,
            Some(Value::Null) => Some(0.0),
            Some(v) => Some(v.as_f64().ok_or("coverage must be a number")?),
        };
        return Ok(Rule {
            id,
            parents,
            filters,
            kind: RuleKind::Force(Box::new(ForceRule {
                value: force.into(),
                condition,
                seed: Seed::new(opt_str(&m, "seed")?.as_deref().unwrap_or(feature_key)),
                hash_attribute: opt_str(&m, "hashAttribute")?.map(String::into_boxed_str),
                fallback_attribute: opt_str(&m, "fallbackAttribute")?.map(String::into_boxed_str),
                disable_sticky_bucketing: m.get("disableStickyBucketing").is_some_and(is_truthy),
                range,
                coverage,
                hash_version: HashVersion::from_json(m.get("hashVersion"), HashVersion::V1),
            })),
        });
    }
    let variations = match m.remove("contextualVariations") {
        Some(v) if !v.is_null() => v,
        _ => match m.remove("variations") {
            Some(v) if !v.is_null() => v,
            _ => {
                return Ok(Rule {
                    id,
                    parents,
                    filters,
                    kind: RuleKind::Skip,
                });
            }
        },
    };
    let Value::Array(variations) = variations else {
        return Err("variations must be an array".into());
    };
    let variations: Arc<[Value]> = variations.into_iter().map(|v| compact(v, 0)).collect();
    push_unique(
        sticky,
        m.get("hashAttribute")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("id"),
    );
    if let Some(f) = m
        .get("fallbackAttribute")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        push_unique(sticky, f);
    }
    // The experiment object exactly as the reference builds it from a rule; `variations`
    // (its first key) is held apart, shared by every experiment the rule builds.
    let mut e = Map::new();
    let key = match m.get("key") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => feature_key.to_string(),
    };
    e.insert("key".into(), Value::String(key));
    if let Some(c) = m.get("coverage") {
        e.insert("coverage".into(), c.clone());
    }
    for k in [
        "weights",
        "hashAttribute",
        "fallbackAttribute",
        "disableStickyBucketing",
    ] {
        move_truthy(&mut m, &mut e, k);
    }
    for k in ["bucketVersion", "minBucketVersion"] {
        if let Some(v) = m.get(k) {
            e.insert(k.into(), v.clone());
        }
    }
    for k in [
        "namespace",
        "meta",
        "ranges",
        "name",
        "phase",
        "seed",
        "hashVersion",
        "filters",
        "condition",
    ] {
        move_truthy(&mut m, &mut e, k);
    }
    let shape = Arc::new(Shape::new(&e, Some(0)));
    let bandit = match m
        .get("contextualBanditRef")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(r) => bandits.and_then(|b| b.get(r)),
        None => None,
    };
    let kind = match bandit {
        None => {
            let exp = Experiment::build(&e, Some(variations), shape, w);
            if let Some(why) = &exp.invalid {
                return Err(why.clone());
            }
            RuleKind::Experiment(Box::new(exp))
        }
        Some(def) => {
            let version = def.get("banditVersion").cloned();
            let mut leaves = Vec::new();
            if let Some(Value::Array(contexts)) = def.get("contexts") {
                leaves.reserve_exact(contexts.len());
                for c in contexts {
                    let cond = match c.get("condition") {
                        Some(cv) if is_truthy(cv) => w.condition(cv),
                        _ => w.always(),
                    };
                    let weights = c.get("weights").cloned().unwrap_or(Value::Null);
                    let exp = Experiment::with_bandit(
                        &e,
                        &variations,
                        &shape,
                        BanditMeta {
                            leaf_id: c.get("leafId").cloned().unwrap_or(Value::Null),
                            variation_weights: Value::Null,
                            bandit_version: version.clone(),
                        },
                        Some(&weights),
                        w,
                    );
                    let mut exp = Box::new(exp);
                    if let Some(b) = exp.bandit.as_deref_mut() {
                        b.variation_weights = weights;
                    }
                    leaves.push((cond, exp));
                }
            }
            let fb = BanditMeta {
                leaf_id: Value::from(-1),
                variation_weights: Experiment::fallback_weights(&e, variations.len()),
                bandit_version: version,
            };
            RuleKind::Bandit {
                leaves: leaves.into_boxed_slice(),
                fallback: Box::new(Experiment::with_bandit(
                    &e,
                    &variations,
                    &shape,
                    fb,
                    None,
                    w,
                )),
            }
        }
    };
    Ok(Rule {
        id,
        parents,
        filters,
        kind,
    })
}

fn move_truthy(from: &mut Map<String, Value>, to: &mut Map<String, Value>, k: &str) {
    if let Some(v) = from.remove(k).filter(is_truthy) {
        to.insert(k.into(), v);
    }
}

/// Replaces every JSON container nested deeper than `max` with `{"$gbTooDeep":1}`, without
/// recursion, so that a hostile payload can still load with the deep part disabled.
fn cut_deep_json(text: &str, max: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut depth = 0usize;
    let mut i = 0;
    let mut last = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    // Skip this whole container.
                    out.push_str(&text[last..i]);
                    out.push_str("{\"$gbTooDeep\":1}");
                    let mut d = 0usize;
                    let mut s = false;
                    while i < b.len() {
                        let c2 = b[i];
                        if s {
                            if c2 == b'\\' {
                                i += 1;
                            } else if c2 == b'"' {
                                s = false;
                            }
                        } else if c2 == b'"' {
                            s = true;
                        } else if c2 == b'{' || c2 == b'[' {
                            d += 1;
                        } else if c2 == b'}' || c2 == b']' {
                            d -= 1;
                            if d == 0 {
                                break;
                            }
                        }
                        i += 1;
                    }
                    i += 1;
                    last = i.min(b.len());
                    depth -= 1;
                    continue;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if last < b.len() {
        out.push_str(&text[last..]);
    }
    out
}

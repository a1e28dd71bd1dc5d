//! The payload: features, rules, saved groups and contextual bandits, compiled into one
//! immutable snapshot.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use gb_condition::{Condition, SavedGroups};
use hashbrown::HashMap;
use serde_json::{Map, Value};

use crate::bucket::Range;
use crate::compiling::Compiling;
use crate::experiment::{
    BanditMeta, Experiment, Filter, ParentCondition, parse_filters, parse_parents,
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
    pub(crate) default_value: Value,
    pub(crate) rules: Vec<Rule>,
    /// The longest chain of prerequisites below this feature; `None` if a cycle is reachable
    /// (set at load from the payload's prerequisite graph).
    pub(crate) prereq_height: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) parents: Option<Vec<ParentCondition>>,
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) kind: RuleKind,
}

#[derive(Debug)]
pub(crate) enum RuleKind {
    Force(ForceRule),
    Experiment(Box<Experiment>),
    Bandit {
        leaves: Vec<(Condition, Box<Experiment>)>,
        fallback: Box<Experiment>,
    },
    /// A rule with no variations (skipped, as the reference does).
    Skip,
}

#[derive(Debug)]
pub(crate) struct ForceRule {
    pub(crate) value: Value,
    pub(crate) condition: Option<Condition>,
    /// `seed || featureKey`, ready to hash.
    pub(crate) seed: Seed,
    pub(crate) hash_attribute: Option<String>,
    pub(crate) fallback_attribute: Option<String>,
    pub(crate) disable_sticky_bucketing: bool,
    pub(crate) range: Option<Range>,
    pub(crate) coverage: Option<f64>,
    pub(crate) hash_version: HashVersion,
}

/// A compiled, immutable GrowthBook payload: what every evaluation reads.
///
/// Build it once per payload (`from_json_str` or `from_value`) and share it; evaluations take
/// `&self` and never clone it.
#[derive(Debug, Default)]
pub struct FeatureSet {
    pub(crate) features: HashMap<String, Feature>,
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
                        Some(f) => {
                            fs.features.insert(key, f);
                        }
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
        self.features.is_empty()
    }

    /// Whether the payload defines `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.features.contains_key(key)
    }

    /// The feature keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.features.keys().map(String::as_str)
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
fn annotate_prerequisites(features: &mut HashMap<String, Feature>, warnings: &mut Vec<String>) {
    let heights = {
        let keys: Vec<&str> = features.keys().map(String::as_str).collect();
        let parents: Vec<Vec<&str>> = features.values().map(prerequisite_ids).collect();
        crate::prereq_graph::heights(&keys, &parents, warnings)
    };
    // A map that has not changed iterates in the same order every time.
    for (f, h) in features.values_mut().zip(heights) {
        f.prereq_height = h;
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
        None | Some(Value::Null) => Vec::new(),
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
            .collect(),
        Some(_) => {
            w.push(format!(
                "feature {key:?}: rules must be an array; rules ignored"
            ));
            Vec::new()
        }
    };
    Some(Feature {
        default_value,
        rules,
        prereq_height: None,
    })
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
    let id = opt_str(&m, "id").unwrap_or(None).unwrap_or_default();
    let parents = match m.get("parentConditions") {
        None | Some(Value::Null) => None,
        Some(pc) => Some(parse_parents(pc, w)?),
    };
    let filters = match m.get("filters") {
        None | Some(Value::Null) => None,
        Some(f) => Some(parse_filters(f)?),
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
            kind: RuleKind::Force(ForceRule {
                value: force,
                condition,
                seed: Seed::new(opt_str(&m, "seed")?.as_deref().unwrap_or(feature_key)),
                hash_attribute: opt_str(&m, "hashAttribute")?,
                fallback_attribute: opt_str(&m, "fallbackAttribute")?,
                disable_sticky_bucketing: m.get("disableStickyBucketing").is_some_and(is_truthy),
                range,
                coverage,
                hash_version: HashVersion::from_json(m.get("hashVersion"), HashVersion::V1),
            }),
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
    if !variations.is_array() {
        return Err("variations must be an array".into());
    }
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
    // The experiment object exactly as the reference builds it from a rule.
    let mut e = Map::new();
    e.insert("variations".into(), variations);
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
            let exp = Experiment::parse(Value::Object(e), w);
            if let Some(why) = &exp.invalid {
                return Err(why.clone());
            }
            RuleKind::Experiment(Box::new(exp))
        }
        Some(def) => {
            let version = def.get("banditVersion").cloned();
            let mut leaves = Vec::new();
            if let Some(Value::Array(contexts)) = def.get("contexts") {
                for c in contexts {
                    let cond = match c.get("condition") {
                        Some(cv) if is_truthy(cv) => w.condition(cv),
                        _ => Condition::always(),
                    };
                    let weights = c.get("weights").cloned().unwrap_or(Value::Null);
                    let leaf = BanditMeta {
                        leaf_id: c.get("leafId").cloned().unwrap_or(Value::Null),
                        variation_weights: weights.clone(),
                        bandit_version: version.clone(),
                    };
                    leaves.push((
                        cond,
                        Box::new(Experiment::with_bandit(&e, leaf, Some(&weights), w)),
                    ));
                }
            }
            let fb = BanditMeta {
                leaf_id: Value::from(-1),
                variation_weights: Experiment::fallback_weights(&e),
                bandit_version: version,
            };
            RuleKind::Bandit {
                leaves,
                fallback: Box::new(Experiment::with_bandit(&e, fb, None, w)),
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

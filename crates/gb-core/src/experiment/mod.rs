//! Experiments: parsed once (from a feature rule or an inline definition) into typed fields,
//! with the reference SDK's JSON shape kept for results ([`shape`]); the field parsers are in
//! [`parse`].

mod parse;
mod shape;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::{Condition, SavedGroups, is_truthy};
use serde_json::{Map, Value};

use crate::bucket::{Range, bucket_ranges, equal_weights};
use crate::compiling::Compiling;
use crate::depth::copy;
use crate::hash::{HashVersion, Seed};
use crate::url::UrlTarget;
use crate::warning::{Detail, WarningKind};

pub(crate) use parse::{P, parse_filters, parse_parents};
pub use shape::ExperimentJson;
pub(crate) use shape::Shape;

/// A hash-range filter (`filters` on rules and experiments).
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) attribute: Option<String>,
    pub(crate) seed: Seed,
    pub(crate) hash_version: HashVersion,
    pub(crate) ranges: Vec<Range>,
}

/// A prerequisite: feature `id` must evaluate to a value satisfying `condition`.
#[derive(Debug, Clone)]
pub(crate) struct ParentCondition {
    pub(crate) id: String,
    pub(crate) condition: Arc<Condition>,
    pub(crate) gate: bool,
}

/// Per-variation metadata.
#[derive(Debug, Default, Clone)]
pub(crate) struct VariationMeta {
    pub(crate) key: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) passthrough: bool,
}

/// Contextual-bandit metadata carried by an experiment built from a bandit leaf.
#[derive(Debug, Clone)]
pub(crate) struct BanditMeta {
    pub(crate) leaf_id: Value,
    pub(crate) variation_weights: Value,
    pub(crate) bandit_version: Option<Value>,
}

/// The parts of an experiment few have: a feature rule's experiment is smaller without them
/// (a contextual bandit builds one experiment per leaf).
#[derive(Debug, Clone, Default)]
pub(crate) struct Rare {
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) parent_conditions: Option<Vec<ParentCondition>>,
    /// `force` as given: `Some(None)` when it names no variation (nobody is included).
    pub(crate) force: Option<Option<usize>>,
    pub(crate) url_patterns: Option<Vec<UrlTarget>>,
    pub(crate) url_regex: Option<Option<Arc<Condition>>>,
    pub(crate) groups: Option<Vec<String>>,
    /// Why the definition could not be used (the experiment then includes nobody).
    pub(crate) invalid: Option<String>,
}

static NO_RARE: Rare = Rare {
    filters: None,
    parent_conditions: None,
    force: None,
    url_patterns: None,
    url_regex: None,
    groups: None,
    invalid: None,
};

impl Rare {
    fn is_empty(&self) -> bool {
        self.filters.is_none()
            && self.parent_conditions.is_none()
            && self.force.is_none()
            && self.url_patterns.is_none()
            && self.url_regex.is_none()
            && self.groups.is_none()
            && self.invalid.is_none()
    }
}

/// An experiment, ready to run.
///
/// Built from a feature rule when a payload loads, or from an inline definition with
/// [`Experiment::from_json`].
#[derive(Debug, Clone)]
pub struct Experiment {
    pub(crate) key: String,
    /// Shared by every experiment built from one rule.
    pub(crate) variations: Arc<[Value]>,
    /// `meta[i].key || String(i)` for every variation.
    pub(crate) variation_keys: Vec<String>,
    pub(crate) meta: Vec<VariationMeta>,
    pub(crate) ranges: Vec<Range>,
    pub(crate) hash_attribute: Option<String>,
    pub(crate) fallback_attribute: Option<String>,
    pub(crate) hash_version: HashVersion,
    /// `seed || key`, ready to hash.
    pub(crate) hash_seed: Seed,
    pub(crate) namespace: Option<(String, f64, f64)>,
    pub(crate) condition: Option<Arc<Condition>>,
    pub(crate) active: bool,
    pub(crate) draft: bool,
    pub(crate) stopped: bool,
    pub(crate) disable_sticky_bucketing: bool,
    /// `"<key>__<bucketVersion>"`, the experiment's key in sticky-bucket documents.
    pub(crate) sticky_key: String,
    pub(crate) min_bucket_version: f64,
    pub(crate) bandit: Option<Box<BanditMeta>>,
    /// What few experiments have, boxed (`None` when it is all absent).
    pub(crate) rare: Option<Box<Rare>>,
    /// The definition as the reference SDK shows it in results (without the bandit's
    /// `weights` and `contextualBandit`, which come from `bandit`).
    pub(crate) shape: Arc<Shape>,
    /// A bandit leaf's weights replace the rule's in the JSON shown.
    pub(crate) weights_from_bandit: bool,
    /// `persistQueryString` (URL redirects).
    pub(crate) persist_query_string: bool,
}

impl Experiment {
    /// Parses an inline experiment definition (the reference `Experiment` object).
    ///
    /// Never fails: a malformed definition yields an experiment that includes nobody, with
    /// the reason in [`Experiment::invalid_reason`].
    pub fn from_json(v: &Value) -> Experiment {
        let mut w = Compiling::default();
        Self::parse(
            crate::depth::clone_cut(v, crate::depth::MAX_JSON_DEPTH),
            &mut w,
        )
    }

    /// The experiment key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The variations' values.
    pub fn variations(&self) -> &[Value] {
        &self.variations
    }

    /// The experiment as the reference SDK's JSON object (with `contextualBandit` for an
    /// experiment built from a bandit leaf).
    pub fn as_json(&self) -> ExperimentJson<'_> {
        ExperimentJson {
            exp: self,
            contextual_bandit: true,
        }
    }

    /// The JSON shown in a feature result: `contextualBandit` only when the user was hashed
    /// into the experiment.
    pub(crate) fn json_shown(&self, hashed: bool) -> ExperimentJson<'_> {
        ExperimentJson {
            exp: self,
            contextual_bandit: hashed,
        }
    }

    /// Why the definition is unusable, if it is.
    pub fn invalid_reason(&self) -> Option<&str> {
        self.rare().invalid.as_deref()
    }

    /// The experiment's rarely present parts.
    #[inline]
    pub(crate) fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    pub(crate) fn parse(v: Value, warnings: &mut Compiling) -> Experiment {
        let (m, variations, shape) = Shape::split(v);
        Self::build(&m, variations, Arc::new(shape), warnings)
    }

    /// Builds an experiment from its definition `m`, whose `variations` array (if it has one)
    /// was split out.
    pub(crate) fn build(
        m: &Map<String, Value>,
        variations: Option<Arc<[Value]>>,
        shape: Arc<Shape>,
        warnings: &mut Compiling,
    ) -> Experiment {
        let mut p = P { errors: Vec::new() };
        let key = match m.get("key") {
            Some(Value::String(s)) => s.clone(),
            Some(other) if !other.is_null() => {
                p.err("key must be a string");
                String::new()
            }
            _ => String::new(),
        };
        let variations = variations.unwrap_or_else(|| {
            p.err("variations must be an array");
            Arc::from(Vec::new())
        });
        let n = variations.len();
        let meta: Vec<VariationMeta> = match m.get("meta") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|mv| VariationMeta {
                    key: mv
                        .get("key")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                    name: mv
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                    passthrough: mv.get("passthrough").is_some_and(is_truthy),
                })
                .collect(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                p.err("meta must be an array");
                Vec::new()
            }
        };
        let variation_keys = (0..n)
            .map(|i| {
                meta.get(i)
                    .and_then(|m| m.key.clone())
                    .unwrap_or_else(|| itoa::Buffer::new().format(i).into())
            })
            .collect();
        let weights = match m.get("weights") {
            None | Some(Value::Null) => None,
            Some(w) => p.numbers(w, "weights"),
        };
        let coverage = match m.get("coverage") {
            None => 1.0,
            Some(Value::Null) => 0.0,
            Some(Value::Number(c)) => c.as_f64().unwrap_or(0.0),
            Some(_) => {
                p.err("coverage must be a number");
                0.0
            }
        };
        let ranges = match m.get("ranges") {
            None | Some(Value::Null) => bucket_ranges(n, coverage, weights.as_deref()),
            Some(r) => p.ranges(r).unwrap_or_default(),
        };
        let hash_attribute = p.opt_str(m, "hashAttribute");
        let fallback_attribute = p.opt_str(m, "fallbackAttribute");
        let seed = p.opt_str(m, "seed");
        let hash_version = HashVersion::from_json(m.get("hashVersion"), HashVersion::V1);
        let namespace = match m.get("namespace") {
            None | Some(Value::Null) => None,
            Some(ns) => match ns.as_array().map(Vec::as_slice) {
                Some([Value::String(id), a, b]) if a.is_number() && b.is_number() => Some((
                    id.clone(),
                    a.as_f64().unwrap_or(0.0),
                    b.as_f64().unwrap_or(0.0),
                )),
                _ => {
                    p.err("namespace must be [id, start, end]");
                    None
                }
            },
        };
        let filters = match m.get("filters") {
            None | Some(Value::Null) => None,
            Some(f) => p.filters(f),
        };
        // JS `experiment.condition && !conditionPasses(..)`: falsy means no condition.
        let condition = match m.get("condition") {
            Some(c) if is_truthy(c) => Some(warnings.condition(c)),
            _ => None,
        };
        let parent_conditions = match m.get("parentConditions") {
            None | Some(Value::Null) => None,
            Some(pc) => p.parents(pc, warnings),
        };
        let force = match m.get("force") {
            None => None,
            Some(Value::Number(f)) => Some(f.as_f64().and_then(as_index)),
            Some(_) => Some(None),
        };
        let url_patterns = match m.get("urlPatterns") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(|t| UrlTarget::parse(t, warnings))
                    .collect(),
            ),
            Some(_) => {
                p.err("urlPatterns must be an array");
                None
            }
        };
        let url_regex = match m.get("url") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => {
                let c = warnings.condition(&serde_json::json!({"u": {"$regex": s}}));
                Some(Some(c))
            }
            Some(_) => Some(None),
        };
        let groups = match m.get("groups") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
            ),
            Some(_) => Some(Vec::new()),
        };
        let bucket_version = js_or_zero(m.get("bucketVersion"));
        let min_bucket_version = m
            .get("minBucketVersion")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let status = m.get("status").and_then(Value::as_str);
        let invalid = (!p.errors.is_empty()).then(|| {
            let why = p.why();
            warnings.warn(
                WarningKind::ExperimentDisabled,
                Detail::Experiment(key.as_str().into(), why.clone()),
            );
            why
        });
        let hash_seed = Seed::new(seed.as_deref().unwrap_or(&key));
        let sticky_key = [key.as_str(), "__", bucket_version.as_str()].concat();
        let active = !matches!(m.get("active"), Some(Value::Bool(false)));
        let disable_sticky_bucketing = m.get("disableStickyBucketing").is_some_and(is_truthy);
        let rare = Rare {
            filters,
            parent_conditions,
            force,
            url_patterns,
            url_regex,
            groups,
            invalid,
        };
        let draft = status == Some("draft");
        let stopped = status == Some("stopped");
        let persist_query_string = m.get("persistQueryString").is_some_and(is_truthy);
        Experiment {
            hash_seed,
            key,
            variations,
            variation_keys,
            meta,
            ranges,
            hash_attribute,
            fallback_attribute,
            hash_version,
            namespace,
            condition,
            active,
            draft,
            stopped,
            disable_sticky_bucketing,
            sticky_key,
            min_bucket_version,
            bandit: None,
            rare: (!rare.is_empty()).then(|| Box::new(rare)),
            shape,
            weights_from_bandit: false,
            persist_query_string,
        }
    }

    /// Builds the experiment a contextual-bandit leaf (or the fallback) selects: the rule's
    /// definition `base` with the leaf's `weights`, sharing the rule's variations and shape.
    pub(crate) fn with_bandit(
        base: &Map<String, Value>,
        variations: &Arc<[Value]>,
        shape: &Arc<Shape>,
        leaf: BanditMeta,
        weights: Option<&Value>,
        warnings: &mut Compiling,
    ) -> Experiment {
        let mut e = match weights {
            Some(w) => {
                let mut m: Map<String, Value> =
                    base.iter().map(|(k, v)| (k.clone(), copy(v))).collect();
                m.insert("weights".into(), copy(w));
                Experiment::build(&m, Some(variations.clone()), shape.clone(), warnings)
            }
            None => Experiment::build(base, Some(variations.clone()), shape.clone(), warnings),
        };
        e.weights_from_bandit = weights.is_some();
        e.bandit = Some(Box::new(leaf));
        e
    }

    /// The reference fallback weights of a bandit: the rule's weights or equal weights.
    pub(crate) fn fallback_weights(m: &Map<String, Value>, variations: usize) -> Value {
        match m.get("weights") {
            Some(w) if !w.is_null() => copy(w),
            _ => Value::from(equal_weights(variations)),
        }
    }

    /// Whether this experiment's condition passes (no condition passes).
    pub(crate) fn condition_passes(
        &self,
        attrs: &Map<String, Value>,
        groups: &SavedGroups,
    ) -> bool {
        self.condition
            .as_ref()
            .is_none_or(|c| c.matches_map(attrs, groups))
    }
}

/// `String(v || 0)` for a bucket version.
fn js_or_zero(v: Option<&Value>) -> String {
    match v {
        Some(v) if is_truthy(v) => {
            let mut s = String::new();
            let _ = gb_condition::write_js_string(&mut s, v);
            s
        }
        _ => "0".to_string(),
    }
}

/// An integral number as a variation index (`None` for negative numbers, fractions, NaN and
/// huge values).
pub(crate) fn as_index(x: f64) -> Option<usize> {
    if (0.0..1e15).contains(&x) && (x as u64) as f64 == x {
        usize::try_from(x as u64).ok()
    } else {
        None
    }
}

//! Feature rules: force rules (with rollouts), experiments and contextual bandits, parsed
//! from the payload JSON.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::{Condition, is_truthy};
use serde_json::{Map, Value};

use crate::bucket::Range;
use crate::compiling::Compiling;
use crate::depth::copy;
use crate::experiment::{
    BanditMeta, Experiment, Filter, P, ParentCondition, Shape, parse_filters, parse_parents,
};
use crate::hash::{HashVersion, Seed};
use crate::values::{ValueId, compact};
use crate::warning::{Detail, WarningKind};

use super::table::Feature;

#[derive(Debug)]
pub(crate) struct Rule {
    /// The rule's index in the payload's `rules` array (disabled rules are left out).
    pub(crate) index: u32,
    pub(crate) id: Box<str>,
    pub(crate) parents: Option<Box<[ParentCondition]>>,
    pub(crate) filters: Option<Box<[Filter]>>,
    pub(crate) kind: RuleKind,
}

#[derive(Debug)]
pub(crate) enum RuleKind {
    Force(Box<ForceRule>),
    Experiment(Box<Experiment>),
    Bandit(Box<Bandit>),
    /// A rule with no variations (skipped, as the reference does).
    Skip,
}

/// A contextual-bandit rule: the experiment of the first leaf whose condition matches, else
/// the fallback.
#[derive(Debug)]
pub(crate) struct Bandit {
    pub(crate) leaves: Box<[(Arc<Condition>, Box<Experiment>)]>,
    pub(crate) fallback: Box<Experiment>,
}

#[derive(Debug)]
pub(crate) struct ForceRule {
    /// The forced value, in the feature table's values.
    pub(crate) value: ValueId,
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

pub(super) fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

pub(super) fn parse_feature(
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
            w.warn(
                WarningKind::FeatureNotObject,
                "its definition is not an object; JS evaluates it to null",
            );
            Map::new()
        }
        _ => return None,
    };
    let default_value = take(&mut m, "defaultValue").unwrap_or(Value::Null);
    let rules = match take(&mut m, "rules") {
        None | Some(Value::Null) => Box::default(),
        Some(Value::Array(rules)) => rules
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| {
                w.at(Some(key), Some(i));
                let index = u32::try_from(i).ok()?;
                match parse_rule(key, index, r, bandits, w, sticky) {
                    Ok(rule) => Some(rule),
                    Err(why) => {
                        w.warn(WarningKind::RuleDisabled, why);
                        None
                    }
                }
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
        Some(_) => {
            w.warn(
                WarningKind::RulesNotArray,
                "rules must be an array; rules ignored",
            );
            Box::default()
        }
    };
    Some(Feature::new(key, w.values.add(default_value), rules))
}

/// `k` as an optional string (`P::opt_str`), or why it is not one.
fn opt_str(m: &Map<String, Value>, k: &str) -> Result<Option<String>, Detail> {
    let mut p = P { errors: Vec::new() };
    let s = p.opt_str(m, k);
    match p.errors.pop() {
        Some(why) => Err(Detail::Why(why)),
        None => Ok(s),
    }
}

fn parse_rule(
    feature_key: &str,
    index: u32,
    r: Value,
    bandits: Option<&Map<String, Value>>,
    w: &mut Compiling,
    sticky: &mut Vec<String>,
) -> Result<Rule, Detail> {
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
                w.warn(
                    WarningKind::ConditionDisabled,
                    "a rule's condition cannot be compiled; the rule matches nobody",
                );
            }
            Some(cond)
        }
        _ => None,
    };
    if let Some(force) = take(&mut m, "force") {
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
            index,
            id,
            parents,
            filters,
            kind: RuleKind::Force(Box::new(ForceRule {
                value: w.values.add(force),
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
    let variations = match take(&mut m, "contextualVariations") {
        Some(v) if !v.is_null() => v,
        _ => match take(&mut m, "variations") {
            Some(v) if !v.is_null() => v,
            _ => {
                return Ok(Rule {
                    index,
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
        e.insert("coverage".into(), copy(c));
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
            e.insert(k.into(), copy(v));
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
            if let Some(why) = &exp.rare().invalid {
                return Err(Detail::Why(why.clone()));
            }
            RuleKind::Experiment(Box::new(exp))
        }
        Some(def) => {
            let version = def.get("banditVersion").map(copy);
            let mut leaves = Vec::new();
            if let Some(Value::Array(contexts)) = def.get("contexts") {
                leaves.reserve_exact(contexts.len());
                for c in contexts {
                    let cond = match c.get("condition") {
                        Some(cv) if is_truthy(cv) => w.condition(cv),
                        _ => w.always(),
                    };
                    let weights = c.get("weights").map_or(Value::Null, copy);
                    let exp = Experiment::with_bandit(
                        &e,
                        &variations,
                        &shape,
                        BanditMeta {
                            leaf_id: c.get("leafId").map_or(Value::Null, copy),
                            variation_weights: Value::Null,
                            bandit_version: version.as_ref().map(copy),
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
            RuleKind::Bandit(Box::new(Bandit {
                leaves: leaves.into_boxed_slice(),
                fallback: Box::new(Experiment::with_bandit(
                    &e,
                    &variations,
                    &shape,
                    fb,
                    None,
                    w,
                )),
            }))
        }
    };
    Ok(Rule {
        index,
        id,
        parents,
        filters,
        kind,
    })
}

/// Takes the value of `k` out of `m`, leaving `null` in its place: a rule's keys are each read
/// once, so nothing reads a taken key again (and serde_json's `Map::remove` would link
/// indexmap's removal code into every build only for this).
fn take(m: &mut Map<String, Value>, k: &str) -> Option<Value> {
    m.get_mut(k).map(Value::take)
}

fn move_truthy(from: &mut Map<String, Value>, to: &mut Map<String, Value>, k: &str) {
    if let Some(v) = take(from, k).filter(is_truthy) {
        to.insert(k.into(), v);
    }
}

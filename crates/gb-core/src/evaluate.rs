//! Feature and experiment evaluation: the reference `evalFeature` and `runExperiment`.

use alloc::string::String;
use alloc::vec::Vec;

use gb_condition::{Root, attr_get};
use serde_json::{Map, Value};

use crate::bucket::{Range, choose_variation, in_range, query_string_override};
use crate::context::User;
use crate::experiment::{Experiment, Filter, ParentCondition};
use crate::feature::{Feature, FeatureSet, ForceRule, RuleKind};
use crate::memo::{Budget, Memo};
use crate::result::{BanditInfo, ExperimentResult, FeatureResult, FeatureSource, is_truthy};
use crate::sticky::{StickyAssignmentsDocument, StickyBucketDocs, attribute_key};
use crate::url::is_url_targeted;

pub use crate::prereq_graph::MAX_PREREQUISITE_DEPTH;

static NULL: Value = Value::Null;
static EMPTY_STR: Value = Value::String(String::new());

/// Receives what an evaluation does, as it happens. Every method has an empty default, and
/// `()` ignores everything, so an unused observer costs nothing.
pub trait Observer<'a> {
    /// A user was bucketed into an experiment by hashing (the reference tracking callback).
    fn on_experiment_viewed(&mut self, experiment: &'a Experiment, result: &ExperimentResult<'a>) {
        let _ = (experiment, result);
    }

    /// A feature was evaluated (not called for forced values), including prerequisites.
    fn on_feature_usage(&mut self, key: &str, result: &FeatureResult<'a>) {
        let _ = (key, result);
    }

    /// A step of the evaluation, for explaining it.
    fn on_trace(&mut self, event: Trace<'_>) {
        let _ = event;
    }
}

impl Observer<'_> for () {}

/// One step of an evaluation, reported to [`Observer::on_trace`].
///
/// Events arrive in evaluation order. A feature's events start with [`Trace::Feature`] and end
/// with [`Trace::Value`]; in between, each rule starts with [`Trace::RuleStart`] and usually ends
/// with [`Trace::Rule`] (a rule that decides a cycle ends with the feature's `Value`). The checks
/// between them ([`Trace::Condition`], [`Trace::Prerequisite`], [`Trace::Hash`],
/// [`Trace::StickyBucket`], [`Trace::Experiment`]) belong to the innermost open rule; a
/// prerequisite's own feature events nest inside the rule that asked for it. Every field
/// borrows, so building an event costs nothing when the observer ignores it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Trace<'t> {
    /// Evaluation of a feature starts.
    Feature {
        /// The feature key.
        key: &'t str,
    },
    /// A rule was skipped or applied.
    Rule {
        /// The feature key.
        feature: &'t str,
        /// The rule's index.
        index: usize,
        /// What happened.
        outcome: &'static str,
    },
    /// An experiment stopped at a step, or assigned a variation.
    Experiment {
        /// The experiment key.
        key: &'t str,
        /// What happened.
        outcome: &'static str,
        /// The hash, when one was computed.
        bucket: Option<f64>,
    },
    /// A rule of the feature being evaluated starts.
    RuleStart {
        /// The feature key.
        feature: &'t str,
        /// The rule's index among the feature's usable rules.
        index: usize,
        /// The rule's `id` (`""` if none).
        id: &'t str,
        /// `"force"`, `"experiment"`, `"bandit"`, or `"skip"` (neither a force value nor
        /// variations: the rule only gates on its prerequisites).
        kind: &'static str,
    },
    /// The current rule's or experiment's targeting condition was tested.
    Condition {
        /// Whether the user's attributes matched.
        passed: bool,
    },
    /// A prerequisite feature was evaluated (its events come just before, unless the same
    /// prerequisite was already evaluated earlier in this evaluation and its result reused) and
    /// its value tested.
    Prerequisite {
        /// The prerequisite feature's key.
        id: &'t str,
        /// Its value for this user.
        value: &'t Value,
        /// Whether a failure blocks the whole feature (`gate`) rather than skipping the rule.
        gate: bool,
        /// Whether the value satisfied the condition.
        passed: bool,
    },
    /// A hash of a user attribute was compared with ranges: a rule's rollout, a filter, a
    /// namespace or an experiment's variation ranges.
    Hash {
        /// `"rollout"`, `"filter"`, `"namespace"` or `"experiment"`.
        step: &'static str,
        /// The attribute hashed.
        attribute: &'t str,
        /// Its value; `None` when the user has no usable value.
        value: Option<&'t Value>,
        /// The hash in `[0, 1)`; `None` when none was computed.
        hash: Option<f64>,
        /// The ranges the hash had to fall in (empty for a coverage check).
        ranges: &'t [Range],
        /// The coverage the hash had to be at most (a rollout without a range).
        coverage: Option<f64>,
        /// Whether it passed.
        passed: bool,
    },
    /// Stored sticky buckets were looked up for an experiment.
    StickyBucket {
        /// The experiment key.
        experiment: &'t str,
        /// The stored variation's index, if a stored assignment matched a variation.
        variation: Option<usize>,
        /// Whether a stored assignment below `minBucketVersion` blocks the user.
        blocked: bool,
    },
    /// The feature's value was chosen (the last event of a feature).
    Value {
        /// The feature key.
        feature: &'t str,
        /// The value.
        value: &'t Value,
        /// Why.
        source: FeatureSource,
        /// The id of the rule that applied, or `""`.
        rule_id: &'t str,
    },
}

/// A stack of the features being evaluated (prerequisite cycle detection).
pub(crate) struct Stack<'s> {
    id: &'s str,
    depth: usize,
    parent: Option<&'s Stack<'s>>,
}

impl Stack<'_> {
    fn contains(s: Option<&Stack<'_>>, id: &str) -> bool {
        let mut cur = s;
        while let Some(n) = cur {
            if n.id == id {
                return true;
            }
            cur = n.parent;
        }
        false
    }
}

pub(crate) struct Ev<'a, 'u, O> {
    fs: &'a FeatureSet,
    user: &'u User<'a>,
    sticky: Option<&'u mut StickyBucketDocs>,
    obs: &'u mut O,
    /// Prerequisite results already computed in this evaluation (set up at the first
    /// prerequisite: most evaluations have none).
    memo: Option<Memo<'a>>,
    budget: Budget,
}

impl<'a, 'u, O: Observer<'a>> Ev<'a, 'u, O> {
    pub(crate) fn new(
        fs: &'a FeatureSet,
        user: &'u User<'a>,
        sticky: Option<&'u mut StickyBucketDocs>,
        obs: &'u mut O,
    ) -> Self {
        Ev {
            fs,
            user,
            sticky,
            obs,
            memo: None,
            budget: Budget::default(),
        }
    }

    fn attrs(&self) -> &'a Map<String, Value> {
        self.user.attributes
    }

    fn result(
        &mut self,
        key: &str,
        value: &'a Value,
        source: FeatureSource,
        rule_id: &'a str,
    ) -> FeatureResult<'a> {
        // Past the work budget every result fails closed, up to the feature asked for.
        let (value, source, rule_id) = if self.budget.exhausted() {
            (&NULL, FeatureSource::EvaluationLimit, "")
        } else {
            (value, source, rule_id)
        };
        let r = FeatureResult {
            value,
            source,
            rule_id,
            experiment: None,
            experiment_result: None,
        };
        self.obs.on_trace(Trace::Value {
            feature: key,
            value,
            source,
            rule_id,
        });
        if source != FeatureSource::Override {
            self.obs.on_feature_usage(key, &r);
        }
        r
    }

    pub(crate) fn eval_feature(&mut self, id: &str) -> FeatureResult<'a> {
        self.feature(id, None)
    }

    /// Starts the next feature of a one-pass evaluation of many features: a fresh work
    /// budget; prerequisite results already computed for this user stay remembered.
    pub(crate) fn next_feature(&mut self) {
        self.budget = Budget::default();
    }

    /// Evaluates `feature` (already looked up) as a top-level feature.
    pub(crate) fn eval_known(&mut self, feature: &'a Feature) -> FeatureResult<'a> {
        self.feature_in(&feature.key, Some(feature), None)
    }

    fn feature(&mut self, id: &str, stack: Option<&Stack<'_>>) -> FeatureResult<'a> {
        self.feature_in(id, None, stack)
    }

    fn feature_in(
        &mut self,
        id: &str,
        known: Option<&'a Feature>,
        stack: Option<&Stack<'_>>,
    ) -> FeatureResult<'a> {
        self.obs.on_trace(Trace::Feature { key: id });
        let depth = stack.map_or(0, |s| s.depth + 1);
        if Stack::contains(stack, id) || depth > MAX_PREREQUISITE_DEPTH {
            return self.result(id, &NULL, FeatureSource::CyclicPrerequisite, "");
        }
        if let Some(v) = self.user.forced_features.and_then(|f| f.get(id)) {
            return self.result(id, v, FeatureSource::Override, "");
        }
        let fs = self.fs;
        let Some(feature) = known.or_else(|| fs.features.get(id)) else {
            return self.result(id, &NULL, FeatureSource::UnknownFeature, "");
        };
        let fkey: &'a str = &feature.key;
        if !self.budget.spend() {
            return self.result(fkey, &NULL, FeatureSource::EvaluationLimit, "");
        }
        let here = Stack {
            id: fkey,
            depth,
            parent: stack,
        };
        'rules: for (index, rule) in feature.rules.iter().enumerate() {
            if !self.budget.spend() {
                return self.result(fkey, &NULL, FeatureSource::EvaluationLimit, "");
            }
            self.obs.on_trace(Trace::RuleStart {
                feature: fkey,
                index,
                id: &rule.id,
                kind: match rule.kind {
                    RuleKind::Force(_) => "force",
                    RuleKind::Experiment(_) => "experiment",
                    RuleKind::Bandit { .. } => "bandit",
                    RuleKind::Skip => "skip",
                },
            });
            if let Some(parents) = &rule.parents {
                match self.parents_pass(parents, &here) {
                    ParentOutcome::Pass => {}
                    ParentOutcome::Cyclic => {
                        return self.result(fkey, &NULL, FeatureSource::CyclicPrerequisite, "");
                    }
                    ParentOutcome::Fail { gate: true } => {
                        self.trace_rule(fkey, index, "blocked by a gating prerequisite");
                        return self.result(fkey, &NULL, FeatureSource::Prerequisite, "");
                    }
                    ParentOutcome::Fail { gate: false } => {
                        self.trace_rule(fkey, index, "skipped: prerequisite not met");
                        continue 'rules;
                    }
                }
            }
            if let Some(filters) = &rule.filters
                && self.filtered_out(filters)
            {
                self.trace_rule(fkey, index, "skipped: filtered out");
                continue;
            }
            match &rule.kind {
                RuleKind::Skip => {
                    self.trace_rule(fkey, index, "skipped: no variations");
                    continue;
                }
                RuleKind::Force(f) => {
                    if let Some(c) = &f.condition {
                        let passed = c.matches_map(self.attrs(), &fs.saved_groups);
                        self.obs.on_trace(Trace::Condition { passed });
                        if !passed {
                            self.trace_rule(fkey, index, "skipped: condition failed");
                            continue;
                        }
                    }
                    if !self.in_rollout(f) {
                        self.trace_rule(fkey, index, "skipped: not in rollout");
                        continue;
                    }
                    self.trace_rule(fkey, index, "applied: forced value");
                    return self.result(fkey, &f.value, FeatureSource::Force, &rule.id);
                }
                RuleKind::Experiment(exp) => {
                    if let Some(r) = self.rule_experiment(fkey, index, exp, &rule.id, &here) {
                        return r;
                    }
                }
                RuleKind::Bandit { leaves, fallback } => {
                    // JS catches a throw in leaf selection and uses the fallback weights.
                    let mut exp = fallback;
                    for (c, e) in leaves {
                        match c.eval_map(self.attrs(), &fs.saved_groups) {
                            Some(true) => {
                                exp = e;
                                break;
                            }
                            Some(false) => {}
                            None => break,
                        }
                    }
                    if let Some(r) = self.rule_experiment(fkey, index, exp, &rule.id, &here) {
                        return r;
                    }
                }
            }
        }
        self.result(
            fkey,
            feature.default_value(),
            FeatureSource::DefaultValue,
            "",
        )
    }

    fn rule_experiment(
        &mut self,
        fkey: &'a str,
        index: usize,
        exp: &'a Experiment,
        rule_id: &'a str,
        here: &Stack<'_>,
    ) -> Option<FeatureResult<'a>> {
        let res = self.run(exp, Some(fkey), Some(here));
        if self.budget.exhausted() {
            return Some(self.result(fkey, &NULL, FeatureSource::EvaluationLimit, ""));
        }
        if res.in_experiment && !res.passthrough {
            self.trace_rule(fkey, index, "applied: experiment");
            self.obs.on_trace(Trace::Value {
                feature: fkey,
                value: res.value,
                source: FeatureSource::Experiment,
                rule_id,
            });
            let r = FeatureResult {
                value: res.value,
                source: FeatureSource::Experiment,
                rule_id,
                experiment: Some(exp),
                experiment_result: Some(res),
            };
            self.obs.on_feature_usage(fkey, &r);
            return Some(r);
        }
        self.trace_rule(fkey, index, "skipped: not in experiment");
        None
    }

    fn trace_rule(&mut self, feature: &str, index: usize, outcome: &'static str) {
        self.obs.on_trace(Trace::Rule {
            feature,
            index,
            outcome,
        });
    }

    fn parents_pass(&mut self, parents: &'a [ParentCondition], here: &Stack<'_>) -> ParentOutcome {
        for pc in parents {
            let (value, source) = self.prerequisite(&pc.id, Some(here));
            if source == FeatureSource::CyclicPrerequisite {
                return ParentOutcome::Cyclic;
            }
            let passed = pc
                .condition
                .matches_root(Root::Single("value", value), &self.fs.saved_groups);
            self.trace_prerequisite(pc, value, passed);
            if !passed {
                return ParentOutcome::Fail { gate: pc.gate };
            }
        }
        ParentOutcome::Pass
    }

    /// A prerequisite's value and source, evaluated once per evaluation: a result is reused
    /// when it cannot depend on the path that reached it (no cycle below the feature, and its
    /// whole chain within [`MAX_PREREQUISITE_DEPTH`] of here), which keeps a DAG of
    /// prerequisites linear instead of exponential.
    fn prerequisite(
        &mut self,
        id: &'a str,
        stack: Option<&Stack<'_>>,
    ) -> (&'a Value, FeatureSource) {
        let depth = stack.map_or(0, |s| s.depth + 1);
        let reusable = self
            .fs
            .features
            .get(id)
            .and_then(|f| f.prereq_height())
            .is_some_and(|h| depth.saturating_add(h as usize) <= MAX_PREREQUISITE_DEPTH);
        if reusable && let Some(hit) = self.memo.as_ref().and_then(|m| m.get(id)) {
            return hit;
        }
        let r = self.feature(id, stack);
        if reusable && !self.budget.exhausted() {
            self.memo
                .get_or_insert_with(Memo::new)
                .insert(id, r.value, r.source);
        }
        (r.value, r.source)
    }

    /// The reference `getHashAttribute`: the attribute's value if truthy, else the fallback's.
    fn hash_attribute(
        &self,
        attr: Option<&'a str>,
        fallback: Option<&'a str>,
    ) -> (&'a str, Option<&'a Value>) {
        let name = attr.unwrap_or("id");
        let attrs = self.attrs();
        if let Some(v) = attr_get(attrs, name).filter(|v| is_truthy(v)) {
            return (name, Some(v));
        }
        if let Some(fb) = fallback
            && let Some(v) = attr_get(attrs, fb).filter(|v| is_truthy(v))
        {
            return (fb, Some(v));
        }
        (name, None)
    }

    fn trace_prerequisite(&mut self, pc: &'a ParentCondition, value: &'a Value, passed: bool) {
        self.obs.on_trace(Trace::Prerequisite {
            id: &pc.id,
            value,
            gate: pc.gate,
            passed,
        });
    }

    fn filtered_out(&mut self, filters: &'a [Filter]) -> bool {
        filters.iter().any(|f| {
            let (attribute, hv) = self.hash_attribute(f.attribute.as_deref(), None);
            let hash = hv.and_then(|hv| f.seed.hash(hv, f.hash_version));
            let passed = hash.is_some_and(|n| f.ranges.iter().any(|r| in_range(n, *r)));
            self.obs.on_trace(Trace::Hash {
                step: "filter",
                attribute,
                value: hv,
                hash,
                ranges: &f.ranges,
                coverage: None,
                passed,
            });
            !passed
        })
    }

    fn in_rollout(&mut self, f: &'a ForceRule) -> bool {
        if f.range.is_none() && f.coverage.is_none() {
            return true;
        }
        let fallback = if self.sticky.is_some() && !f.disable_sticky_bucketing {
            f.fallback_attribute.as_deref()
        } else {
            None
        };
        let (attribute, hv) = self.hash_attribute(f.hash_attribute.as_deref(), fallback);
        let hash = match (f.range, f.coverage, hv) {
            (None, Some(0.0), _) | (_, _, None) => None,
            (_, _, Some(hv)) => f.seed.hash(hv, f.hash_version),
        };
        let passed = match (hash, f.range, f.coverage) {
            (None, ..) => false,
            (Some(n), Some(r), _) => in_range(n, r),
            (Some(n), None, Some(c)) => n <= c,
            (Some(_), None, None) => true,
        };
        self.obs.on_trace(Trace::Hash {
            step: "rollout",
            attribute,
            value: hv,
            hash,
            ranges: f.range.as_slice(),
            coverage: f.coverage.filter(|_| f.range.is_none()),
            passed,
        });
        passed
    }

    fn sticky_enabled(&self, exp: &Experiment) -> bool {
        self.sticky.is_some() && !exp.disable_sticky_bucketing
    }

    fn exp_hash_attribute(&self, exp: &'a Experiment) -> (&'a str, Option<&'a Value>) {
        let fb = if self.sticky_enabled(exp) {
            exp.fallback_attribute.as_deref()
        } else {
            None
        };
        self.hash_attribute(exp.hash_attribute.as_deref(), fb)
    }

    fn exp_result(
        &self,
        exp: &'a Experiment,
        variation: i64,
        hash_used: bool,
        feature_id: Option<&'a str>,
        bucket: Option<f64>,
        sticky_used: bool,
    ) -> ExperimentResult<'a> {
        let valid = variation >= 0 && (variation as u64) < exp.variations.len() as u64;
        let i = if valid { variation as usize } else { 0 };
        let (hash_attribute, hv) = self.exp_hash_attribute(exp);
        let meta = exp.meta.get(i);
        let in_experiment = valid;
        ExperimentResult {
            key: exp.variation_keys.get(i).map_or("0", String::as_str),
            feature_id,
            in_experiment,
            hash_used,
            variation_id: i,
            value: exp.variations.get(i).unwrap_or(&NULL),
            hash_attribute,
            hash_value: hv.unwrap_or(&EMPTY_STR),
            sticky_bucket_used: sticky_used,
            name: meta.and_then(|m| m.name.as_deref()),
            bucket,
            passthrough: meta.is_some_and(|m| m.passthrough),
            bandit: match &exp.bandit {
                Some(b) if hash_used && in_experiment => Some(BanditInfo {
                    leaf_id: &b.leaf_id,
                    variation_weights: &b.variation_weights,
                    bandit_version: b.bandit_version.as_ref(),
                }),
                _ => None,
            },
        }
    }

    fn exit(
        &mut self,
        exp: &'a Experiment,
        feature_id: Option<&'a str>,
        why: &'static str,
    ) -> ExperimentResult<'a> {
        self.obs.on_trace(Trace::Experiment {
            key: &exp.key,
            outcome: why,
            bucket: None,
        });
        self.exp_result(exp, -1, false, feature_id, None, false)
    }

    pub(crate) fn run(
        &mut self,
        exp: &'a Experiment,
        feature_id: Option<&'a str>,
        stack: Option<&Stack<'_>>,
    ) -> ExperimentResult<'a> {
        let n_var = exp.variations.len();
        if n_var < 2 || exp.invalid.is_some() {
            return self.exit(exp, feature_id, "invalid experiment");
        }
        if !self.user.enabled {
            return self.exit(exp, feature_id, "context disabled");
        }
        if let Some(targets) = &exp.url_patterns
            && !is_url_targeted(self.user.url, targets)
        {
            return self.exit(exp, feature_id, "url not targeted");
        }
        if let Some(v) = query_string_override(&exp.key, self.user.url, n_var) {
            self.obs.on_trace(Trace::Experiment {
                key: &exp.key,
                outcome: "forced by query string",
                bucket: None,
            });
            return self.exp_result(exp, v as i64, false, feature_id, None, false);
        }
        if let Some(v) = self.user.forced_variations.and_then(|f| f.get(&exp.key)) {
            self.obs.on_trace(Trace::Experiment {
                key: &exp.key,
                outcome: "forced variation",
                bucket: None,
            });
            let idx = v
                .as_f64()
                .and_then(crate::experiment::as_index)
                .unwrap_or(-1);
            return self.exp_result(exp, idx, false, feature_id, None, false);
        }
        if exp.draft || !exp.active {
            return self.exit(exp, feature_id, "inactive");
        }
        let (hash_attribute, hv) = self.exp_hash_attribute(exp);
        let Some(hash_value) = hv else {
            return self.exit(exp, feature_id, "missing hash attribute");
        };
        let mut assigned: i64 = -1;
        let mut found_sticky = false;
        let mut blocked = false;
        if self.sticky_enabled(exp) {
            let (v, b) = self.sticky_variation(exp);
            self.obs.on_trace(Trace::StickyBucket {
                experiment: &exp.key,
                variation: usize::try_from(v).ok(),
                blocked: b,
            });
            found_sticky = v >= 0;
            assigned = v;
            blocked = b;
        }
        if !found_sticky {
            let excluded = match (&exp.filters, &exp.namespace) {
                (Some(filters), _) => self.filtered_out(filters),
                (None, Some((ns, start, end))) => {
                    let passed = crate::hash::in_namespace_value(hash_value, ns, *start, *end);
                    self.obs.on_trace(Trace::Hash {
                        step: "namespace",
                        attribute: hash_attribute,
                        value: Some(hash_value),
                        hash: None,
                        ranges: &[(*start, *end)],
                        coverage: None,
                        passed,
                    });
                    !passed
                }
                (None, None) => false,
            };
            if excluded {
                return self.exit(exp, feature_id, "filtered out or not in namespace");
            }
            if exp.condition.is_some() {
                let passed = exp.condition_passes(self.attrs(), &self.fs.saved_groups);
                self.obs.on_trace(Trace::Condition { passed });
                if !passed {
                    return self.exit(exp, feature_id, "condition failed");
                }
            }
            if let Some(parents) = &exp.parent_conditions {
                for pc in parents {
                    let (value, source) = self.prerequisite(&pc.id, stack);
                    let passed = source != FeatureSource::CyclicPrerequisite
                        && pc
                            .condition
                            .matches_root(Root::Single("value", value), &self.fs.saved_groups);
                    self.trace_prerequisite(pc, value, passed);
                    if !passed {
                        return self.exit(exp, feature_id, "prerequisite not met");
                    }
                }
            }
            if exp.groups.is_some() {
                // Deprecated `groups`: this SDK has no context groups, so no overlap.
                return self.exit(exp, feature_id, "not in groups");
            }
        }
        if let Some(url_regex) = &exp.url_regex {
            let ok = match url_regex {
                Some(c) => url_matches(c, self.user.url),
                None => false,
            };
            if !ok {
                return self.exit(exp, feature_id, "url does not match");
            }
        }
        let Some(n) = exp.hash_seed.hash(hash_value, exp.hash_version) else {
            return self.exit(exp, feature_id, "unknown hash version");
        };
        if !found_sticky {
            assigned = choose_variation(n, &exp.ranges).map_or(-1, |i| i as i64);
            self.obs.on_trace(Trace::Hash {
                step: "experiment",
                attribute: hash_attribute,
                value: Some(hash_value),
                hash: Some(n),
                ranges: &exp.ranges,
                coverage: None,
                passed: assigned >= 0,
            });
        }
        if blocked {
            self.obs.on_trace(Trace::Experiment {
                key: &exp.key,
                outcome: "sticky bucket version blocked",
                bucket: Some(n),
            });
            return self.exp_result(exp, -1, false, feature_id, None, true);
        }
        if assigned < 0 {
            return self.exit(exp, feature_id, "not in coverage");
        }
        if let Some(f) = exp.force {
            self.obs.on_trace(Trace::Experiment {
                key: &exp.key,
                outcome: "forced by experiment",
                bucket: Some(n),
            });
            return self.exp_result(exp, f, false, feature_id, None, false);
        }
        if self.user.qa_mode {
            return self.exit(exp, feature_id, "qa mode");
        }
        if exp.stopped {
            return self.exit(exp, feature_id, "stopped");
        }
        let result = self.exp_result(exp, assigned, true, feature_id, Some(n), found_sticky);
        self.obs.on_trace(Trace::Experiment {
            key: &exp.key,
            outcome: if found_sticky {
                "assigned from sticky bucket"
            } else {
                "assigned by hash"
            },
            bucket: Some(n),
        });
        if self.sticky_enabled(exp) {
            self.save_sticky(exp, hash_attribute, hash_value, result.key);
        }
        self.obs.on_experiment_viewed(exp, &result);
        result
    }

    /// The reference `getStickyBucketVariation`: (variation or -1, version blocked).
    fn sticky_variation(&self, exp: &'a Experiment) -> (i64, bool) {
        let Some(docs) = self.sticky.as_deref() else {
            return (-1, false);
        };
        let (ha, hv) = self.hash_attribute(exp.hash_attribute.as_deref(), None);
        let hash_doc = docs.get(&attribute_key(ha, &sticky_value(hv.unwrap_or(&EMPTY_STR))));
        let (fa, fv) = self.hash_attribute(exp.fallback_attribute.as_deref(), None);
        let fb_doc = fv.and_then(|fv| docs.get(&attribute_key(fa, &sticky_value(fv))));
        let docs_iter = || hash_doc.into_iter().chain(fb_doc);
        if exp.min_bucket_version > 0.0 {
            let prefix_len = exp.key.len() + 2;
            let blocked = docs_iter().any(|d| {
                d.assignments.keys().any(|k| {
                    k.len() > prefix_len
                        && k.starts_with(exp.key.as_str())
                        && &k[exp.key.len()..prefix_len] == "__"
                        && is_version_below(&k[prefix_len..], exp.min_bucket_version)
                })
            });
            if blocked {
                return (-1, true);
            }
        }
        let want = &exp.sticky_key;
        let stored = hash_doc
            .and_then(|d| d.assignments.get(want))
            .or_else(|| fb_doc.and_then(|d| d.assignments.get(want)));
        let Some(stored) = stored else {
            return (-1, false);
        };
        match exp
            .meta
            .iter()
            .position(|m| m.key.as_deref() == Some(stored.as_str()))
        {
            Some(i) => (i as i64, false),
            None => (-1, false),
        }
    }

    fn save_sticky(&mut self, exp: &Experiment, attr: &str, value: &Value, variation_key: &str) {
        let Some(docs) = self.sticky.as_deref_mut() else {
            return;
        };
        let attr_value = sticky_value(value);
        let key = attribute_key(attr, &attr_value);
        let exp_key = &exp.sticky_key;
        let existing = docs.get(&key);
        if existing
            .and_then(|d| d.assignments.get(exp_key))
            .map(String::as_str)
            == Some(variation_key)
        {
            return;
        }
        let mut doc = existing
            .cloned()
            .unwrap_or_else(|| StickyAssignmentsDocument {
                attribute_name: attr.into(),
                attribute_value: attr_value.clone(),
                assignments: Default::default(),
            });
        doc.attribute_name = attr.into();
        doc.attribute_value = attr_value;
        doc.assignments
            .insert(exp_key.clone(), variation_key.into());
        docs.put_changed(doc);
    }
}

enum ParentOutcome {
    Pass,
    Cyclic,
    Fail { gate: bool },
}

/// Whether `suffix` is the text of an integer `i` with `0 <= i < min` (JavaScript `String(i)`).
fn is_version_below(suffix: &str, min: f64) -> bool {
    let canonical = !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
        && (suffix == "0" || !suffix.starts_with('0'));
    canonical && suffix.len() <= 15 && suffix.parse::<f64>().is_ok_and(|i| i < min)
}

/// The reference `toString(hashValue)` for sticky-bucket documents: strings as they are,
/// anything else as JS `JSON.stringify` writes it (`[-0]` is `[0]`, `1.0` is `1`).
pub(crate) fn sticky_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // Attributes built in code may nest arbitrarily: serializing recurses, so a value too
        // deep to be a sensible id gets no sticky-bucket key text.
        other if gb_condition::nests_deeper_than(other, crate::MAX_JSON_DEPTH) => String::new(),
        other => {
            let mut s = String::new();
            let _ = gb_condition::write_js_json(&mut s, other);
            s
        }
    }
}

fn url_matches(c: &gb_condition::Condition, url: &str) -> bool {
    if url.is_empty() {
        return false;
    }
    let no_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let path_only: String = match no_scheme.find('/') {
        Some(i) => no_scheme[i..].into(),
        None => no_scheme.into(),
    };
    let groups = gb_condition::SavedGroups::new();
    [String::from(url), path_only]
        .into_iter()
        .any(|u| c.matches_root(Root::Single("u", &Value::String(u)), &groups))
}

impl FeatureSet {
    /// Evaluates a feature for a user.
    pub fn eval_feature<'a>(&'a self, key: &str, user: &User<'a>) -> FeatureResult<'a> {
        self.eval_feature_with(key, user, None, &mut ())
    }

    /// Evaluates a feature with sticky bucketing (when `sticky` is given: the user's documents,
    /// updated in place) and an observer for tracking, usage and tracing.
    pub fn eval_feature_with<'a, O: Observer<'a>>(
        &'a self,
        key: &str,
        user: &User<'a>,
        sticky: Option<&mut StickyBucketDocs>,
        observer: &mut O,
    ) -> FeatureResult<'a> {
        Ev::new(self, user, sticky, observer).eval_feature(key)
    }

    /// Runs an inline experiment for a user (saved groups come from this payload).
    pub fn run<'a>(&'a self, experiment: &'a Experiment, user: &User<'a>) -> ExperimentResult<'a> {
        self.run_with(experiment, user, None, &mut ())
    }

    /// Runs an inline experiment with sticky bucketing and an observer.
    pub fn run_with<'a, O: Observer<'a>>(
        &'a self,
        experiment: &'a Experiment,
        user: &User<'a>,
        sticky: Option<&mut StickyBucketDocs>,
        observer: &mut O,
    ) -> ExperimentResult<'a> {
        Ev::new(self, user, sticky, observer).run(experiment, None, None)
    }

    /// The `(attribute, value)` pairs to look sticky-bucket documents up by for this user
    /// (attributes with no value are left out).
    pub fn sticky_bucket_attributes(&self, user: &User<'_>) -> Vec<(String, String)> {
        self.sticky_attributes
            .iter()
            .filter_map(|a| {
                let v = user.attributes.get(a).filter(|v| is_truthy(v))?;
                Some((a.clone(), sticky_value(v)))
            })
            .collect()
    }

    /// The URL redirect of the first payload experiment (visual-editor redirect test) that
    /// targets the user's URL and puts the user in a redirecting variation.
    pub fn url_redirect<'a>(&'a self, user: &User<'a>) -> Option<UrlRedirect<'a>> {
        let mut obs = ();
        for exp in &self.experiments {
            if exp.url_patterns.is_none() {
                continue;
            }
            let redirects = exp
                .variations
                .iter()
                .any(|v| v.get("urlRedirect").is_some());
            if !redirects {
                continue;
            }
            let r = Ev::new(self, user, None, &mut obs).run(exp, None, None);
            if !r.in_experiment {
                continue;
            }
            let Some(target) = r.value.get("urlRedirect").and_then(Value::as_str) else {
                continue;
            };
            let persist = exp.persist_query_string;
            let with_params = if persist {
                crate::url::merge_query_strings(user.url, target)
            } else {
                target.into()
            };
            return Some(UrlRedirect {
                result: r,
                url_redirect: target,
                url_with_params: with_params,
            });
        }
        None
    }
}

/// A redirect chosen by [`FeatureSet::url_redirect`].
#[derive(Debug, Clone)]
pub struct UrlRedirect<'a> {
    /// The experiment result that chose the redirect.
    pub result: ExperimentResult<'a>,
    /// The variation's `urlRedirect`.
    pub url_redirect: &'a str,
    /// The redirect with the current URL's query string merged in when the experiment has
    /// `persistQueryString`.
    pub url_with_params: String,
}

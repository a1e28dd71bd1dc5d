//! Feature evaluation: the reference `evalFeature` (the rule walk, prerequisites, filters and
//! rollouts). `runExperiment` is in [`run`].

mod run;

use run::UrlSteps;

use alloc::string::String;

use gb_condition::{Root, attr_get};
use serde_json::{Map, Value};

use crate::bucket::in_range;
use crate::context::User;
use crate::experiment::{Experiment, Filter, ParentCondition};
use crate::feature::{Feature, FeatureSet, ForceRule, RuleKind};
use crate::memo::{Budget, Memo};
use gb_condition::is_truthy;

use crate::result::{FeatureResult, FeatureSource};
use crate::sticky::{StickyAccess, StickyBucketDocs};
use crate::trace::{HashStep, Observer, RuleKind as TraceRuleKind, RuleOutcome, Trace};

use crate::prereq_graph::MAX_PREREQUISITE_DEPTH;

static NULL: Value = Value::Null;
static EMPTY_STR: Value = Value::String(String::new());

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

pub(crate) struct Ev<'a, 'u, O, S> {
    fs: &'a FeatureSet,
    user: &'u User<'a>,
    sticky: S,
    obs: &'u mut O,
    /// Prerequisite results already computed in this evaluation (set up at the first
    /// prerequisite: most evaluations have none).
    memo: Option<Memo<'a>>,
    /// Sticky buckets saved so far that changed the user's documents: JS evaluates a
    /// prerequisite again each time it is reached, and a saved bucket can change what the
    /// next evaluation of it gives, so a change forgets the remembered results.
    sticky_changes: u32,
    budget: Budget,
    /// The URL-targeting steps, set by the entry points that run payload or inline experiments
    /// ([`Ev::with_url_steps`]); `None` when evaluating features.
    url_steps: Option<UrlSteps>,
}

impl<'a, 'u, O: Observer<'a>, S: StickyAccess> Ev<'a, 'u, O, S> {
    pub(crate) fn new(fs: &'a FeatureSet, user: &'u User<'a>, sticky: S, obs: &'u mut O) -> Self {
        Ev {
            fs,
            user,
            sticky,
            obs,
            memo: None,
            sticky_changes: 0,
            budget: Budget::default(),
            url_steps: None,
        }
    }

    /// This evaluation runs experiments that may target URLs (`urlPatterns`, `url`).
    pub(crate) fn with_url_steps(mut self) -> Self {
        self.url_steps = Some(UrlSteps::URL);
        self
    }

    pub(crate) fn attrs(&self) -> &'a Map<String, Value> {
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
        'rules: for rule in &*feature.rules {
            let index = rule.index as usize;
            if !self.budget.spend() {
                return self.result(fkey, &NULL, FeatureSource::EvaluationLimit, "");
            }
            self.obs.on_trace(Trace::RuleStart {
                feature: fkey,
                index,
                id: &rule.id,
                kind: match rule.kind {
                    RuleKind::Force(_) => TraceRuleKind::Force,
                    RuleKind::Experiment(_) => TraceRuleKind::Experiment,
                    RuleKind::Bandit(_) => TraceRuleKind::Bandit,
                    RuleKind::Skip => TraceRuleKind::Skip,
                },
            });
            if let Some(parents) = &rule.parents {
                match self.parents_pass(parents, &here) {
                    ParentOutcome::Pass => {}
                    ParentOutcome::Cyclic => {
                        return self.result(fkey, &NULL, FeatureSource::CyclicPrerequisite, "");
                    }
                    ParentOutcome::Fail { gate: true } => {
                        self.trace_rule(fkey, index, RuleOutcome::BlockedByGate);
                        return self.result(fkey, &NULL, FeatureSource::Prerequisite, "");
                    }
                    ParentOutcome::Fail { gate: false } => {
                        self.trace_rule(fkey, index, RuleOutcome::PrerequisiteNotMet);
                        continue 'rules;
                    }
                }
            }
            if let Some(filters) = &rule.filters
                && self.filtered_out(filters)
            {
                self.trace_rule(fkey, index, RuleOutcome::FilteredOut);
                continue;
            }
            match &rule.kind {
                RuleKind::Skip => {
                    self.trace_rule(fkey, index, RuleOutcome::NoVariations);
                    continue;
                }
                RuleKind::Force(f) => {
                    if let Some(c) = &f.condition {
                        let passed = c.matches_map(self.attrs(), &fs.saved_groups);
                        self.obs.on_trace(Trace::Condition { passed });
                        if !passed {
                            self.trace_rule(fkey, index, RuleOutcome::ConditionFailed);
                            continue;
                        }
                    }
                    if !self.in_rollout(f) {
                        self.trace_rule(fkey, index, RuleOutcome::NotInRollout);
                        continue;
                    }
                    self.trace_rule(fkey, index, RuleOutcome::Forced);
                    return self.result(
                        fkey,
                        fs.features.value(f.value),
                        FeatureSource::Force,
                        &rule.id,
                    );
                }
                RuleKind::Experiment(exp) => {
                    if let Some(r) = self.rule_experiment(fkey, index, exp, &rule.id, &here) {
                        return r;
                    }
                }
                RuleKind::Bandit(b) => {
                    // JS catches a throw in leaf selection and uses the fallback weights.
                    let mut exp = &b.fallback;
                    for (c, e) in &b.leaves {
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
            fs.features.value(feature.default),
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
            self.trace_rule(fkey, index, RuleOutcome::Experiment);
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
        self.trace_rule(fkey, index, RuleOutcome::NotInExperiment);
        None
    }

    fn trace_rule(&mut self, feature: &str, index: usize, outcome: RuleOutcome) {
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
    pub(crate) fn prerequisite(
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
        let changes = self.sticky_changes;
        let r = self.feature(id, stack);
        if reusable && !self.budget.exhausted() && changes == self.sticky_changes {
            self.memo
                .get_or_insert_with(Memo::new)
                .insert(id, r.value, r.source);
        }
        (r.value, r.source)
    }

    /// A saved sticky bucket changed the user's documents: results remembered so far may
    /// differ from what evaluating again gives.
    pub(crate) fn sticky_changed(&mut self) {
        self.sticky_changes = self.sticky_changes.wrapping_add(1);
        self.memo = None;
    }

    /// The reference `getHashAttribute`: the attribute's value if truthy, else the fallback's.
    pub(crate) fn hash_attribute(
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

    pub(crate) fn trace_prerequisite(
        &mut self,
        pc: &'a ParentCondition,
        value: &'a Value,
        passed: bool,
    ) {
        self.obs.on_trace(Trace::Prerequisite {
            id: &pc.id,
            value,
            gate: pc.gate,
            passed,
        });
    }

    pub(crate) fn filtered_out(&mut self, filters: &'a [Filter]) -> bool {
        filters.iter().any(|f| {
            let (attribute, hv) = self.hash_attribute(f.attribute.as_deref(), None);
            let hash = hv.and_then(|hv| f.seed.hash(hv, f.hash_version));
            let passed = hash.is_some_and(|n| f.ranges.iter().any(|r| in_range(n, *r)));
            self.obs.on_trace(Trace::Hash {
                step: HashStep::Filter,
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
        let fallback = if self.sticky.docs().is_some() && !f.disable_sticky_bucketing {
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
            step: HashStep::Rollout,
            attribute,
            value: hv,
            hash,
            ranges: f.range.as_slice(),
            coverage: f.coverage.filter(|_| f.range.is_none()),
            passed,
        });
        passed
    }
}

enum ParentOutcome {
    Pass,
    Cyclic,
    Fail { gate: bool },
}

impl FeatureSet {
    /// Evaluates a feature for a user.
    pub fn eval_feature<'a>(&'a self, key: &str, user: &User<'a>) -> FeatureResult<'a> {
        Ev::new(self, user, (), &mut ()).eval_feature(key)
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
}

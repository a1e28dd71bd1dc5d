//! The reference `runExperiment`, in three stages: [`Ev::eligibility`] (may the user enter at
//! all: context, URL, forced variations, hash attribute, stored sticky bucket, filters,
//! namespace, condition, prerequisites), [`Ev::assignment`] (the hash and the variation it, or
//! the sticky bucket, chooses) and [`Ev::assigned_result`] (the overrides that still keep the
//! user out, the result, the sticky bucket to save, the tracking callback).

use alloc::string::String;

use gb_condition::{Condition, Root};
use serde_json::Value;

use super::{EMPTY_STR, Ev, NULL, Stack};
use crate::bucket::{choose_variation, query_string_override};
use crate::context::User;
use crate::experiment::{Experiment, as_index};
use crate::feature::FeatureSet;
use crate::result::{BanditInfo, ExperimentResult, FeatureSource, UrlRedirect};
use crate::sticky::{StickyAccess, StickyBucketDocs, save_assignment, stored_variation};
use crate::trace::{ExperimentOutcome as Outcome, HashStep, Observer, Trace};
use crate::url::{UrlTarget, is_url_targeted, url_matches};

/// The URL-targeting steps of a run, reached through function pointers that only the entry
/// points running payload or inline experiments set ([`Ev::with_url_steps`]): a feature
/// rule's experiment never targets URLs (the reference copies no `urlPatterns` or `url` into
/// it), so a build that only evaluates features links none of the URL matching.
#[derive(Clone, Copy)]
pub(crate) struct UrlSteps {
    targeted: fn(&str, &[UrlTarget]) -> bool,
    matches: fn(&Condition, &str) -> bool,
}

impl UrlSteps {
    pub(crate) const URL: UrlSteps = UrlSteps {
        targeted: is_url_targeted,
        matches: url_matches,
    };
}

/// A user the experiment may include: what assignment needs.
struct Eligible<'a> {
    hash_attribute: &'a str,
    hash_value: &'a Value,
    /// The variation a stored sticky bucket assigns.
    sticky: Option<usize>,
    /// A stored sticky bucket below `minBucketVersion` keeps the user out.
    blocked: bool,
}

/// Why a run ends before a hashed assignment (what the result says is decided in `run`).
enum Stop {
    /// The experiment leaves the user out, for this reason (traced when the result is built).
    Out(Outcome),
    /// A query string or the context forced this variation (`None`: not a valid index).
    Forced(Option<usize>),
    /// A stored sticky bucket below `minBucketVersion` keeps the user out.
    Blocked,
}

/// A variation chosen for the user.
struct Assigned {
    variation: usize,
    /// The user's hash.
    bucket: f64,
    /// Whether the variation came from a stored sticky bucket.
    from_sticky: bool,
}

impl<'a, O: Observer<'a>, S: StickyAccess> Ev<'a, '_, O, S> {
    pub(crate) fn run(
        &mut self,
        exp: &'a Experiment,
        feature_id: Option<&'a str>,
        stack: Option<&Stack<'_>>,
    ) -> ExperimentResult<'a> {
        let stop = match self.eligibility(exp, stack) {
            Ok(e) => match self.assignment(exp, &e) {
                Ok(a) => return self.assigned_result(exp, feature_id, &e, &a),
                Err(stop) => stop,
            },
            Err(stop) => stop,
        };
        match stop {
            Stop::Out(why) => self.exit(exp, feature_id, why),
            Stop::Forced(v) => self.exp_result(exp, v, false, feature_id, None, false),
            Stop::Blocked => self.exp_result(exp, None, false, feature_id, None, true),
        }
    }

    /// The steps before hashing; `Err` says why the run stops (left out, or forced).
    #[inline]
    fn eligibility(
        &mut self,
        exp: &'a Experiment,
        stack: Option<&Stack<'_>>,
    ) -> Result<Eligible<'a>, Stop> {
        let n_var = exp.variations.len();
        if n_var < 2 || exp.rare().invalid.is_some() {
            return Err(Stop::Out(Outcome::Invalid));
        }
        if !self.user.enabled {
            return Err(Stop::Out(Outcome::ContextDisabled));
        }
        // Without the URL steps (evaluating features), an experiment that targets URLs
        // targets nobody; none does, as feature rules carry no URL targeting.
        if let Some(targets) = &exp.rare().url_patterns
            && !self
                .url_steps
                .is_some_and(|u| (u.targeted)(self.user.url, targets))
        {
            return Err(Stop::Out(Outcome::UrlNotTargeted));
        }
        if let Some(v) = query_string_override(&exp.key, self.user.url, n_var) {
            self.trace(exp, Outcome::ForcedByQueryString, None);
            return Err(Stop::Forced(Some(v)));
        }
        if let Some(v) = self.user.forced_variations.and_then(|f| f.get(&exp.key)) {
            self.trace(exp, Outcome::ForcedVariation, None);
            return Err(Stop::Forced(v.as_f64().and_then(as_index)));
        }
        if exp.draft || !exp.active {
            return Err(Stop::Out(Outcome::Inactive));
        }
        let (hash_attribute, hv) = self.exp_hash_attribute(exp);
        let Some(hash_value) = hv else {
            return Err(Stop::Out(Outcome::MissingHashAttribute));
        };
        let mut eligible = Eligible {
            hash_attribute,
            hash_value,
            sticky: None,
            blocked: false,
        };
        if self.sticky_enabled(exp)
            && let Some(docs) = self.sticky.docs()
        {
            let hash = self.hash_attribute(exp.hash_attribute.as_deref(), None);
            let fallback = self.hash_attribute(exp.fallback_attribute.as_deref(), None);
            let found = stored_variation(docs, exp, hash, fallback);
            self.obs.on_trace(Trace::StickyBucket {
                experiment: &exp.key,
                variation: found.variation,
                blocked: found.blocked,
            });
            eligible.sticky = found.variation;
            eligible.blocked = found.blocked;
        }
        if eligible.sticky.is_none() {
            self.targeting(exp, stack, &eligible)?;
        }
        if let Some(url_regex) = &exp.rare().url_regex {
            let ok = match (url_regex, self.url_steps) {
                (Some(c), Some(u)) => (u.matches)(c, self.user.url),
                _ => false,
            };
            if !ok {
                return Err(Stop::Out(Outcome::UrlDoesNotMatch));
            }
        }
        Ok(eligible)
    }

    /// Filters or namespace, condition, prerequisites and groups (skipped for a user a sticky
    /// bucket already assigns).
    fn targeting(
        &mut self,
        exp: &'a Experiment,
        stack: Option<&Stack<'_>>,
        e: &Eligible<'a>,
    ) -> Result<(), Stop> {
        let excluded = match (&exp.rare().filters, &exp.namespace) {
            (Some(filters), _) => self.filtered_out(filters),
            (None, Some((ns, start, end))) => {
                let passed = crate::hash::in_namespace_value(e.hash_value, ns, *start, *end);
                self.obs.on_trace(Trace::Hash {
                    step: HashStep::Namespace,
                    attribute: e.hash_attribute,
                    value: Some(e.hash_value),
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
            return Err(Stop::Out(Outcome::FilteredOut));
        }
        if exp.condition.is_some() {
            let passed = exp.condition_passes(self.attrs(), &self.fs.saved_groups);
            self.obs.on_trace(Trace::Condition { passed });
            if !passed {
                return Err(Stop::Out(Outcome::ConditionFailed));
            }
        }
        if let Some(parents) = &exp.rare().parent_conditions {
            for pc in parents {
                let (value, source) = self.prerequisite(&pc.id, stack);
                let passed = source != FeatureSource::CyclicPrerequisite
                    && pc
                        .condition
                        .matches_root(Root::Single("value", value), &self.fs.saved_groups);
                self.trace_prerequisite(pc, value, passed);
                if !passed {
                    return Err(Stop::Out(Outcome::PrerequisiteNotMet));
                }
            }
        }
        if exp.rare().groups.is_some() {
            // Deprecated `groups`: this SDK has no context groups, so no overlap.
            return Err(Stop::Out(Outcome::NotInGroups));
        }
        Ok(())
    }

    /// The hash and the variation: the stored sticky bucket's, or the one the hash falls in.
    #[inline]
    fn assignment(&mut self, exp: &'a Experiment, e: &Eligible<'a>) -> Result<Assigned, Stop> {
        let Some(n) = exp.hash_seed.hash(e.hash_value, exp.hash_version) else {
            return Err(Stop::Out(Outcome::UnknownHashVersion));
        };
        let variation = match e.sticky {
            Some(v) => Some(v),
            None => {
                let v = choose_variation(n, &exp.ranges);
                self.obs.on_trace(Trace::Hash {
                    step: HashStep::Experiment,
                    attribute: e.hash_attribute,
                    value: Some(e.hash_value),
                    hash: Some(n),
                    ranges: &exp.ranges,
                    coverage: None,
                    passed: v.is_some(),
                });
                v
            }
        };
        if e.blocked {
            self.trace(exp, Outcome::StickyVersionBlocked, Some(n));
            return Err(Stop::Blocked);
        }
        let Some(variation) = variation else {
            return Err(Stop::Out(Outcome::NotInCoverage));
        };
        Ok(Assigned {
            variation,
            bucket: n,
            from_sticky: e.sticky.is_some(),
        })
    }

    /// The last overrides (the experiment's `force`, QA mode, a stopped experiment), then the
    /// user's result: the sticky bucket to save and the tracking callback.
    #[inline]
    fn assigned_result(
        &mut self,
        exp: &'a Experiment,
        feature_id: Option<&'a str>,
        e: &Eligible<'a>,
        a: &Assigned,
    ) -> ExperimentResult<'a> {
        if let Some(f) = exp.rare().force {
            self.trace(exp, Outcome::ForcedByExperiment, Some(a.bucket));
            return self.exp_result(exp, f, false, feature_id, None, false);
        }
        if self.user.qa_mode {
            return self.exit(exp, feature_id, Outcome::QaMode);
        }
        if exp.stopped {
            return self.exit(exp, feature_id, Outcome::Stopped);
        }
        let result = self.exp_result(
            exp,
            Some(a.variation),
            true,
            feature_id,
            Some(a.bucket),
            a.from_sticky,
        );
        let outcome = if a.from_sticky {
            Outcome::AssignedFromSticky
        } else {
            Outcome::AssignedByHash
        };
        self.trace(exp, outcome, Some(a.bucket));
        if self.sticky_enabled(exp)
            && let Some(docs) = self.sticky.docs_mut()
            && save_assignment(docs, exp, e.hash_attribute, e.hash_value, result.key)
        {
            self.sticky_changed();
        }
        self.obs.on_experiment_viewed(exp, &result);
        result
    }

    fn trace(&mut self, exp: &'a Experiment, outcome: Outcome, bucket: Option<f64>) {
        self.obs.on_trace(Trace::Experiment {
            key: &exp.key,
            outcome,
            bucket,
        });
    }

    fn sticky_enabled(&self, exp: &Experiment) -> bool {
        self.sticky.docs().is_some() && !exp.disable_sticky_bucketing
    }

    fn exp_hash_attribute(&self, exp: &'a Experiment) -> (&'a str, Option<&'a Value>) {
        let fb = if self.sticky_enabled(exp) {
            exp.fallback_attribute.as_deref()
        } else {
            None
        };
        self.hash_attribute(exp.hash_attribute.as_deref(), fb)
    }

    /// The result for `variation` (`None`, or an index past the variations: not in the
    /// experiment, variation 0's value).
    fn exp_result(
        &self,
        exp: &'a Experiment,
        variation: Option<usize>,
        hash_used: bool,
        feature_id: Option<&'a str>,
        bucket: Option<f64>,
        sticky_used: bool,
    ) -> ExperimentResult<'a> {
        let variation = variation.filter(|&v| v < exp.variations.len());
        let in_experiment = variation.is_some();
        let i = variation.unwrap_or(0);
        let (hash_attribute, hv) = self.exp_hash_attribute(exp);
        let meta = exp.meta.get(i);
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

    /// The result of a user the experiment leaves out, after tracing why.
    fn exit(
        &mut self,
        exp: &'a Experiment,
        feature_id: Option<&'a str>,
        why: Outcome,
    ) -> ExperimentResult<'a> {
        self.trace(exp, why, None);
        self.exp_result(exp, None, false, feature_id, None, false)
    }
}

impl FeatureSet {
    /// Runs an inline experiment for a user (saved groups come from this payload).
    pub fn run<'a>(&'a self, experiment: &'a Experiment, user: &User<'a>) -> ExperimentResult<'a> {
        Ev::new(self, user, (), &mut ())
            .with_url_steps()
            .run(experiment, None, None)
    }

    /// Runs an inline experiment with sticky bucketing and an observer.
    pub fn run_with<'a, O: Observer<'a>>(
        &'a self,
        experiment: &'a Experiment,
        user: &User<'a>,
        sticky: Option<&mut StickyBucketDocs>,
        observer: &mut O,
    ) -> ExperimentResult<'a> {
        Ev::new(self, user, sticky, observer)
            .with_url_steps()
            .run(experiment, None, None)
    }

    /// The URL redirect of the first payload experiment (visual-editor redirect test) that
    /// targets the user's URL and puts the user in a redirecting variation.
    pub fn url_redirect<'a>(&'a self, user: &User<'a>) -> Option<UrlRedirect<'a>> {
        let mut obs = ();
        for exp in &self.experiments {
            if exp.rare().url_patterns.is_none() {
                continue;
            }
            let redirects = exp
                .variations
                .iter()
                .any(|v| v.get("urlRedirect").is_some());
            if !redirects {
                continue;
            }
            let r = Ev::new(self, user, (), &mut obs)
                .with_url_steps()
                .run(exp, None, None);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::feature::RuleKind;
    use crate::{Experiment, FeatureSet, User};

    /// Feature evaluation runs without the URL steps, which is only right because a feature
    /// rule's experiment never targets URLs: the reference copies no `urlPatterns` or `url`
    /// from a rule, so the rule below includes a user on any URL.
    #[test]
    fn feature_rules_never_target_urls() {
        let fs = FeatureSet::from_value(&json!({"features": {"f": {"defaultValue": 0, "rules": [{
            "key": "e", "variations": [1, 2], "weights": [0, 1],
            "urlPatterns": [{"type": "simple", "pattern": "https://nowhere.test/", "include": true}],
            "url": "^nowhere$",
        }]}}}));
        let rule = &fs.features.get("f").expect("feature f").rules[0];
        let RuleKind::Experiment(exp) = &rule.kind else {
            panic!("an experiment rule");
        };
        assert!(exp.rare().url_patterns.is_none() && exp.rare().url_regex.is_none());
        let attrs = json!({"id": "1"});
        let user =
            User::new(attrs.as_object().expect("an object")).with_url("https://example.test/");
        assert_eq!(fs.eval_feature("f", &user).value, &json!(2));
    }

    /// The entry points that run experiments keep the URL steps: an inline experiment that
    /// targets another URL leaves the user out.
    #[test]
    fn inline_experiments_target_urls() {
        let fs = FeatureSet::new();
        let exp = Experiment::from_json(&json!({
            "key": "e", "variations": [1, 2], "weights": [0, 1],
            "urlPatterns": [{"type": "simple", "pattern": "https://nowhere.test/", "include": true}],
        }));
        let attrs = json!({"id": "1"});
        let elsewhere =
            User::new(attrs.as_object().expect("an object")).with_url("https://example.test/");
        assert!(!fs.run(&exp, &elsewhere).in_experiment);
        let there =
            User::new(attrs.as_object().expect("an object")).with_url("https://nowhere.test/");
        assert!(fs.run(&exp, &there).in_experiment);
        let mut docs = crate::StickyBucketDocs::new();
        assert!(
            !fs.run_with(&exp, &elsewhere, Some(&mut docs), &mut ())
                .in_experiment
        );
    }
}

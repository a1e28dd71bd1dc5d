//! What an evaluation reports as it happens: the [`Observer`] hook and the [`Trace`] events,
//! with a typed kind, step or outcome for every event (no strings to parse).

use core::fmt;

use serde_json::Value;

use crate::bucket::Range;
use crate::experiment::Experiment;
use crate::result::{ExperimentResult, FeatureResult, FeatureSource};

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

/// Implements `as_str` and `Display` for a trace enum from one table of texts.
macro_rules! texts {
    ($ty:ident { $($variant:ident => $text:literal,)* }) => {
        impl $ty {
            /// A short human-readable text (what `gb explain` prints).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What a feature rule does when it applies ([`Trace::RuleStart`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleKind {
    /// A force rule (a value, maybe with a rollout).
    Force,
    /// An experiment rule.
    Experiment,
    /// A contextual-bandit rule.
    Bandit,
    /// Neither a force value nor variations: the rule only gates on its prerequisites.
    Skip,
}

texts!(RuleKind {
    Force => "force",
    Experiment => "experiment",
    Bandit => "bandit",
    Skip => "skip",
});

/// How a feature rule ended ([`Trace::Rule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleOutcome {
    /// A gating prerequisite failed: the whole feature is blocked.
    BlockedByGate,
    /// A prerequisite was not met: the rule is skipped.
    PrerequisiteNotMet,
    /// A filter excluded the user.
    FilteredOut,
    /// The rule has no force value or variations.
    NoVariations,
    /// The rule's condition failed.
    ConditionFailed,
    /// The user's hash fell outside the rollout.
    NotInRollout,
    /// The rule's forced value applies.
    Forced,
    /// The rule's experiment assigned a variation.
    Experiment,
    /// The rule's experiment did not include the user (or the variation passes through).
    NotInExperiment,
}

texts!(RuleOutcome {
    BlockedByGate => "blocked by a gating prerequisite",
    PrerequisiteNotMet => "skipped: prerequisite not met",
    FilteredOut => "skipped: filtered out",
    NoVariations => "skipped: no variations",
    ConditionFailed => "skipped: condition failed",
    NotInRollout => "skipped: not in rollout",
    Forced => "applied: forced value",
    Experiment => "applied: experiment",
    NotInExperiment => "skipped: not in experiment",
});

/// Where an experiment run stopped, or how it assigned a variation ([`Trace::Experiment`]),
/// in the reference `runExperiment` step order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExperimentOutcome {
    /// Fewer than two variations, or a malformed definition.
    Invalid,
    /// The user's context is disabled.
    ContextDisabled,
    /// `urlPatterns` do not target the user's URL.
    UrlNotTargeted,
    /// A `?key=N` query string forced the variation.
    ForcedByQueryString,
    /// The context's forced variations chose it.
    ForcedVariation,
    /// A draft or inactive experiment.
    Inactive,
    /// The user has no value for the hash attribute.
    MissingHashAttribute,
    /// A filter or the namespace excluded the user.
    FilteredOut,
    /// The experiment's condition failed.
    ConditionFailed,
    /// A prerequisite was not met.
    PrerequisiteNotMet,
    /// Deprecated `groups`: this SDK has no context groups.
    NotInGroups,
    /// The deprecated `url` regex does not match.
    UrlDoesNotMatch,
    /// The hash version is unknown.
    UnknownHashVersion,
    /// A stored sticky bucket is below `minBucketVersion`.
    StickyVersionBlocked,
    /// The hash fell in no variation's range.
    NotInCoverage,
    /// The experiment's `force` chose the variation.
    ForcedByExperiment,
    /// QA mode keeps users out of experiments.
    QaMode,
    /// A stopped experiment.
    Stopped,
    /// Assigned from a stored sticky bucket.
    AssignedFromSticky,
    /// Assigned by hashing.
    AssignedByHash,
}

texts!(ExperimentOutcome {
    Invalid => "invalid experiment",
    ContextDisabled => "context disabled",
    UrlNotTargeted => "url not targeted",
    ForcedByQueryString => "forced by query string",
    ForcedVariation => "forced variation",
    Inactive => "inactive",
    MissingHashAttribute => "missing hash attribute",
    FilteredOut => "filtered out or not in namespace",
    ConditionFailed => "condition failed",
    PrerequisiteNotMet => "prerequisite not met",
    NotInGroups => "not in groups",
    UrlDoesNotMatch => "url does not match",
    UnknownHashVersion => "unknown hash version",
    StickyVersionBlocked => "sticky bucket version blocked",
    NotInCoverage => "not in coverage",
    ForcedByExperiment => "forced by experiment",
    QaMode => "qa mode",
    Stopped => "stopped",
    AssignedFromSticky => "assigned from sticky bucket",
    AssignedByHash => "assigned by hash",
});

/// Which check hashed an attribute ([`Trace::Hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashStep {
    /// A force rule's rollout (range or coverage).
    Rollout,
    /// A rule's or experiment's filter.
    Filter,
    /// An experiment's namespace.
    Namespace,
    /// An experiment's variation ranges.
    Experiment,
}

texts!(HashStep {
    Rollout => "rollout",
    Filter => "filter",
    Namespace => "namespace",
    Experiment => "experiment",
});

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
        /// The rule's index in the payload's `rules` array.
        index: usize,
        /// What happened.
        outcome: RuleOutcome,
    },
    /// An experiment stopped at a step, or assigned a variation.
    Experiment {
        /// The experiment key.
        key: &'t str,
        /// What happened.
        outcome: ExperimentOutcome,
        /// The hash, when one was computed.
        bucket: Option<f64>,
    },
    /// A rule of the feature being evaluated starts.
    RuleStart {
        /// The feature key.
        feature: &'t str,
        /// The rule's index in the payload's `rules` array (rules disabled at load are not
        /// evaluated, so indexes can skip).
        index: usize,
        /// The rule's `id` (`""` if none).
        id: &'t str,
        /// What the rule does.
        kind: RuleKind,
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
        /// Which check.
        step: HashStep,
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

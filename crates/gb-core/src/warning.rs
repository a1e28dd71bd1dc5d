//! Structured load warnings: what compiling a payload disabled or evaluates loosely, where
//! (feature key, payload rule index) and what kind of problem, for tools to read without
//! parsing text.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;

use core::fmt;
use gb_condition::RegexError;

/// What kind of problem a [`Warning`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A problem in a condition or saved group (gb-condition's kind).
    Condition(gb_condition::WarningKind),
    /// `features` is not an object: no feature loaded.
    FeaturesNotObject,
    /// A falsy, non-object feature definition: the feature is unknown.
    FeatureDisabled,
    /// A truthy, non-object feature definition: evaluated to `null`, as the JS SDK does.
    FeatureNotObject,
    /// A feature's `rules` is not an array: the feature has no rules.
    RulesNotArray,
    /// A malformed rule: it is left out of evaluation ([`Warning::rule`] is its index).
    RuleDisabled,
    /// A rule whose condition cannot be compiled: the rule matches nobody.
    ConditionDisabled,
    /// A malformed experiment definition: it includes nobody.
    ExperimentDisabled,
    /// A `urlPatterns` regex this build cannot run: the experiment targets no URL.
    UrlPattern,
    /// Prerequisites form a cycle (those features evaluate to `cyclicPrerequisite`).
    PrerequisiteCycle,
    /// Prerequisites chain deeper than the limit.
    PrerequisitesTooDeep,
}

impl WarningKind {
    /// A short stable name (`"rule-disabled"`, or gb-condition's name for condition kinds).
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Condition(k) => k.as_str(),
            WarningKind::FeaturesNotObject => "features-not-object",
            WarningKind::FeatureDisabled => "feature-disabled",
            WarningKind::FeatureNotObject => "feature-not-object",
            WarningKind::RulesNotArray => "rules-not-array",
            WarningKind::RuleDisabled => "rule-disabled",
            WarningKind::ConditionDisabled => "condition-disabled",
            WarningKind::ExperimentDisabled => "experiment-disabled",
            WarningKind::UrlPattern => "url-pattern",
            WarningKind::PrerequisiteCycle => "prerequisite-cycle",
            WarningKind::PrerequisitesTooDeep => "prerequisites-too-deep",
        }
    }
}

/// One problem found while compiling a payload ([`FeatureSet::warnings`](crate::FeatureSet::warnings)).
///
/// `Display` prints one sentence with its location
/// (`feature "f" rule 0 disabled: range must be [start, end]`). The sentence is written only
/// when asked ([`Warning::message`], `Display`): a build that never prints warnings (a wasm
/// module, a firmware) carries neither the text nor the formatting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The feature it belongs to, if any (saved groups, payload experiments and the payload
    /// shape belong to none).
    pub feature: Option<Box<str>>,
    /// The rule's index in the feature's `rules` array in the payload, if it is about a rule.
    pub rule: Option<usize>,
    /// What kind of problem.
    pub kind: WarningKind,
    pub(crate) detail: Detail,
}

impl Warning {
    /// What is wrong and what evaluation does about it, without the location.
    pub fn message(&self) -> String {
        self.detail.to_string()
    }
}

/// What a [`Warning`] says, with the data its sentence needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    /// A fixed sentence.
    Text(&'static str),
    /// A sentence put together while reading the payload (why a rule is disabled).
    Why(String),
    /// A condition's or saved group's warning.
    Condition(Arc<gb_condition::Warning>),
    /// Experiment `key` is disabled for `why`.
    Experiment(Box<str>, String),
    /// A `urlPatterns` regex this build cannot run.
    UrlPattern(Box<str>, RegexError),
    /// The prerequisites of a feature form a cycle through another.
    Cycle(Box<str>, Box<str>),
    /// The prerequisites of `key` chain `height` deep; `count` features chain deeper than
    /// `limit`.
    TooDeep {
        key: Box<str>,
        height: u32,
        count: usize,
        limit: u32,
    },
}

impl From<&'static str> for Detail {
    fn from(s: &'static str) -> Self {
        Detail::Text(s)
    }
}

impl From<String> for Detail {
    fn from(s: String) -> Self {
        Detail::Why(s)
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Text(s) => f.write_str(s),
            Detail::Why(s) => f.write_str(s),
            Detail::Condition(w) => w.fmt(f),
            Detail::Experiment(key, why) => write!(f, "experiment {key:?} disabled: {why}"),
            Detail::UrlPattern(pattern, e) => write!(
                f,
                "urlPatterns regex {pattern:?} {e}; the experiment targets no URL"
            ),
            Detail::Cycle(from, to) => write!(
                f,
                "the prerequisites of feature {from:?} form a cycle through {to:?}; features \
                 depending on them evaluate to null (cyclicPrerequisite)"
            ),
            Detail::TooDeep {
                key,
                height,
                count,
                limit,
            } => write!(
                f,
                "the prerequisites of feature {key:?} chain {height} deep ({count} features in \
                 all chain deeper than {limit}); evaluation stops at that depth \
                 (cyclicPrerequisite)"
            ),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.detail;
        match (&self.feature, self.rule, self.kind) {
            (Some(k), Some(i), WarningKind::RuleDisabled) => {
                write!(f, "feature {k:?} rule {i} disabled: {m}")
            }
            (Some(k), _, WarningKind::FeatureDisabled) => write!(f, "feature {k:?} disabled: {m}"),
            (
                Some(k),
                _,
                WarningKind::FeatureNotObject
                | WarningKind::RulesNotArray
                | WarningKind::ConditionDisabled,
            ) => write!(f, "feature {k:?}: {m}"),
            _ => m.fmt(f),
        }
    }
}

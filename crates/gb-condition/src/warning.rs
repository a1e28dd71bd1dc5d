//! Structured warnings from compiling conditions and saved groups.

use alloc::string::String;
use core::fmt;

/// What kind of problem a [`Warning`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A malformed shape the JS SDK evaluates deterministically (`$elemMatch: 5`, `$or: 5`,
    /// a non-object condition): evaluated as JS does.
    LooseShape,
    /// A shape the JS SDK throws on when it reaches it (`$not: null`, `$or: null`): the
    /// condition fails closed there.
    JsThrows,
    /// A regular expression that cannot run in linear time (lookaround, backreferences):
    /// the whole condition fails closed.
    FailClosedRegex,
    /// A regular expression over the per-pattern size limit or the payload's regex budget:
    /// the whole condition fails closed.
    RegexOverLimit,
    /// A regular expression in a build without the `regex` cargo feature: the whole condition
    /// fails closed.
    RegexDisabled,
    /// An invalid regular expression: the operator is false, as in JS.
    InvalidRegex,
    /// An operator the JS SDK does not know: false, as in JS.
    UnknownOperator,
    /// An operator with an argument of the wrong type: false, as in JS.
    BadArgument,
    /// Nesting deeper than the depth limit: the whole condition fails closed.
    TooDeep,
    /// A malformed saved group or `$savedGroup` reference: matches nobody, as in JS.
    SavedGroup,
}

impl WarningKind {
    /// A short stable name (`"loose-shape"`, `"fail-closed-regex"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::LooseShape => "loose-shape",
            WarningKind::JsThrows => "js-throws",
            WarningKind::FailClosedRegex => "fail-closed-regex",
            WarningKind::RegexOverLimit => "regex-over-limit",
            WarningKind::RegexDisabled => "regex-disabled",
            WarningKind::InvalidRegex => "invalid-regex",
            WarningKind::UnknownOperator => "unknown-operator",
            WarningKind::BadArgument => "bad-argument",
            WarningKind::TooDeep => "too-deep",
            WarningKind::SavedGroup => "saved-group",
        }
    }
}

/// One problem found while compiling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What kind of problem.
    pub kind: WarningKind,
    /// A sentence naming the operator or shape and what evaluation does with it.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

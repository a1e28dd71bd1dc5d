//! Structured warnings from compiling conditions and saved groups.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::fmt;

use crate::depth::{MAX_DEPTH, MAX_GROUP_CHAIN};
use crate::regex::RegexError;

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
///
/// It keeps the kind and the data its sentence needs; the sentence itself is written only
/// when asked ([`Warning::message`], `Display`), so a build that never prints warnings (a
/// wasm module, a firmware) carries neither the text nor the formatting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What kind of problem.
    pub kind: WarningKind,
    pub(crate) detail: Detail,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, detail: Detail) -> Self {
        Warning { kind, detail }
    }

    /// A sentence naming the operator or shape and what evaluation does with it.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.detail.fmt(f)
    }
}

/// What a [`Warning`] says, with the data its sentence needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    /// A sentence without data.
    Text(Text),
    /// Something about an operator (`$or`, `$in`, ...).
    Op(Box<str>, OpIssue),
    /// `a condition must be an object, not <kind>`.
    NotObject(&'static str),
    /// `$elemMatch needs an object, not <kind>`.
    ElemMatchNotObject(&'static str),
    /// A regex operator that cannot run (`<op> <pattern> <error>`).
    Regex(Box<str>, Box<str>, RegexError),
    /// The whole condition is disabled for this.
    Disabled(Box<Detail>),
    /// About saved group `id`.
    Group(Box<str>, GroupIssue),
    /// More disabled saved groups than the warnings list.
    MoreGroups(usize),
}

/// Sentences without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    CutTooDeep,
    TooDeep,
    LiteralTooDeep,
    NullCondition,
    StringCondition,
    ArrayCondition,
    RefNotObject,
    RefWithoutId,
    RefAttributeKey,
    ElemMatchNull,
    GroupsNotObject,
}

/// What is wrong with an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OpIssue {
    HoldsString,
    IsNull,
    LengthKey,
    NotArray(&'static str),
    /// Evaluates to false for this reason.
    False(&'static str),
    /// An invalid pattern: false.
    InvalidPattern(Box<str>, RegexError),
}

/// What is wrong with a saved group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GroupIssue {
    ListWithoutValues,
    WithoutCondition,
    UnknownType,
    Malformed,
    Loop,
    Chain(u32),
    /// A warning from its condition.
    Condition(Box<Detail>),
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Text(t) => f.write_str(match t {
                Text::CutTooDeep => "condition nested too deeply to parse",
                Text::TooDeep => {
                    return write!(f, "condition nested deeper than {MAX_DEPTH} levels");
                }
                Text::LiteralTooDeep => {
                    return write!(f, "a literal value nests deeper than {MAX_DEPTH} levels");
                }
                Text::NullCondition => {
                    "a condition is null, which the JS SDK throws on; the condition fails \
                     closed when it is reached"
                }
                Text::StringCondition => {
                    "a condition is a string; JS compares attributes \"0\", \"1\", ... to its \
                     characters"
                }
                Text::ArrayCondition => {
                    "a condition is an array; JS tests attributes \"0\", \"1\", ... against its \
                     elements"
                }
                Text::RefNotObject => "$savedGroup needs an object reference",
                Text::RefWithoutId => "$savedGroup reference without a string id",
                Text::RefAttributeKey => "$savedGroup attributeKey must be a string",
                Text::ElemMatchNull => {
                    "$elemMatch is null, which the JS SDK throws on for arrays; the condition \
                     then fails closed"
                }
                Text::GroupsNotObject => "savedGroups must be an object; ignored",
            }),
            Detail::Op(op, issue) => match issue {
                OpIssue::HoldsString => write!(
                    f,
                    "{op} holds a string, not an array of conditions; JS evaluates it \
                     character by character"
                ),
                OpIssue::IsNull => write!(
                    f,
                    "{op} is null, which the JS SDK throws on; the condition fails closed when \
                     it is reached"
                ),
                OpIssue::LengthKey => write!(
                    f,
                    "{op} is an object with a length key, which JS indexes as a list; the \
                     condition fails closed"
                ),
                OpIssue::NotArray(kind) => write!(
                    f,
                    "{op} needs an array of conditions, not {kind}; JS treats it as an empty list"
                ),
                OpIssue::False(why) => write!(f, "{op} {why}; it evaluates to false"),
                OpIssue::InvalidPattern(p, e) => {
                    write!(f, "{op} pattern {p:?} {e}; it evaluates to false")
                }
            },
            Detail::NotObject(kind) => write!(
                f,
                "a condition must be an object, not {kind}; JS lets everyone pass"
            ),
            Detail::ElemMatchNotObject(kind) => write!(
                f,
                "$elemMatch needs an object, not {kind}; JS tests it as a condition on each \
                 element"
            ),
            Detail::Regex(op, p, e) => write!(f, "{op} {p:?} {e}"),
            Detail::Disabled(d) => write!(f, "condition disabled: {d}"),
            Detail::Group(id, issue) => {
                write!(f, "saved group {id:?}: ")?;
                match issue {
                    GroupIssue::ListWithoutValues => f.write_str("list without values"),
                    GroupIssue::WithoutCondition => {
                        f.write_str("condition group without a condition")
                    }
                    GroupIssue::UnknownType => f.write_str("unknown type"),
                    GroupIssue::Malformed => f.write_str("malformed entry"),
                    GroupIssue::Loop => {
                        f.write_str("its $savedGroup references loop; it matches nobody")
                    }
                    GroupIssue::Chain(h) => write!(
                        f,
                        "its $savedGroup references chain {h} groups deep (the limit is \
                         {MAX_GROUP_CHAIN}); it matches nobody"
                    ),
                    GroupIssue::Condition(d) => d.fmt(f),
                }
            }
            Detail::MoreGroups(n) => write!(
                f,
                "{n} more saved groups disabled for looping or too long reference chains"
            ),
        }
    }
}

//! Compiling a condition document into a typed tree.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::regex::{JsRegex, RegexBudget, RegexError};
use crate::sets::{AllIndex, INDEX_FROM, Item};
use crate::sort::sort_unstable_by;
use crate::value::{Prim, V, array_index_key, with_js_string, write_js_json};
use crate::version::padded_owned;
use crate::warning::{Detail, OpIssue, Text, Warning, WarningKind};

pub use crate::depth::MAX_DEPTH;

/// A condition as a list of clauses that must all pass.
#[derive(Debug)]
pub(crate) struct Cond(pub(crate) Box<[Clause]>);

#[derive(Debug)]
pub(crate) enum Clause {
    Or(Box<[Cond]>),
    Nor(Box<[Cond]>),
    And(Box<[Cond]>),
    Not(Cond),
    /// A shape the JS SDK throws on when it reaches it (`Object.entries(null)`,
    /// `null.length`): evaluation stops and the whole condition fails closed.
    Throw,
    SavedGroup(Option<SavedGroupRef>),
    Path(Path, Test),
}

/// A `$savedGroup` reference that passed the reference SDK's shape checks.
#[derive(Debug)]
pub(crate) struct SavedGroupRef {
    pub(crate) id: String,
    pub(crate) attribute_key: Option<String>,
}

/// A dotted attribute path, kept whole (no allocation per segment): a path of one key (most
/// are) is looked up as it is, a dotted one split on `.` as it is walked.
#[derive(Debug)]
pub(crate) struct Path {
    pub(crate) text: Box<str>,
    pub(crate) dotted: bool,
}

impl Path {
    pub(crate) fn parse(p: &str) -> Path {
        Path {
            text: p.into(),
            dotted: crate::scan::find(p, b'.').is_some(),
        }
    }
}

/// The reference `evalConditionValue`: what one attribute value is tested against.
#[derive(Debug)]
pub(crate) enum Test {
    /// `value + "" === s` (or, case-insensitively, both lowered).
    Str { s: String, lower: String },
    /// `value * 1 === n`.
    Num(f64),
    /// `value !== null && !!value === b`.
    Bool(bool),
    /// `value === null`.
    Null,
    /// `JSON.stringify(value) === text`, the condition's `JSON.stringify` (JS key order).
    Json(String),
    /// An operator object: every operator must pass.
    Ops(Box<[Op]>),
}

/// Version comparison operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Relational operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ROp {
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug)]
pub(crate) enum Op {
    Eq(Prim),
    Ne(Prim),
    Rel(ROp, Prim),
    Exists(bool),
    In {
        set: ValueSet,
        negate: bool,
        insensitive: bool,
    },
    InGroup {
        id: String,
        negate: bool,
    },
    Not(Box<Test>),
    Size(Box<Test>),
    ElemMatchValue(Box<Test>),
    ElemMatchCond(Cond),
    /// `$elemMatch: null`: false for non-arrays, a JS throw for arrays.
    ElemMatchNull,
    All {
        items: Box<[Test]>,
        insensitive: bool,
        /// For many items: the plain ones sorted (see [`AllIndex`]).
        index: Option<Box<AllIndex>>,
    },
    Regex(Box<JsRegex>),
    Type(String),
    Version(VOp, String),
    /// An operator the reference evaluates to `false` (unknown operator, malformed argument).
    False,
}

/// A set of primitive values for `$in`, `$nin`, `$ini`, `$nini` and list saved groups, using
/// JavaScript `SameValueZero` membership (arrays and objects never match).
#[derive(Debug, Default)]
pub(crate) struct ValueSet {
    /// Sorted, deduplicated strings (lowercased for case-insensitive sets).
    strs: Vec<String>,
    /// Sorted numbers.
    nums: Vec<f64>,
    has_null: bool,
    has_true: bool,
    has_false: bool,
}

impl ValueSet {
    pub(crate) fn new(items: &[Value], insensitive: bool) -> ValueSet {
        let mut s = ValueSet::default();
        for it in items {
            match it {
                Value::Null => s.has_null = true,
                Value::Bool(true) => s.has_true = true,
                Value::Bool(false) => s.has_false = true,
                Value::Number(n) => {
                    if let Some(f) = n.as_f64() {
                        // `-0` and `0` are one member (SameValueZero): keep one, searchable.
                        s.nums.push(if f == 0.0 { 0.0 } else { f });
                    }
                }
                Value::String(x) => {
                    s.strs.push(if insensitive {
                        crate::lower::to_lowercase(x)
                    } else {
                        x.clone()
                    });
                }
                Value::Array(_) | Value::Object(_) => {}
            }
        }
        sort_unstable_by(&mut s.strs, |a, b| a < b);
        s.strs.dedup();
        sort_unstable_by(&mut s.nums, |a, b| a.total_cmp(b).is_lt());
        s.nums.dedup();
        s
    }

    /// Whether the scalar `v` is a member (`insensitive` lowers a string first).
    pub(crate) fn contains(&self, v: V<'_>, insensitive: bool) -> bool {
        match v {
            V::Null => self.has_null,
            V::Bool(true) => self.has_true,
            V::Bool(false) => self.has_false,
            V::Num(n) => {
                let n = if n == 0.0 { 0.0 } else { n };
                self.nums.binary_search_by(|p| p.total_cmp(&n)).is_ok()
            }
            V::Str(x) => {
                // JS lowers with `toLowerCase()`: titlecase (`ǅ`) and other non-ASCII letters
                // that are not `Uppercase` still change, so only ASCII text is checked cheaply.
                if insensitive && (!x.is_ascii() || x.bytes().any(|b| b.is_ascii_uppercase())) {
                    let l = crate::lower::to_lowercase(x);
                    self.strs.binary_search_by(|p| p.as_str().cmp(&l)).is_ok()
                } else {
                    self.strs.binary_search_by(|p| p.as_str().cmp(x)).is_ok()
                }
            }
            V::Arr(_) | V::Obj(_) => false,
        }
    }

    /// The reference `isIn`: an array attribute matches if any element is a member.
    pub(crate) fn is_in(&self, actual: V<'_>, insensitive: bool) -> bool {
        match actual {
            V::Arr(a) => a.iter().any(|e| self.contains(V::of(e), insensitive)),
            other => self.contains(other, insensitive),
        }
    }
}

/// Why a condition cannot be compiled; the whole condition then fails closed.
#[derive(Debug)]
pub(crate) struct Invalid(pub(crate) WarningKind, pub(crate) Detail);

pub(crate) struct Compiler<'w> {
    pub(crate) warnings: &'w mut Vec<Warning>,
    /// What regexes of this payload may still cost.
    pub(crate) regex_budget: &'w mut RegexBudget,
}

type R<T> = Result<T, Invalid>;

impl Compiler<'_> {
    fn warn(&mut self, kind: WarningKind, detail: Detail) {
        self.warnings.push(Warning::new(kind, detail));
    }

    /// Compiles a whole condition (a rule's, a saved group's): one the payload loader cut
    /// ([`holds_cut_marker`](crate::depth::holds_cut_marker)) fails closed.
    pub(crate) fn root(&mut self, v: &Value, depth: usize) -> R<Cond> {
        if crate::depth::holds_cut_marker(v) {
            return Err(Invalid(
                WarningKind::TooDeep,
                Detail::Text(Text::CutTooDeep),
            ));
        }
        self.cond(v, depth)
    }

    /// Compiles a top-level condition object.
    pub(crate) fn cond(&mut self, v: &Value, depth: usize) -> R<Cond> {
        if depth > MAX_DEPTH {
            return Err(Invalid(WarningKind::TooDeep, Detail::Text(Text::TooDeep)));
        }
        let map = match v {
            Value::Object(map) => map,
            other => return self.loose_cond(other, depth),
        };
        let mut clauses = Vec::with_capacity(map.len());
        // JS `Object.entries` order: integer-like keys ascending, then insertion order. It
        // decides which clause short-circuits before a shape JS throws on.
        // Every key is distinct (other keys sort after 2^32 in insertion order), so an
        // unstable sort keeps insertion order.
        let mut entries: Vec<(u64, &String, &Value)> = map
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                (
                    array_index_key(k).map_or((1 << 32) + i as u64, u64::from),
                    k,
                    v,
                )
            })
            .collect();
        sort_unstable_by(&mut entries, |a, b| a.0 < b.0);
        for (_, k, val) in entries {
            let c = match k.as_str() {
                "$or" => Clause::Or(self.cond_list(k, val, depth)?),
                "$nor" => Clause::Nor(self.cond_list(k, val, depth)?),
                "$and" => Clause::And(self.cond_list(k, val, depth)?),
                "$not" => Clause::Not(self.cond(val, depth + 1)?),
                "$savedGroup" => Clause::SavedGroup(self.saved_group_ref(val)),
                "$gbTooDeep" => {
                    return Err(Invalid(
                        WarningKind::TooDeep,
                        Detail::Text(Text::CutTooDeep),
                    ));
                }
                path => Clause::Path(Path::parse(path), self.test(val, depth + 1)?),
            };
            clauses.push(c);
        }
        Ok(Cond(clauses.into_boxed_slice()))
    }

    fn cond_list(&mut self, op: &str, v: &Value, depth: usize) -> R<Box<[Cond]>> {
        match v {
            Value::Array(items) => items.iter().map(|c| self.cond(c, depth + 1)).collect(),
            // JS `evalOr`/`evalAnd` loop `i < conditions.length` over `conditions[i]`: a
            // string is a list of one-character conditions (one UTF-16 unit each).
            Value::String(s) => {
                self.warn(
                    WarningKind::LooseShape,
                    Detail::Op(op.into(), OpIssue::HoldsString),
                );
                Ok(utf16_units(s)
                    .into_iter()
                    .map(|u| Cond(Box::new([Clause::Path(Path::parse("0"), u)])))
                    .collect())
            }
            // `null.length` throws in JS when the clause is reached.
            Value::Null => {
                self.warn(
                    WarningKind::JsThrows,
                    Detail::Op(op.into(), OpIssue::IsNull),
                );
                Ok(Box::new([Cond(Box::new([Clause::Throw]))]))
            }
            // An object with a `length` key is iterated by index in JS; nothing sane to mirror.
            Value::Object(m) if m.contains_key("length") => Err(Invalid(
                WarningKind::JsThrows,
                Detail::Op(op.into(), OpIssue::LengthKey),
            )),
            // A number, boolean or object has no `length`: an empty list in JS
            // (`$or` passes, `$nor` fails, `$and` passes).
            other => {
                self.warn(
                    WarningKind::LooseShape,
                    Detail::Op(op.into(), OpIssue::NotArray(json_kind(other))),
                );
                Ok(Box::new([]))
            }
        }
    }

    /// A condition that is not an object: JS `evalCondition` iterates `Object.entries(v)`.
    fn loose_cond(&mut self, v: &Value, depth: usize) -> R<Cond> {
        match v {
            // `Object.entries(null)` throws when reached.
            Value::Null => {
                self.warn(WarningKind::JsThrows, Detail::Text(Text::NullCondition));
                Ok(Cond(Box::new([Clause::Throw])))
            }
            // No own enumerable properties: every attribute set passes.
            Value::Bool(_) | Value::Number(_) => {
                self.warn(WarningKind::LooseShape, Detail::NotObject(json_kind(v)));
                Ok(Cond(Box::new([])))
            }
            // Entries `["0", c0], ["1", c1], ...` over UTF-16 units: attribute "0" must equal
            // the first unit, and so on.
            Value::String(s) => {
                self.warn(WarningKind::LooseShape, Detail::Text(Text::StringCondition));
                Ok(Cond(
                    utf16_units(s)
                        .into_iter()
                        .enumerate()
                        .map(|(i, t)| Clause::Path(Path::parse(itoa::Buffer::new().format(i)), t))
                        .collect(),
                ))
            }
            // Entries `[index, element]`: attribute "0" is tested against the first element.
            Value::Array(items) => {
                self.warn(WarningKind::LooseShape, Detail::Text(Text::ArrayCondition));
                let mut clauses = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    clauses.push(Clause::Path(
                        Path::parse(itoa::Buffer::new().format(i)),
                        self.test(it, depth + 1)?,
                    ));
                }
                Ok(Cond(clauses.into_boxed_slice()))
            }
            Value::Object(_) => self.cond(v, depth),
        }
    }

    fn saved_group_ref(&mut self, v: &Value) -> Option<SavedGroupRef> {
        let Value::Object(m) = v else {
            self.warn(WarningKind::SavedGroup, Detail::Text(Text::RefNotObject));
            return None;
        };
        let Some(Value::String(id)) = m.get("id") else {
            self.warn(WarningKind::SavedGroup, Detail::Text(Text::RefWithoutId));
            return None;
        };
        let attribute_key = match m.get("attributeKey") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => {
                self.warn(WarningKind::SavedGroup, Detail::Text(Text::RefAttributeKey));
                return None;
            }
        };
        Some(SavedGroupRef {
            id: id.clone(),
            attribute_key,
        })
    }

    /// Compiles a value condition (`evalConditionValue`).
    pub(crate) fn test(&mut self, v: &Value, depth: usize) -> R<Test> {
        if depth > MAX_DEPTH {
            return Err(Invalid(WarningKind::TooDeep, Detail::Text(Text::TooDeep)));
        }
        Ok(match v {
            Value::String(s) => Test::Str {
                s: s.clone(),
                lower: crate::lower::to_lowercase(s),
            },
            Value::Number(n) => Test::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => Test::Bool(*b),
            Value::Null => Test::Null,
            Value::Object(m) if is_operator_object(m) => {
                let mut ops = Vec::with_capacity(m.len());
                for (op, arg) in m {
                    ops.push(self.op(op, arg, depth)?);
                }
                Test::Ops(ops.into_boxed_slice())
            }
            // A literal nests inside the condition: its depth counts against the same limit
            // (checked without recursion, before anything recurses over it).
            other if crate::depth::nests_deeper_than(other, MAX_DEPTH - depth) => {
                return Err(Invalid(
                    WarningKind::TooDeep,
                    Detail::Text(Text::LiteralTooDeep),
                ));
            }
            other => {
                let mut text = String::new();
                let _ = write_js_json(&mut text, other);
                Test::Json(text)
            }
        })
    }

    fn op(&mut self, op: &str, arg: &Value, depth: usize) -> R<Op> {
        Ok(match op {
            "$eq" => Op::Eq(Prim::of(arg)),
            "$ne" => Op::Ne(Prim::of(arg)),
            "$lt" => Op::Rel(ROp::Lt, Prim::of(arg)),
            "$lte" => Op::Rel(ROp::Lte, Prim::of(arg)),
            "$gt" => Op::Rel(ROp::Gt, Prim::of(arg)),
            "$gte" => Op::Rel(ROp::Gte, Prim::of(arg)),
            "$veq" => Op::Version(VOp::Eq, padded_owned(V::of(arg))),
            "$vne" => Op::Version(VOp::Ne, padded_owned(V::of(arg))),
            "$vgt" => Op::Version(VOp::Gt, padded_owned(V::of(arg))),
            "$vgte" => Op::Version(VOp::Gte, padded_owned(V::of(arg))),
            "$vlt" => Op::Version(VOp::Lt, padded_owned(V::of(arg))),
            "$vlte" => Op::Version(VOp::Lte, padded_owned(V::of(arg))),
            "$exists" => Op::Exists(V::of(arg).truthy()),
            "$in" | "$nin" | "$ini" | "$nini" => match arg {
                Value::Array(items) => {
                    let insensitive = op.ends_with('i');
                    let negate = op.starts_with("$n");
                    Op::In {
                        set: ValueSet::new(items, insensitive),
                        negate,
                        insensitive,
                    }
                }
                _ => self.js_false(WarningKind::BadArgument, op, "needs an array"),
            },
            "$inGroup" | "$notInGroup" => Op::InGroup {
                id: with_js_string(V::of(arg), |s| String::from(s)),
                negate: op == "$notInGroup",
            },
            "$not" => Op::Not(Box::new(self.test(arg, depth + 1)?)),
            "$size" => Op::Size(Box::new(self.test(arg, depth + 1)?)),
            // JS `elemMatch`: an operator object tests each element as a value; anything else
            // is a condition on each element (`Object.keys(null)` throws).
            "$elemMatch" => match arg {
                Value::Object(m) if is_operator_object(m) => {
                    Op::ElemMatchValue(Box::new(self.test(arg, depth + 1)?))
                }
                Value::Null => {
                    self.warn(WarningKind::JsThrows, Detail::Text(Text::ElemMatchNull));
                    Op::ElemMatchNull
                }
                Value::Object(_) => Op::ElemMatchCond(self.cond(arg, depth + 1)?),
                other => {
                    self.warn(
                        WarningKind::LooseShape,
                        Detail::ElemMatchNotObject(json_kind(other)),
                    );
                    // One warning for the shape, not a second one from `loose_cond`.
                    let n = self.warnings.len();
                    let c = self.loose_cond(other, depth + 1)?;
                    self.warnings.truncate(n);
                    Op::ElemMatchCond(c)
                }
            },
            "$all" | "$alli" => match arg {
                Value::Array(items) => {
                    let items: Box<[Test]> = items
                        .iter()
                        .map(|t| self.test(t, depth + 1))
                        .collect::<R<_>>()?;
                    let insensitive = op == "$alli";
                    let index = (items.len() >= INDEX_FROM).then(|| {
                        Box::new(AllIndex::new(items.iter().map(|t| match t {
                            Test::Str { lower, .. } if insensitive => Item::Str(lower),
                            Test::Str { s, .. } => Item::Str(s),
                            Test::Num(n) => Item::Num(*n),
                            Test::Bool(b) => Item::Bool(*b),
                            Test::Null => Item::Null,
                            Test::Json(_) | Test::Ops(_) => Item::Other,
                        })))
                    });
                    Op::All {
                        items,
                        insensitive,
                        index,
                    }
                }
                _ => self.js_false(WarningKind::BadArgument, op, "needs an array"),
            },
            "$regex" | "$regexi" => match arg {
                Value::String(p) => {
                    match JsRegex::with_budget(p, op == "$regexi", self.regex_budget) {
                        Ok(r) => Op::Regex(Box::new(r)),
                        // The reference evaluates an invalid pattern to false.
                        Err(e @ RegexError::Invalid(_)) => {
                            self.warn(
                                WarningKind::InvalidRegex,
                                Detail::Op(
                                    op.into(),
                                    OpIssue::InvalidPattern(p.as_str().into(), e),
                                ),
                            );
                            Op::False
                        }
                        // Beyond what this engine may run: the condition fails closed.
                        Err(e) => {
                            let kind = match e {
                                RegexError::TooLarge { .. } | RegexError::OverBudget { .. } => {
                                    WarningKind::RegexOverLimit
                                }
                                RegexError::Disabled => WarningKind::RegexDisabled,
                                _ => WarningKind::FailClosedRegex,
                            };
                            return Err(Invalid(
                                kind,
                                Detail::Regex(op.into(), p.as_str().into(), e),
                            ));
                        }
                    }
                }
                _ => self.js_false(WarningKind::BadArgument, op, "needs a string pattern"),
            },
            "$type" => match arg {
                Value::String(t) => Op::Type(t.clone()),
                _ => self.js_false(WarningKind::BadArgument, op, "needs a string"),
            },
            unknown => self.js_false(
                WarningKind::UnknownOperator,
                unknown,
                "is not a known operator",
            ),
        })
    }

    fn js_false(&mut self, kind: WarningKind, op: &str, why: &'static str) -> Op {
        self.warn(kind, Detail::Op(op.into(), OpIssue::False(why)));
        Op::False
    }
}

/// A string's UTF-16 code units as one-character string tests (JS indexes strings by unit).
/// A lone surrogate equals no string a JSON attribute can hold, so it never matches.
fn utf16_units(s: &str) -> Vec<Test> {
    let mut out = Vec::new();
    for c in s.chars() {
        if c.len_utf16() == 1 {
            let one = String::from(c);
            out.push(Test::Str {
                lower: crate::lower::to_lowercase(&one),
                s: one,
            });
        } else {
            out.push(Test::Ops(Box::new([Op::False])));
            out.push(Test::Ops(Box::new([Op::False])));
        }
    }
    out
}

/// The reference `isOperatorObject`: at least one key, and every key starts with `$`.
fn is_operator_object(m: &Map<String, Value>) -> bool {
    !m.is_empty() && m.keys().all(|k| k.starts_with('$'))
}

/// A JSON value's type as prose ("a string", "an array", "null"), for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Formats a compile failure for the warnings list.
pub(crate) fn describe(e: Invalid) -> Warning {
    Warning::new(e.0, Detail::Disabled(Box::new(e.1)))
}

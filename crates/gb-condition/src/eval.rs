//! Evaluating a compiled condition against attributes.

use alloc::string::String;
use core::cell::Cell;
use core::cmp::Ordering;

use serde_json::{Map, Value};

use crate::compile::{Clause, Cond, Op, Path, ROp, Test, VOp};
use crate::groups::{Group, GroupMemo, MAX_GROUP_CHAIN, SavedGroups};
use crate::value::{V, with_js_string};
use crate::version::{cmp_padded, with_padded};

/// What attribute paths are looked up in.
#[derive(Clone, Copy, Debug)]
pub enum Root<'a> {
    /// A JSON value (normally an object of attributes).
    Value(&'a Value),
    /// An attribute map.
    Map(&'a Map<String, Value>),
    /// A one-key object `{key: value}`, e.g. `{"value": parentValue}` for prerequisites.
    Single(&'a str, &'a Value),
}

impl Root<'_> {
    /// Identifies the attributes seen (their address, tagged by kind) for the group memo.
    fn id(self) -> usize {
        match self {
            Root::Value(v) => core::ptr::from_ref(v) as usize,
            Root::Map(m) => core::ptr::from_ref(m) as usize | 1,
            Root::Single(_, v) => core::ptr::from_ref(v) as usize | 2,
        }
    }
}

/// Saved-group ids being resolved, as a stack-allocated chain (stops reference cycles).
#[derive(Clone, Copy)]
pub(crate) struct Visited<'a> {
    id: &'a str,
    depth: usize,
    parent: Option<&'a Visited<'a>>,
}

impl Visited<'_> {
    fn contains(v: Option<&Visited<'_>>, id: &str) -> bool {
        let mut cur = v;
        while let Some(n) = cur {
            if n.id == id {
                return true;
            }
            cur = n.parent;
        }
        false
    }
}

pub(crate) struct Ctx<'g> {
    pub(crate) groups: &'g SavedGroups,
    memo: GroupMemo,
    /// Set when evaluation reached a shape the JS SDK throws on (`Object.entries(null)`,
    /// `Object.keys(null)`): the caller then fails the whole condition closed.
    threw: Cell<bool>,
}

impl<'g> Ctx<'g> {
    pub(crate) fn new(groups: &'g SavedGroups) -> Self {
        Ctx {
            groups,
            memo: GroupMemo::default(),
            threw: Cell::new(false),
        }
    }

    /// Whether a JS-throwing shape was reached.
    pub(crate) fn threw(&self) -> bool {
        self.threw.get()
    }

    fn throw(&self) -> bool {
        self.threw.set(true);
        false
    }

    pub(crate) fn cond(&self, c: &Cond, root: Root<'_>, vis: Option<&Visited<'_>>) -> bool {
        c.0.iter().all(|cl| self.clause(cl, root, vis))
    }

    fn clause(&self, cl: &Clause, root: Root<'_>, vis: Option<&Visited<'_>>) -> bool {
        match cl {
            Clause::Or(list) => list.is_empty() || list.iter().any(|c| self.cond(c, root, vis)),
            Clause::Nor(list) => !(list.is_empty() || list.iter().any(|c| self.cond(c, root, vis))),
            Clause::And(list) => list.iter().all(|c| self.cond(c, root, vis)),
            Clause::Not(c) => !self.cond(c, root, vis),
            Clause::Throw => self.throw(),
            Clause::SavedGroup(None) => false,
            Clause::SavedGroup(Some(r)) => {
                if Visited::contains(vis, &r.id) {
                    return false;
                }
                match self.groups.get(&r.id) {
                    Some(Group::List {
                        attribute_key,
                        values: Some(set),
                    }) => match r.attribute_key.as_deref().or(attribute_key.as_deref()) {
                        Some(key) => set.is_in(get_path_str(root, key), false),
                        None => false,
                    },
                    Some(Group::Condition(Some(c))) => {
                        let depth = vis.map_or(0, |v| v.depth) + 1;
                        if depth > MAX_GROUP_CHAIN {
                            return false;
                        }
                        let key = GroupMemo::key(c, root.id());
                        if let Some(hit) = self.memo.get(key) {
                            return hit;
                        }
                        let next = Visited {
                            id: &r.id,
                            depth,
                            parent: vis,
                        };
                        let result = self.cond(c, root, Some(&next));
                        self.memo.insert(key, result);
                        result
                    }
                    _ => false,
                }
            }
            Clause::Path(p, t) => self.test(t, get_path(root, p), false, vis),
        }
    }

    pub(crate) fn test(
        &self,
        t: &Test,
        v: V<'_>,
        insensitive: bool,
        vis: Option<&Visited<'_>>,
    ) -> bool {
        match t {
            Test::Str { s, lower } => {
                if insensitive {
                    with_js_string(v, |x| lowercase_eq(x, lower))
                } else {
                    with_js_string(v, |x| x == s)
                }
            }
            Test::Num(n) => v.to_number() == *n,
            Test::Bool(b) => !matches!(v, V::Null) && v.truthy() == *b,
            Test::Null => matches!(v, V::Null),
            Test::Json(text) => crate::value::js_json_eq(v, text),
            Test::Ops(ops) => ops.iter().all(|op| self.op(op, v, vis)),
        }
    }

    fn op(&self, op: &Op, actual: V<'_>, vis: Option<&Visited<'_>>) -> bool {
        match op {
            Op::Eq(p) => p.strict_eq(actual),
            Op::Ne(p) => !p.strict_eq(actual),
            Op::Rel(r, p) => {
                let o = p.compare_from(actual);
                match r {
                    ROp::Lt => o == Some(Ordering::Less),
                    ROp::Lte => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                    ROp::Gt => o == Some(Ordering::Greater),
                    ROp::Gte => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
            Op::Exists(want) => want != &matches!(actual, V::Null),
            Op::In {
                set,
                negate,
                insensitive,
            } => set.is_in(actual, *insensitive) != *negate,
            Op::InGroup { id, negate } => match self.groups.get(id) {
                // An unknown id behaves as an empty list.
                None => *negate,
                Some(Group::Bare(set))
                | Some(Group::List {
                    values: Some(set), ..
                }) => set.is_in(actual, false) != *negate,
                // A condition group or a malformed entry matches nobody either way.
                Some(_) => false,
            },
            Op::Not(t) => !self.test(t, actual, false, vis),
            Op::Size(t) => match actual {
                V::Arr(a) => self.test(t, V::Num(a.len() as f64), false, vis),
                _ => false,
            },
            Op::ElemMatchValue(t) => match actual {
                V::Arr(a) => a
                    .iter()
                    .any(|e| !e.is_null() && self.test(t, V::of(e), false, vis)),
                _ => false,
            },
            // `elemMatch` returns false for a non-array before `isOperatorObject(null)` throws.
            Op::ElemMatchNull => matches!(actual, V::Arr(_)) && self.throw(),
            Op::ElemMatchCond(c) => match actual {
                V::Arr(a) => a
                    .iter()
                    .any(|e| !e.is_null() && self.cond(c, Root::Value(e), vis)),
                _ => false,
            },
            Op::All {
                items,
                insensitive,
                index,
            } => match (actual, index) {
                (V::Arr(a), None) => items
                    .iter()
                    .all(|t| a.iter().any(|e| self.test(t, V::of(e), *insensitive, vis))),
                (V::Arr(a), Some(ix)) => {
                    ix.plain_items_match(a, *insensitive)
                        && ix.others.iter().all(|&i| {
                            a.iter()
                                .any(|e| self.test(&items[i], V::of(e), *insensitive, vis))
                        })
                }
                _ => false,
            },
            Op::Regex(r) => with_js_string(actual, |s| r.is_match(s)),
            Op::Type(t) => actual.type_name() == t,
            Op::Version(vop, expected) => with_padded(actual, |a| {
                let o = cmp_padded(a, expected);
                match vop {
                    VOp::Eq => o == Ordering::Equal,
                    VOp::Ne => o != Ordering::Equal,
                    VOp::Gt => o == Ordering::Greater,
                    VOp::Gte => o != Ordering::Less,
                    VOp::Lt => o == Ordering::Less,
                    VOp::Lte => o != Ordering::Greater,
                }
            }),
            Op::False => false,
        }
    }
}

fn lowercase_eq(x: &str, lower: &str) -> bool {
    if x.is_ascii() {
        return x.len() == lower.len()
            && x.bytes()
                .zip(lower.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b);
    }
    crate::lower::to_lowercase(x) == lower
}

fn step<'a>(cur: V<'a>, seg: &str) -> V<'a> {
    match cur {
        V::Obj(m) => crate::value::attr_get(m, seg).map_or(V::Null, V::of),
        V::Arr(a) => {
            if seg == "length" {
                return V::Num(a.len() as f64);
            }
            match array_index(seg) {
                Some(i) => a.get(i).map_or(V::Null, V::of),
                None => V::Null,
            }
        }
        _ => V::Null,
    }
}

/// A canonical array index (`"0"`, `"12"`, not `"01"` or `"+1"`).
fn array_index(seg: &str) -> Option<usize> {
    let b = seg.as_bytes();
    if b.is_empty() || (b.len() > 1 && b[0] == b'0') || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    seg.parse().ok()
}

fn root_first<'a>(root: Root<'a>, seg: &str) -> V<'a> {
    match root {
        Root::Value(v) => step(V::of(v), seg),
        Root::Map(m) => step(V::Obj(m), seg),
        Root::Single(k, v) => {
            if k == seg {
                V::of(v)
            } else {
                V::Null
            }
        }
    }
}

pub(crate) fn get_path<'a>(root: Root<'a>, p: &Path) -> V<'a> {
    if p.dotted {
        get_path_str(root, &p.text)
    } else {
        root_first(root, &p.text)
    }
}

fn get_path_str<'a>(root: Root<'a>, p: &str) -> V<'a> {
    walk(root, crate::scan::split(p, b'.'))
}

/// Follows path segments from the root, as the reference `getPath` does.
fn walk<'a, 's>(root: Root<'a>, mut segs: impl Iterator<Item = &'s str>) -> V<'a> {
    let Some(first) = segs.next() else {
        return V::Null;
    };
    segs.fold(root_first(root, first), step)
}

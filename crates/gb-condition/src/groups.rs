//! Saved groups, compiled once per payload, and what one condition evaluation remembers of
//! them.
//!
//! Condition groups may reference condition groups (`$savedGroup`). At load, groups whose
//! references loop or chain deeper than [`MAX_GROUP_CHAIN`] are disabled (they match nobody,
//! with a warning), so evaluation never meets a cycle; and each group's result is remembered
//! per condition evaluation (per group and attribute root), so a DAG of groups where each
//! references the next twice costs one evaluation per group, not `2^depth`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::hash::BuildHasher;

use serde_json::Value;

use crate::compile::{Clause, Compiler, Cond, Op, Test, ValueSet, describe};
use crate::regex::RegexBudget;
use crate::str_index::StrIndex;
use crate::warning::{Detail, GroupIssue, Text, Warning, WarningKind};

pub(crate) use crate::depth::MAX_GROUP_CHAIN;

/// The saved groups of a payload (`savedGroups`), compiled.
///
/// Both payload shapes are understood: v1 `{"id": [values]}` and v2
/// `{"id": {"type": "list", "attributeKey": "...", "values": [...]}}` or
/// `{"id": {"type": "condition", "condition": {...}}}`.
#[derive(Debug, Default)]
pub struct SavedGroups {
    groups: Groups,
}

/// The groups in payload order, found by id through the crate's one string index (a
/// size-first build links no ordered map for them).
#[derive(Debug, Default)]
struct Groups {
    list: Vec<(String, Group)>,
    index: StrIndex,
}

impl Groups {
    fn position(&self, id: &str) -> Option<usize> {
        let list = &self.list;
        let i = self
            .index
            .find(id, |i| list.get(i as usize).map(|(k, _)| k.as_str()))?;
        Some(i as usize)
    }

    fn get(&self, id: &str) -> Option<&Group> {
        self.list.get(self.position(id)?).map(|(_, g)| g)
    }

    /// Adds group `id` (the ids of a JSON object are distinct; a repeated one would replace
    /// the group before it).
    fn insert(&mut self, id: &str, g: Group) {
        let Ok(at) = u32::try_from(self.list.len()) else {
            return;
        };
        let list = &self.list;
        let key_of = |i: u32| list.get(i as usize).map(|(k, _)| k.as_str());
        match self.index.insert(id, at, &key_of) {
            Ok(()) => self.list.push((id.into(), g)),
            Err(i) => {
                if let Some(slot) = self.list.get_mut(i as usize) {
                    slot.1 = g;
                }
            }
        }
    }
}

#[derive(Debug)]
pub(crate) enum Group {
    /// v1: a bare list of values.
    Bare(ValueSet),
    /// v2 list: values (if the entry has an array) and its own attribute.
    List {
        attribute_key: Option<String>,
        values: Option<ValueSet>,
    },
    /// v2 condition group (a `None` condition could not be compiled: matches nobody).
    Condition(Option<Cond>),
    /// A malformed entry or a type added after this SDK: matches nobody.
    Other,
}

impl SavedGroups {
    /// No saved groups.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles a `savedGroups` object; malformed entries match nobody and are reported.
    pub fn compile(v: &Value) -> Self {
        let mut w = Vec::new();
        Self::compile_with_warnings(v, &mut w)
    }

    /// Like [`SavedGroups::compile`], appending a message per malformed entry to `warnings`.
    pub fn compile_with_warnings(v: &Value, warnings: &mut Vec<String>) -> Self {
        Self::compile_with_budget(v, warnings, &mut RegexBudget::default())
    }

    /// Like [`SavedGroups::compile_with_warnings`], charging the regexes of condition groups
    /// to `regex_budget` (shared by every condition of a payload).
    pub fn compile_with_budget(
        v: &Value,
        warnings: &mut Vec<String>,
        regex_budget: &mut RegexBudget,
    ) -> Self {
        let mut w = Vec::new();
        let groups = Self::compile_with_diagnostics_and_budget(v, &mut w, regex_budget);
        warnings.extend(w.iter().map(Warning::message));
        groups
    }

    /// Like [`SavedGroups::compile_with_budget`], appending a structured [`Warning`] per
    /// problem (kind [`WarningKind::SavedGroup`], or the kind a condition group's condition
    /// gave).
    pub fn compile_with_diagnostics_and_budget(
        v: &Value,
        warnings: &mut Vec<Warning>,
        regex_budget: &mut RegexBudget,
    ) -> Self {
        let sg = |d: Detail| Warning::new(WarningKind::SavedGroup, d);
        let mut groups = Groups::default();
        let Value::Object(m) = v else {
            if !v.is_null() {
                warnings.push(sg(Detail::Text(Text::GroupsNotObject)));
            }
            return Self { groups };
        };
        for (id, entry) in m {
            let g = match entry {
                Value::Array(items) => Group::Bare(ValueSet::new(items, false)),
                Value::Object(o) => match o.get("type").and_then(Value::as_str) {
                    Some("list") => Group::List {
                        attribute_key: o
                            .get("attributeKey")
                            .and_then(Value::as_str)
                            .map(String::from),
                        values: match o.get("values") {
                            Some(Value::Array(items)) => Some(ValueSet::new(items, false)),
                            _ => {
                                warnings.push(sg(Detail::Group(
                                    id.as_str().into(),
                                    GroupIssue::ListWithoutValues,
                                )));
                                None
                            }
                        },
                    },
                    Some("condition") => {
                        match o.get("condition") {
                            // JS: `!entry.condition || typeof entry.condition !== "object"`
                            // matches nobody; an array is an object there.
                            Some(c @ (Value::Object(_) | Value::Array(_))) => {
                                let mut found = Vec::new();
                                let mut comp = Compiler {
                                    warnings: &mut found,
                                    regex_budget,
                                };
                                let g = match comp.root(c, 1) {
                                    Ok(c) => Group::Condition(Some(c)),
                                    Err(e) => {
                                        found.push(describe(e));
                                        Group::Condition(None)
                                    }
                                };
                                warnings.extend(found.into_iter().map(|w| {
                                    Warning::new(
                                        w.kind,
                                        Detail::Group(
                                            id.as_str().into(),
                                            GroupIssue::Condition(Box::new(w.detail)),
                                        ),
                                    )
                                }));
                                g
                            }
                            _ => {
                                warnings.push(sg(Detail::Group(
                                    id.as_str().into(),
                                    GroupIssue::WithoutCondition,
                                )));
                                Group::Condition(None)
                            }
                        }
                    }
                    _ => {
                        warnings.push(sg(Detail::Group(
                            id.as_str().into(),
                            GroupIssue::UnknownType,
                        )));
                        Group::Other
                    }
                },
                _ => {
                    warnings.push(sg(Detail::Group(id.as_str().into(), GroupIssue::Malformed)));
                    Group::Other
                }
            };
            groups.insert(id, g);
        }
        disable_loops_and_long_chains(&mut groups, warnings);
        Self { groups }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.list.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.list.is_empty()
    }
}

/// Calls `f` with the id of every `$savedGroup` referenced by `c` (recursion bounded by the
/// compiled condition's depth limit).
fn each_reference<'c>(c: &'c Cond, f: &mut impl FnMut(&'c str)) {
    for cl in c.0.iter() {
        match cl {
            Clause::Or(l) | Clause::Nor(l) | Clause::And(l) => {
                l.iter().for_each(|c| each_reference(c, f));
            }
            Clause::Not(c) => each_reference(c, f),
            Clause::SavedGroup(Some(r)) => f(&r.id),
            Clause::SavedGroup(None) | Clause::Throw => {}
            Clause::Path(_, t) => test_references(t, f),
        }
    }
}

fn test_references<'c>(t: &'c Test, f: &mut impl FnMut(&'c str)) {
    let Test::Ops(ops) = t else {
        return;
    };
    for op in ops.iter() {
        match op {
            Op::Not(t) | Op::Size(t) | Op::ElemMatchValue(t) => test_references(t, f),
            Op::ElemMatchCond(c) => each_reference(c, f),
            Op::All { items, .. } => items.iter().for_each(|t| test_references(t, f)),
            _ => {}
        }
    }
}

/// Disables (matches nobody, with a warning) every condition group from which a loop of
/// references, or a chain of more than [`MAX_GROUP_CHAIN`] condition groups, is reachable.
fn disable_loops_and_long_chains(groups: &mut Groups, warnings: &mut Vec<Warning>) {
    let children: Vec<Vec<usize>> = groups
        .list
        .iter()
        .map(|(_, g)| {
            let mut c = Vec::new();
            if let Group::Condition(Some(cond)) = g {
                each_reference(cond, &mut |id| {
                    if let Some(i) = groups.position(id)
                        && matches!(groups.list.get(i), Some((_, Group::Condition(_))))
                    {
                        c.push(i);
                    }
                });
            }
            crate::sort::sort_unstable_by(&mut c, |a, b| a < b);
            c.dedup();
            c
        })
        .collect();
    let graph = crate::graph::chain_heights(&children, &[]);
    // A chain of `h + 1` groups hangs below a group of height `h`.
    let mut disabled: Vec<(usize, Option<u32>)> = graph
        .heights
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            !children[*i].is_empty() && h.is_none_or(|h| h as usize + 1 > MAX_GROUP_CHAIN)
        })
        .map(|(i, h)| (i, *h))
        .collect();
    // Reported in the order of their ids, whatever the payload's order.
    let ids: Vec<&str> = groups.list.iter().map(|(k, _)| k.as_str()).collect();
    crate::sort::sort_unstable_by(&mut disabled, |a, b| ids[a.0] < ids[b.0]);
    let mut positions: Vec<usize> = Vec::new();
    for (n, (i, h)) in disabled.iter().enumerate() {
        if n < 10 {
            warnings.push(Warning::new(
                WarningKind::SavedGroup,
                Detail::Group(
                    ids[*i].into(),
                    match h {
                        None => GroupIssue::Loop,
                        Some(h) => GroupIssue::Chain(h + 1),
                    },
                ),
            ));
        }
        positions.push(*i);
    }
    if disabled.len() > 10 {
        warnings.push(Warning::new(
            WarningKind::SavedGroup,
            Detail::MoreGroups(disabled.len() - 10),
        ));
    }
    for i in positions {
        if let Some((_, g)) = groups.list.get_mut(i) {
            *g = Group::Condition(None);
        }
    }
}

/// A remembered result: (group, attribute root) and whether the group matched.
type Remembered = ((usize, usize), bool);

/// Condition-group results of one condition evaluation, by group and attribute root: the
/// first few inline (no allocation), then a map. Set up at the first condition group: most
/// conditions have none, and cost nothing here.
#[derive(Default)]
pub(crate) struct GroupMemo {
    inline: RefCell<Option<[Option<Remembered>; 4]>>,
    spill: RefCell<Spill>,
}

/// The results past the first few, found by key through the crate's one hash index.
#[derive(Default)]
struct Spill {
    list: Vec<Remembered>,
    index: StrIndex,
}

impl GroupMemo {
    /// The key of `group` evaluated against the attribute root identified by `root` (an
    /// address: both outlive the evaluation).
    pub(crate) fn key(group: &Cond, root: usize) -> (usize, usize) {
        (core::ptr::from_ref(group) as usize, root)
    }

    pub(crate) fn get(&self, key: (usize, usize)) -> Option<bool> {
        for e in self.inline.borrow().iter().flatten() {
            match e {
                Some((k, r)) if *k == key => return Some(*r),
                Some(_) => {}
                None => return None,
            }
        }
        let spill = self.spill.borrow();
        let list = &spill.list;
        let i = spill
            .index
            .find_hashed(spill.index.hasher().hash_one(key), &|i| {
                list.get(i as usize).is_some_and(|e| e.0 == key)
            })?;
        list.get(i as usize).map(|e| e.1)
    }

    pub(crate) fn insert(&self, key: (usize, usize), result: bool) {
        if let Some(slot) = self
            .inline
            .borrow_mut()
            .get_or_insert([None; 4])
            .iter_mut()
            .find(|e| e.is_none())
        {
            *slot = Some((key, result));
            return;
        }
        let mut spill = self.spill.borrow_mut();
        let Spill { list, index } = &mut *spill;
        let Ok(at) = u32::try_from(list.len()) else {
            return;
        };
        let hasher = index.hasher();
        let hash = hasher.hash_one(key);
        let rehash = |i: u32| list.get(i as usize).map_or(0, |e| hasher.hash_one(e.0));
        // A key is inserted once (evaluation asks before it remembers).
        if index
            .insert_hashed(
                hash,
                at,
                &|i| list.get(i as usize).is_some_and(|e| e.0 == key),
                &rehash,
            )
            .is_ok()
        {
            list.push((key, result));
        }
    }
}

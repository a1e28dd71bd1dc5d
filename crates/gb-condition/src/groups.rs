//! Saved groups, compiled once per payload.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use crate::compile::{Compiler, Cond, ValueSet, describe};

/// The saved groups of a payload (`savedGroups`), compiled.
///
/// Both payload shapes are understood: v1 `{"id": [values]}` and v2
/// `{"id": {"type": "list", "attributeKey": "...", "values": [...]}}` or
/// `{"id": {"type": "condition", "condition": {...}}}`.
#[derive(Debug, Default)]
pub struct SavedGroups {
    groups: BTreeMap<String, Group>,
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
        let mut groups = BTreeMap::new();
        let Value::Object(m) = v else {
            if !v.is_null() {
                warnings.push("savedGroups must be an object; ignored".into());
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
                                warnings.push(format!("saved group {id:?}: list without values"));
                                None
                            }
                        },
                    },
                    Some("condition") => match o.get("condition") {
                        // JS: `!entry.condition || typeof entry.condition !== "object"`
                        // matches nobody; an array is an object there.
                        Some(c @ (Value::Object(_) | Value::Array(_))) => {
                            let mut found = Vec::new();
                            let mut comp = Compiler {
                                warnings: &mut found,
                            };
                            let g = match comp.cond(c, 1) {
                                Ok(c) => Group::Condition(Some(c)),
                                Err(e) => {
                                    found.push(describe(&e));
                                    Group::Condition(None)
                                }
                            };
                            warnings.extend(
                                found
                                    .into_iter()
                                    .map(|w| format!("saved group {id:?}: {w}")),
                            );
                            g
                        }
                        _ => {
                            warnings.push(format!(
                                "saved group {id:?}: condition group without a condition"
                            ));
                            Group::Condition(None)
                        }
                    },
                    _ => {
                        warnings.push(format!("saved group {id:?}: unknown type"));
                        Group::Other
                    }
                },
                _ => {
                    warnings.push(format!("saved group {id:?}: malformed entry"));
                    Group::Other
                }
            };
            groups.insert(id.clone(), g);
        }
        Self { groups }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

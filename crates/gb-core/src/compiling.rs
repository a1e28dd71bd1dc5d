//! What compiling one payload carries along: its warnings, its regex budget, the values and
//! the conditions compiled so far (a condition repeated across rules is compiled and stored
//! once).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::{Condition, JsRegex, RegexBudget, RegexError, SavedGroups};
use serde_json::Value;

use crate::values::Interner;
use crate::warning::{Detail, Warning, WarningKind};
use gb_condition::str_index::StrIndex;

/// The warnings of one payload's compilation and the regex budget all its conditions share.
///
/// Warnings are tagged with the feature and rule being compiled ([`Compiling::at`]);
/// conditions and patterns are compiled through it so that every regex of the payload is
/// charged to one [`RegexBudget`].
#[derive(Debug, Default)]
pub(crate) struct Compiling {
    pub(crate) warnings: Vec<Warning>,
    pub(crate) regex_budget: RegexBudget,
    /// The values features and rules return, each stored once.
    pub(crate) values: Interner,
    /// The conditions compiled so far: JSON text, the compiled condition and the warnings
    /// compiling it gave, found by text through `condition_index`.
    conditions: Vec<(String, Arc<Condition>, Vec<Arc<gb_condition::Warning>>)>,
    condition_index: StrIndex,
    always: Option<Arc<Condition>>,
    /// Where warnings come from now: a feature key and a payload rule index.
    feature: Option<Box<str>>,
    rule: Option<usize>,
}

impl Compiling {
    /// Compiles a condition, charging its regexes to the payload's budget, or shares the one
    /// compiled from the same JSON text earlier in this payload (its warnings are reported
    /// again, once per use; its regexes are not charged twice).
    pub(crate) fn condition(&mut self, c: &Value) -> Arc<Condition> {
        // serde_json's text: conditions that differ only as `1` and `1.0` stay apart.
        let mut text = String::with_capacity(128); // as serde_json::to_string starts
        let _ = gb_condition::write_serde_json(&mut text, c);
        let known = &self.conditions;
        let text_of = |i: u32| known.get(i as usize).map(|k| k.0.as_str());
        if let Some((_, cond, w)) = self
            .condition_index
            .find(&text, text_of)
            .and_then(|i| known.get(i as usize))
        {
            let (cond, w) = (cond.clone(), w.clone());
            self.conditions_warned(&w);
            return cond;
        }
        let mut w = Vec::new();
        let cond = Arc::new(Condition::compile_with_diagnostics_and_budget(
            c,
            &mut w,
            &mut self.regex_budget,
        ));
        let w = shared(w);
        self.conditions_warned(&w);
        if let Ok(at) = u32::try_from(self.conditions.len()) {
            let known = &self.conditions;
            let text_of = |i: u32| known.get(i as usize).map(|k| k.0.as_str());
            if self.condition_index.insert(&text, at, &text_of).is_ok() {
                self.conditions.push((text, cond.clone(), w));
            }
        }
        cond
    }

    /// Sets where the next warnings come from (`None, None`: the payload or its groups).
    pub(crate) fn at(&mut self, feature: Option<&str>, rule: Option<usize>) {
        self.feature = feature.map(Box::from);
        self.rule = rule;
    }

    /// Records a warning at the current location.
    pub(crate) fn warn(&mut self, kind: WarningKind, detail: impl Into<Detail>) {
        self.warnings.push(Warning {
            feature: self.feature.clone(),
            rule: self.rule,
            kind,
            detail: detail.into(),
        });
    }

    fn conditions_warned(&mut self, ws: &[Arc<gb_condition::Warning>]) {
        for w in ws {
            self.warn(WarningKind::Condition(w.kind), Detail::Condition(w.clone()));
        }
    }

    /// The condition every attribute set passes, shared.
    pub(crate) fn always(&mut self) -> Arc<Condition> {
        self.always
            .get_or_insert_with(|| Arc::new(Condition::always()))
            .clone()
    }

    /// Compiles the saved groups, charging their regexes to the payload's budget.
    pub(crate) fn saved_groups(&mut self, v: &Value) -> SavedGroups {
        let mut w = Vec::new();
        let groups =
            SavedGroups::compile_with_diagnostics_and_budget(v, &mut w, &mut self.regex_budget);
        self.conditions_warned(&shared(w));
        groups
    }

    /// Compiles a JavaScript pattern, charging it to the payload's budget.
    pub(crate) fn regex(&mut self, js: &str) -> Result<JsRegex, RegexError> {
        JsRegex::with_budget(js, false, &mut self.regex_budget)
    }
}

/// A condition's warnings, shared by every use of the condition (reported once per use).
fn shared(ws: Vec<gb_condition::Warning>) -> Vec<Arc<gb_condition::Warning>> {
    ws.into_iter().map(Arc::new).collect()
}

//! What compiling one payload carries along: its warnings and its regex budget.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use gb_condition::{Condition, JsRegex, RegexBudget, RegexError, SavedGroups};
use serde_json::Value;

/// The warnings of one payload's compilation and the regex budget all its conditions share.
///
/// It reads as the warnings list (`w.push(..)`); conditions and patterns are compiled
/// through it so that every regex of the payload is charged to one [`RegexBudget`].
#[derive(Debug, Default)]
pub(crate) struct Compiling {
    pub(crate) warnings: Vec<String>,
    pub(crate) regex_budget: RegexBudget,
}

impl Compiling {
    /// Compiles a condition, charging its regexes to the payload's budget.
    pub(crate) fn condition(&mut self, c: &Value) -> Condition {
        Condition::compile_with_budget(c, &mut self.warnings, &mut self.regex_budget)
    }

    /// Compiles the saved groups, charging their regexes to the payload's budget.
    pub(crate) fn saved_groups(&mut self, v: &Value) -> SavedGroups {
        SavedGroups::compile_with_budget(v, &mut self.warnings, &mut self.regex_budget)
    }

    /// Compiles a JavaScript pattern, charging it to the payload's budget.
    pub(crate) fn regex(&mut self, js: &str) -> Result<JsRegex, RegexError> {
        JsRegex::with_budget(js, false, &mut self.regex_budget)
    }
}

impl Deref for Compiling {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.warnings
    }
}

impl DerefMut for Compiling {
    fn deref_mut(&mut self) -> &mut Vec<String> {
        &mut self.warnings
    }
}

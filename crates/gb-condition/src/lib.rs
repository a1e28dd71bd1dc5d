//! GrowthBook targeting conditions, compiled once and evaluated many times.
//!
//! A condition is the MongoDB-like document GrowthBook attaches to rules and experiments,
//! e.g. `{"country": {"$in": ["US", "CA"]}, "age": {"$gte": 18}}`. This crate compiles it
//! into a typed tree ([`Condition`]) with every operator resolved, every regular expression
//! compiled and every version string padded, then evaluates it against user attributes with
//! no allocation in the common case.
//!
//! Semantics follow the reference JavaScript SDK (`mongrule.ts` of `@growthbook/growthbook`
//! 1.8.0), including its JavaScript value coercions: `{"age": "18"}` matches the number `18`,
//! a missing attribute compares as `null`, relational operators compare mixed types as
//! JavaScript does, and arrays and objects compare by their JSON text.
//!
//! Nothing here panics on input. Malformed shapes the reference evaluates deterministically
//! (`$or: 5`, `$elemMatch: 5`, a string or array as a condition) are evaluated exactly as it
//! does, and reported as a structured [`Warning`]. Where the reference throws (`$not: null`,
//! `$elemMatch: null` on an array) the whole condition is `false`. A condition nesting deeper
//! than [`MAX_DEPTH`] or holding a regular expression that needs lookaround or backreferences
//! (or is over the regex size limit or budget, or in a build without the `regex` feature)
//! is not compiled: it evaluates to `false` and warns. Where the reference itself evaluates an
//! operator to `false` (an unknown operator, an invalid pattern) this crate does the same, and
//! warns. Case-insensitive operators lower with the full Unicode mapping of JS
//! `toLowerCase()`; object equality is `JSON.stringify` text with JS key order
//! ([`write_js_json`]); regular expressions match UTF-16 code units as JS does without `u`.
//!
//! `#![no_std]` with `alloc`: it runs on microcontrollers and in wasm.
//!
//! # Cargo features
//!
//! - `regex` (default): `$regex` / `$regexi` on a linear-time lazy DFA (see [`JsRegex`]).
//!   Without it there is no regex engine (about half the code size): a condition using a regex
//!   operator is disabled with a warning and matches nobody.
//!
//! # Example
//!
//! ```
//! use gb_condition::{Condition, SavedGroups};
//! use serde_json::json;
//!
//! let cond = Condition::compile(&json!({
//!     "country": {"$in": ["US", "CA"]},
//!     "version": {"$vgte": "2.0.0"},
//!     "email": {"$regex": "@example\\.com$"}
//! }));
//! let groups = SavedGroups::new();
//! # #[cfg(feature = "regex")] {
//! assert!(cond.is_valid());
//! let user = json!({"country": "US", "version": "2.1.0", "email": "ann@example.com"});
//! assert!(cond.matches(&user, &groups));
//! assert!(!cond.matches(&json!({"country": "FR"}), &groups));
//! # }
//!
//! // Lookaround cannot run in linear time: the condition fails closed.
//! let bad = Condition::compile(&json!({"name": {"$regex": "a(?=b)"}}));
//! assert!(!bad.is_valid());
//! assert!(!bad.matches(&json!({"name": "ab"}), &groups));
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod compile;
pub mod decimal;
mod depth;
mod eval;
pub mod graph;
mod groups;
pub mod lower;
mod regex;
pub mod scan;
mod sets;
pub mod sort;
pub mod str_index;
mod value;
mod version;
mod warning;

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

pub use compile::{MAX_DEPTH, json_kind};
pub use depth::nests_deeper_than;
pub use eval::Root;
pub use groups::SavedGroups;
pub use regex::{
    JsRegex, REGEX_CACHE_LIMIT, REGEX_PAYLOAD_BUDGET, REGEX_SIZE_LIMIT, RegexBudget, RegexError,
};
pub use value::{
    attr_get, is_js_whitespace, is_truthy, write_js_json, write_js_number, write_js_string,
    write_serde_json, write_serde_json_object,
};
pub use warning::{Warning, WarningKind};

/// A compiled condition.
#[derive(Debug)]
pub struct Condition {
    inner: Option<compile::Cond>,
}

impl Condition {
    /// Compiles a condition document. Never fails: an uncompilable condition matches nobody
    /// (see [`Condition::is_valid`]).
    pub fn compile(condition: &Value) -> Condition {
        let mut w = Vec::new();
        Self::compile_with_warnings(condition, &mut w)
    }

    /// Like [`Condition::compile`], appending a message to `warnings` for every problem found.
    ///
    /// Its regexes get a budget of their own ([`REGEX_PAYLOAD_BUDGET`]); to bound a whole
    /// payload, compile its conditions with [`Condition::compile_with_budget`] and one budget.
    pub fn compile_with_warnings(condition: &Value, warnings: &mut Vec<String>) -> Condition {
        Self::compile_with_budget(condition, warnings, &mut RegexBudget::default())
    }

    /// Like [`Condition::compile_with_warnings`], charging its regexes to `regex_budget`
    /// (shared by every condition of a payload). A regex over the budget disables the
    /// condition holding it, with a warning.
    pub fn compile_with_budget(
        condition: &Value,
        warnings: &mut Vec<String>,
        regex_budget: &mut RegexBudget,
    ) -> Condition {
        let mut w = Vec::new();
        let c = Self::compile_with_diagnostics_and_budget(condition, &mut w, regex_budget);
        warnings.extend(w.iter().map(Warning::message));
        c
    }

    /// Like [`Condition::compile`], appending a structured [`Warning`] for every problem
    /// found (loose shapes evaluated as JS does, JS-throwing shapes, fail-closed regexes,
    /// unknown operators, ...). Its regexes get a budget of their own.
    pub fn compile_with_diagnostics(condition: &Value, warnings: &mut Vec<Warning>) -> Condition {
        Self::compile_with_diagnostics_and_budget(condition, warnings, &mut RegexBudget::default())
    }

    /// Like [`Condition::compile_with_diagnostics`], charging its regexes to `regex_budget`
    /// (shared by every condition of a payload). A regex over the budget disables the
    /// condition holding it, with a [`WarningKind::RegexOverLimit`] warning.
    pub fn compile_with_diagnostics_and_budget(
        condition: &Value,
        warnings: &mut Vec<Warning>,
        regex_budget: &mut RegexBudget,
    ) -> Condition {
        let mut c = compile::Compiler {
            warnings,
            regex_budget,
        };
        match c.root(condition, 0) {
            Ok(cond) => Condition { inner: Some(cond) },
            Err(e) => {
                c.warnings.push(compile::describe(e));
                Condition { inner: None }
            }
        }
    }

    /// A condition that every attribute set passes (`{}`).
    pub fn always() -> Condition {
        Condition {
            inner: Some(compile::Cond(alloc::boxed::Box::new([]))),
        }
    }

    /// Whether the condition compiled; an invalid condition never matches.
    pub fn is_valid(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether `attributes` (normally a JSON object) satisfy the condition.
    pub fn matches(&self, attributes: &Value, groups: &SavedGroups) -> bool {
        self.matches_root(Root::Value(attributes), groups)
    }

    /// Whether an attribute map satisfies the condition.
    pub fn matches_map(&self, attributes: &Map<String, Value>, groups: &SavedGroups) -> bool {
        self.matches_root(Root::Map(attributes), groups)
    }

    /// Like [`Condition::matches_map`], but `None` where the JS SDK would throw (it reached a
    /// shape such as `$not: null`); [`Condition::matches_map`] answers `false` there. For
    /// callers that, like the JS SDK, recover from the throw differently (bandit leaves).
    pub fn eval_map(&self, attributes: &Map<String, Value>, groups: &SavedGroups) -> Option<bool> {
        match &self.inner {
            Some(c) => {
                let ctx = eval::Ctx::new(groups);
                let r = ctx.cond(c, Root::Map(attributes), None);
                (!ctx.threw()).then_some(r)
            }
            None => Some(false),
        }
    }

    /// Whether the attributes seen through `root` satisfy the condition.
    pub fn matches_root(&self, root: Root<'_>, groups: &SavedGroups) -> bool {
        match &self.inner {
            Some(c) => {
                let ctx = eval::Ctx::new(groups);
                // Where the JS SDK would throw, the whole condition fails closed.
                ctx.cond(c, root, None) && !ctx.threw()
            }
            None => false,
        }
    }
}

/// Compiles and evaluates a condition in one call (the reference `evalCondition`).
///
/// For repeated evaluation compile once with [`Condition::compile`] instead.
pub fn eval_condition(attributes: &Value, condition: &Value, saved_groups: &Value) -> bool {
    let groups = SavedGroups::compile(saved_groups);
    Condition::compile(condition).matches(attributes, &groups)
}

//! Regexes the engine will not run fail closed with a structured warning of their own kind.

use gb_condition::{Condition, REGEX_CACHE_LIMIT, RegexBudget, Warning, WarningKind};
use serde_json::json;

fn kinds(w: &[Warning]) -> Vec<WarningKind> {
    w.iter().map(|w| w.kind).collect()
}

#[cfg(feature = "regex")]
#[test]
fn over_the_size_limit_or_the_budget_is_regex_over_limit() {
    let mut w = Vec::new();
    let c =
        Condition::compile_with_diagnostics(&json!({"a": {"$regex": "(\\w{1000}){1000}"}}), &mut w);
    assert!(!c.is_valid());
    assert_eq!(kinds(&w), [WarningKind::RegexOverLimit]);

    let mut w = Vec::new();
    let mut budget = RegexBudget::new(REGEX_CACHE_LIMIT - 1);
    let c = Condition::compile_with_diagnostics_and_budget(
        &json!({"a": {"$regex": "a"}}),
        &mut w,
        &mut budget,
    );
    assert!(!c.is_valid());
    assert_eq!(kinds(&w), [WarningKind::RegexOverLimit]);
    assert_eq!(w[0].kind.as_str(), "regex-over-limit");

    // Lookaround stays what it was.
    let mut w = Vec::new();
    Condition::compile_with_diagnostics(&json!({"a": {"$regex": "a(?=b)"}}), &mut w);
    assert_eq!(kinds(&w), [WarningKind::FailClosedRegex]);
}

#[cfg(not(feature = "regex"))]
#[test]
fn without_the_engine_is_regex_disabled() {
    let mut w = Vec::new();
    let mut budget = RegexBudget::new(REGEX_CACHE_LIMIT);
    let c = Condition::compile_with_diagnostics_and_budget(
        &json!({"a": {"$not": {"$regex": "a"}}}),
        &mut w,
        &mut budget,
    );
    assert!(!c.is_valid());
    assert!(!c.matches(&json!({"a": "b"}), &gb_condition::SavedGroups::new()));
    assert_eq!(kinds(&w), [WarningKind::RegexDisabled]);
}

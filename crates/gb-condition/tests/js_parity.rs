//! Conditions where a port can drift from the JavaScript SDK 1.8.0 (`mongrule.ts`). Every
//! expected answer was checked against `evalCondition` of `@growthbook/growthbook` 1.8.0 in
//! Node 20; `cargo xtask diff` compares whole payloads the same way.

use gb_condition::{Condition, SavedGroups, eval_condition};
use serde_json::{Value, json};

fn eval(attrs: Value, cond: Value) -> bool {
    eval_condition(&attrs, &cond, &json!({}))
}

// Cause 1: case-insensitive operators. JS lowers both sides with
// `String.prototype.toLowerCase()`, the full Unicode mapping with special casing:
// titlecase digraphs lower too (`"ǅ".toLowerCase() === "ǆ"`), a final capital sigma becomes
// `ς` (`"ΣΊΣΥΦΟΣ".toLowerCase() === "σίσυφος"`), `İ` becomes `i̇` (two code points), `ẞ`
// becomes `ß`, and ligatures have no lower case of their own (`"ﬁ"` stays `"ﬁ"`).

#[test]
fn ini_lowers_titlecase_digraphs() {
    // `ǅ` is titlecase, not uppercase: it must still be lowered.
    assert!(eval(json!({"n": "ǅ"}), json!({"n": {"$ini": ["ǆ"]}})));
    assert!(eval(json!({"n": "ǆ"}), json!({"n": {"$ini": ["ǅ"]}})));
    assert!(!eval(json!({"n": "ǅ"}), json!({"n": {"$nini": ["Ǆ"]}})));
}

#[test]
fn ini_uses_the_final_sigma_rule() {
    assert!(eval(
        json!({"n": "ΣΊΣΥΦΟΣ"}),
        json!({"n": {"$ini": ["σίσυφος"]}})
    ));
    assert!(!eval(
        json!({"n": "ΣΊΣΥΦΟΣ"}),
        json!({"n": {"$ini": ["σίσυφοσ"]}})
    ));
    // A lone capital sigma is not final (no cased letter before it).
    assert!(!eval(json!({"n": "Σ"}), json!({"n": {"$nini": ["σ"]}})));
    assert!(eval(json!({"n": ["ΑΣ"]}), json!({"n": {"$alli": ["ας"]}})));
}

#[test]
fn ini_special_casing_of_dotted_i_sharp_s_and_ligatures() {
    assert!(eval(json!({"n": "İ"}), json!({"n": {"$ini": ["i̇"]}})));
    assert!(!eval(json!({"n": "İ"}), json!({"n": {"$ini": ["i"]}})));
    assert!(eval(json!({"n": "ẞ"}), json!({"n": {"$ini": ["ß"]}})));
    assert!(!eval(json!({"n": "ﬁ"}), json!({"n": {"$ini": ["FI"]}})));
    assert!(eval(json!({"n": "ﬁ"}), json!({"n": {"$ini": ["ﬁ"]}})));
    // Roman numerals are `Other_Uppercase`: lowered as well.
    assert!(eval(json!({"n": "Ⅻ"}), json!({"n": {"$ini": ["ⅻ"]}})));
}

// Cause 2: object equality is `JSON.stringify(a) === JSON.stringify(b)`. JS objects list
// integer-like keys ("0" to "4294967294", canonical form) first in ascending order, then the
// other keys in insertion order; numbers print as `String(n)`.

#[test]
fn object_equality_orders_integer_keys_first() {
    assert!(eval(
        json!({"o": {"b": 1, "1": 2}}),
        json!({"o": {"1": 2, "b": 1}})
    ));
    assert!(eval(
        json!({"o": {"10": 1, "2": 2, "x": 3}}),
        json!({"o": {"x": 3, "2": 2, "10": 1}})
    ));
    // "01" and "4294967295" are not array indexes: insertion order still matters.
    assert!(!eval(
        json!({"o": {"b": 1, "01": 2}}),
        json!({"o": {"01": 2, "b": 1}})
    ));
    assert!(!eval(
        json!({"o": {"b": 1, "4294967295": 2}}),
        json!({"o": {"4294967295": 2, "b": 1}})
    ));
    // The other keys keep their order.
    assert!(!eval(
        json!({"o": {"a": 1, "b": 2}}),
        json!({"o": {"b": 2, "a": 1}})
    ));
}

#[test]
fn object_equality_prints_numbers_as_javascript() {
    assert!(eval(json!({"o": [{"x": 1.0}]}), json!({"o": [{"x": 1}]})));
    assert!(eval(json!({"o": [-0.0]}), json!({"o": [0]})));
    assert!(eval(json!({"o": [1e21]}), json!({"o": [1e21]})));
}

#[test]
fn js_json_text_matches_json_stringify() {
    let mut s = String::new();
    gb_condition::write_js_json(
        &mut s,
        &json!({"b": [1.0, -0.0, "q\"\n\u{1}"], "1": null, "0": true}),
    )
    .expect("writes");
    assert_eq!(s, r#"{"0":true,"1":null,"b":[1,0,"q\"\n\u0001"]}"#);
}

// Cause 3: loose shapes evaluate as `evalCondition` does in JS, with a warning.

#[test]
fn elem_match_with_a_number_is_an_empty_condition_per_element() {
    // `isOperatorObject(5)` is false, so each element is tested with
    // `evalCondition(el, 5)`: `Object.entries(5)` is empty, which passes.
    assert!(eval(json!({"t": [1]}), json!({"t": {"$elemMatch": 5}})));
    // Null elements are skipped and an empty array has no element.
    assert!(!eval(json!({"t": []}), json!({"t": {"$elemMatch": 5}})));
    assert!(!eval(json!({"t": [null]}), json!({"t": {"$elemMatch": 5}})));
    // A string: `Object.entries("a")` is `[["0", "a"]]`.
    assert!(eval(
        json!({"t": [{"0": "a"}]}),
        json!({"t": {"$elemMatch": "a"}})
    ));
    let mut w = Vec::new();
    let c = Condition::compile_with_warnings(&json!({"t": {"$elemMatch": 5}}), &mut w);
    assert!(c.is_valid());
    assert!(w.iter().any(|m| m.contains("$elemMatch")), "{w:?}");
}

#[test]
fn logic_operators_without_arrays() {
    // `evalOr`: `!conditions.length` is true for a number: `$or` passes, `$nor` fails.
    assert!(eval(json!({}), json!({"$or": 5})));
    assert!(!eval(json!({}), json!({"$nor": 5})));
    // `evalAnd`: `0 < undefined` is false: passes.
    assert!(eval(json!({}), json!({"$and": true})));
    // A string is a list of one-character conditions `{"0": ch}`.
    assert!(eval(json!({"0": "b"}), json!({"$or": "ab"})));
    assert!(!eval(json!({"0": "c"}), json!({"$or": "ab"})));
    // `null.length` throws in JS: fail closed.
    assert!(!eval(json!({}), json!({"$or": null})));
}

#[test]
fn non_object_conditions() {
    // `Object.entries(5)` is empty: everyone passes; `$not: 5` therefore fails.
    assert!(eval(json!({}), json!(5)));
    assert!(!eval(json!({}), json!({"$not": 5})));
    // A string tests attributes "0", "1", ... against its characters.
    assert!(eval(json!({"0": "a", "1": "b"}), json!("ab")));
    assert!(!eval(json!({"0": "a"}), json!("ab")));
    // An array tests attributes "0", "1", ... against its elements.
    assert!(eval(json!({"0": 1}), json!([1])));
    // An astral character is two UTF-16 units, neither of which a JSON string can equal.
    assert!(!eval(json!({"0": "😀"}), json!("😀")));
    // `Object.entries(null)` throws: fail closed, even under `$not`.
    assert!(!eval(json!({}), json!({"$not": null})));
    assert!(!eval(json!({}), json!({"$nor": [null]})));
    // ... but only when JS reaches it: `evalOr` stops at the first passing condition.
    assert!(eval(json!({}), json!({"$or": [{}, null]})));
    assert!(!eval(json!({}), json!({"$or": [{"x": 1}, null]})));
}

/// Found by `cargo xtask diff --seed 2026` (batch 688). JS `elemMatch` returns false for a
/// non-array before `isOperatorObject(null)` throws, so `$not` of it passes; for an array it
/// throws, and the condition fails closed.
#[test]
fn elem_match_null_throws_only_for_arrays() {
    let c = json!({"$not": {"score": {"$elemMatch": null}}});
    assert!(eval(json!({}), c.clone()));
    assert!(eval(json!({"score": 5}), c.clone()));
    assert!(!eval(json!({"score": [1]}), c.clone()));
    assert!(!eval(json!({"score": []}), c));
}

#[test]
fn condition_saved_group_may_be_an_array() {
    // `typeof [] === "object"`, so an array condition group is evaluated as a condition.
    let groups = SavedGroups::compile(&json!({"g": {"type": "condition", "condition": [1]}}));
    let c = Condition::compile(&json!({"$savedGroup": {"id": "g"}}));
    assert!(c.matches(&json!({"0": 1}), &groups));
    assert!(!c.matches(&json!({"0": 2}), &groups));
}

/// Found by `cargo xtask diff --seed 2027` (batch 761). `evalCondition` walks
/// `Object.entries(condition)`, integer-like keys first: `"0": {}` fails before the
/// throwing `$or: null` is reached, so `$not` of it passes.
#[test]
fn clauses_run_in_javascript_property_order() {
    let c: Value = serde_json::from_str(r#"{"$not": {"$or": null, "0": {}}}"#).expect("condition");
    assert!(eval(json!({}), c));
    // Without the integer key first, JS throws (fails closed here).
    assert!(!eval(json!({}), json!({"$not": {"$or": null, "a": {}}})));
}

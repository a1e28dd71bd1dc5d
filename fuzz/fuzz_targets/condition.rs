//! Condition compile + evaluate with invariants: compiling never panics; the value form, the
//! map form and the single-key form agree; `$not` negates a valid condition; `$and` of one
//! condition and `$or` of one condition equal it.
#![no_main]

use gb_condition::{Condition, Root, SavedGroups};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let cond_v = doc.get("condition").cloned().unwrap_or(Value::Null);
    let attrs = doc.get("attributes").cloned().unwrap_or(Value::Null);
    let groups_v = doc.get("savedGroups").cloned().unwrap_or(Value::Null);
    let mut warnings = Vec::new();
    let groups = SavedGroups::compile_with_warnings(&groups_v, &mut warnings);
    let cond = Condition::compile_with_warnings(&cond_v, &mut warnings);
    let by_value = cond.matches(&attrs, &groups);
    if !cond.is_valid() {
        assert!(!by_value, "an invalid condition matched");
    }
    if let Some(map) = attrs.as_object() {
        assert_eq!(
            by_value,
            cond.matches_map(map, &groups),
            "map form disagrees"
        );
        assert_eq!(by_value, cond.matches_root(Root::Map(map), &groups));
        if map.len() == 1
            && let Some((k, v)) = map.iter().next()
        {
            assert_eq!(
                by_value,
                cond.matches_root(Root::Single(k, v), &groups),
                "single-key form disagrees"
            );
        }
    }
    assert_eq!(by_value, cond.matches_root(Root::Value(&attrs), &groups));
    if cond.is_valid() && cond_v.is_object() {
        let not = Condition::compile(&json!({"$not": cond_v}));
        if not.is_valid() {
            assert_eq!(
                not.matches(&attrs, &groups),
                !by_value,
                "$not does not negate"
            );
        }
        let and = Condition::compile(&json!({"$and": [cond_v]}));
        if and.is_valid() {
            assert_eq!(
                and.matches(&attrs, &groups),
                by_value,
                "$and of one differs"
            );
        }
        let or = Condition::compile(&json!({"$or": [cond_v]}));
        if or.is_valid() {
            assert_eq!(or.matches(&attrs, &groups), by_value, "$or of one differs");
        }
    }
    let _ = gb_condition::eval_condition(&attrs, &cond_v, &groups_v);
});

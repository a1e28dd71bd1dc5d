//! One test per `cases.json` section: every case must pass (known failures count as failures).
#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::OnceLock;

use serde_json::Value;

fn cases() -> &'static Value {
    static CASES: OnceLock<Value> = OnceLock::new();
    CASES.get_or_init(|| spec_tests::load_cases().unwrap_or_else(|e| panic!("{e}")))
}

fn section(name: &str) {
    let r = spec_tests::run_section(cases(), name);
    assert!(r.total > 0, "section {name} has no cases");
    assert!(
        r.failures.is_empty(),
        "{name}: {}/{} passed; failures:\n{}",
        r.passed,
        r.total,
        r.failures.join("\n")
    );
}

#[test]
fn spec_version_matches() {
    assert_eq!(cases()["specVersion"], spec_tests::SPEC_VERSION);
}

macro_rules! sections {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { section($name); })*
        #[test]
        fn every_section_has_a_test() {
            let tested = [$($name),*];
            for s in spec_tests::SECTIONS {
                assert!(tested.contains(s), "no test for section {s}");
            }
        }
    };
}

sections! {
    eval_condition => "evalCondition",
    hash => "hash",
    get_bucket_range => "getBucketRange",
    feature => "feature",
    run => "run",
    choose_variation => "chooseVariation",
    get_query_string_override => "getQueryStringOverride",
    in_namespace => "inNamespace",
    get_equal_weights => "getEqualWeights",
    sticky_bucket => "stickyBucket",
    url_redirect => "urlRedirect",
    contextual_bandit => "contextualBandit",
    decrypt => "decrypt",
}

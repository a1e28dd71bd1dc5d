//! URL targeting and redirects on untrusted text: the input is split at the first NUL into a
//! URL and a pattern, and the pattern is run as a `simple` and a `regex` target of an inline
//! experiment (included and excluded), and the two texts are merged as a redirect. Nothing may
//! panic, and one `simple` target includes exactly the users that excluding it leaves out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (url, pattern) = text.split_once('\0').unwrap_or((text, ""));
    let fs = gb_core::FeatureSet::new();
    let attrs = json!({"id": "1"});
    let Some(attrs) = attrs.as_object() else {
        return;
    };
    let user = gb_core::User::new(attrs).with_url(url);
    for kind in ["simple", "regex"] {
        let run = |include: bool| {
            let exp = gb_core::Experiment::from_json(&json!({
                "key": "e", "variations": [0, 1],
                "urlPatterns": [{"type": kind, "pattern": pattern, "include": include}],
            }));
            fs.run(&exp, &user).in_experiment
        };
        let included = run(true);
        let excluded = run(false);
        // One simple target: included exactly when it matches, excluded exactly when it does
        // not. (A regex over the size limits targets no URL either way.)
        if kind == "simple" {
            assert_ne!(included, excluded, "{kind} {pattern:?} on {url:?}");
        }
    }
    let _ = gb_core::url::merge_query_strings(url, pattern);
    let _ = gb_core::url::merge_query_strings(pattern, url);
});

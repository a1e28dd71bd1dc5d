//! URL targeting against the reference: inline experiments with `urlPatterns` run on URLs
//! built from pieces that `new URL` normalizes (schemes, backslashes, user info, IPv4 and
//! IPv6 forms, ports, dot segments, percent-encoding, non-ASCII hosts and paths, queries,
//! fragments), each in the JS SDK (`runInlineExperiment`) and in gb-core (`FeatureSet::run`).

use gb_core::{Experiment, FeatureSet, User};
use serde_json::{Map, Value, json};

use super::grammar::Rng;

const SCHEMES: &[&str] = &[
    "https://",
    "http://",
    "HTTPS://",
    "http:/",
    "https:",
    "//",
    "",
    "foo://",
    "mailto:",
    "ws://",
    "ftp://",
    "\\\\",
    "https:\\\\",
    "Http:",
    " https://",
    "\thttps://",
];
const HOSTS: &[&str] = &[
    "example.com",
    "Example.COM",
    "www.example.com",
    "example.com:443",
    "example.com:80",
    "example.com:8080",
    "sub.example.com",
    "exämple.com",
    "ExÄmple.COM",
    "例え.jp",
    "user@example.com",
    "u:p@x.com",
    "@x.com",
    "127.0.0.1",
    "0x7f.1",
    "127.1",
    "0300.0.0.1",
    "1.2.3.4.5",
    "256.1",
    "1.2.0x",
    "[::1]",
    "[0:0::1]",
    "[::ffff:1.2.3.4]",
    "[1:2:3:4:5:6:7:8]",
    "[::]",
    "[1::]",
    "[::1.2]",
    "a%41.com",
    "a%2e.com",
    "a b.com",
    "a.com.",
    "x.com:0443",
    "x.com:65536",
    "x.com:",
    "x.com:08080",
    "EXAMPLE.COM:80",
    "a_b.com",
    "*.com",
    "",
];
const PATHS: &[&str] = &[
    "",
    "/",
    "/a",
    "/a/",
    "/a/b",
    "/A",
    "/a/../b",
    "/./a",
    "//a",
    "/a b",
    "/café",
    "/caf%C3%A9",
    "/%41",
    "\\a",
    "/a\\b",
    "/a%2Fb",
    "/a?",
    "/a/*",
    "/a/%2e%2E/b",
    "/a/./",
    "/a/..",
    "/../a",
    "/a/b/../..",
    "/%7e",
    "/~",
    "/a^b|c",
    "/a`b{c}",
    "/a\"b<c>",
    "/a%",
    "/a\nb",
    "/a\tb",
];
const QUERIES: &[&str] = &[
    "",
    "?",
    "?a=1",
    "?a=1&b=2",
    "?b=2&a=1",
    "?a=%20x+y",
    "?a= x",
    "?a=é",
    "?a=%C3%A9",
    "?a",
    "?a=1&a=2",
    "?A=1",
    "?a=1#",
    "?a=1+2",
    "?a=%2B",
    "?a=1&&b=2",
    "?=x",
    "?a=b=c",
    "?a='x'",
    "?a=`{}",
    "?a=%zz",
    "?q=%F0%9F%98%80",
];
const FRAGMENTS: &[&str] = &[
    "", "#", "#x", "#X", "#é", "#a b", "#%41", "#a#b", "#`x`", "#%zz",
];
const SIMPLE: &[&str] = &[
    "example.com",
    "example.com/a",
    "https://example.com/*",
    "*.example.com",
    "*example.com*",
    "/a",
    "/a/*",
    "https://example.com/?a=1",
    "https://example.com/?a=*",
    "example.com/a#x",
    "example.com/a#*",
    "example.com/café",
    "example.com/caf%C3%A9",
    "http://example.com:8080/a",
    "example.com/a b",
    "example.com/?a=%20x+y",
    "example.com/?a=é",
    "*",
    "https://*/a",
    "example.com/A",
    "EXAMPLE.com/a/",
    "example.com//a",
    "example.com/b",
    "127.0.0.1",
    "*.com/*",
    "https://[::1]/*",
    "foo://*",
    "x.com:8080/*",
    "*/a/*",
    "example.com/?a=1+2",
    "example.com/?a=%2B",
    "https://example.com/%7e",
    "example.com/~",
    "example.com/a/../b",
    "example.com/./a",
    "http://*",
    "*://example.com",
    "//example.com/a",
    "?a=1",
    "#x",
    "xn--exmple-cua.com",
    "exämple.com/*",
    "example.com:443/a",
];
const REGEX: &[&str] = &[
    "example\\.com/a",
    "^https://example\\.com/",
    "café",
    "caf%C3%A9",
    "/a b",
    "a%20b",
    "\\?a=1",
    "#x$",
    "^/a",
    "A",
    "127\\.0\\.0\\.1",
    "\\[::1\\]",
    ":8080",
    "exämple",
    "xn--",
    "\\\\",
    "%41",
    "/b$",
    "^http:",
    "^https://_/",
    "%7E",
    "~",
    "\\^",
    "\\|",
    "%60",
    "%27",
    "u%40",
    "@",
    "^m/",
    "^/\\?",
    "^foo:",
    "^mailto:",
];

/// `n` cases `[url, urlPatterns]`.
pub(crate) fn cases(rng: &mut Rng, n: usize) -> Value {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let url = [SCHEMES, HOSTS, PATHS, QUERIES, FRAGMENTS]
            .iter()
            .map(|pieces| *rng.pick(pieces))
            .collect::<String>();
        let patterns: Vec<Value> = (0..1 + rng.below(3))
            .map(|_| {
                let (kind, pattern) = if rng.pct(60) {
                    ("simple", *rng.pick(SIMPLE))
                } else {
                    ("regex", *rng.pick(REGEX))
                };
                json!({"type": kind, "pattern": pattern, "include": rng.pct(80)})
            })
            .collect();
        out.push(json!([url, patterns]));
    }
    Value::Array(out)
}

/// The experiment each case runs: two variations, everyone in but for URL targeting.
pub(crate) fn experiment(patterns: &Value) -> Value {
    json!({"key": "e", "variations": [0, 1], "urlPatterns": patterns})
}

/// gb-core's `inExperiment` for each case.
pub(crate) fn eval(fs: &FeatureSet, cases: &Value) -> Value {
    let mut attrs = Map::new();
    attrs.insert("id".into(), json!("1"));
    let empty = Vec::new();
    let answers = cases
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|c| {
            let exp = Experiment::from_json(&experiment(&c[1]));
            let user = User::new(&attrs).with_url(c[0].as_str().unwrap_or(""));
            Value::Bool(fs.run(&exp, &user).in_experiment)
        })
        .collect();
    Value::Array(answers)
}

/// The first case where both answered and the answers differ.
pub(crate) fn first_difference(js: &Value, rs: &Value) -> Option<usize> {
    let empty = Vec::new();
    let (j, r) = (
        js.as_array().unwrap_or(&empty),
        rs.as_array().unwrap_or(&empty),
    );
    if j.len() != r.len() {
        return Some(0);
    }
    j.iter().zip(r).position(|(a, b)| a.is_boolean() && a != b)
}

/// Prints a differing case as a ready regression test.
pub(crate) fn report(case: &Value, js: &Value, seed: u64, batch: u64) {
    let url = case[0].as_str().unwrap_or("");
    println!("URL case: {case}");
    println!("JS SDK 1.8.0 inExperiment: {js}");
    println!("\n--- regression test (gb-core/src/url/mod.rs) ---");
    println!(
        "/// Found by `cargo xtask diff --seed {seed}` (batch {batch}); the JS SDK 1.8.0 says {js}."
    );
    println!("#[test]");
    println!("fn js_url_parity_seed_{seed}_batch_{batch}() {{");
    println!(
        "    let exp = crate::Experiment::from_json(&serde_json::json!({}));",
        experiment(&case[1])
    );
    println!("    let attrs = serde_json::json!({{\"id\": \"1\"}});");
    println!("    let user = crate::User::new(attrs.as_object().unwrap()).with_url({url:?});");
    let not = if js == &Value::Bool(true) { "" } else { "!" };
    println!("    assert!({not}crate::FeatureSet::new().run(&exp, &user).in_experiment);");
    println!("}}");
}

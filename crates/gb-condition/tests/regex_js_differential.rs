//! `JsRegex` against JavaScript itself: random patterns (valid and not) over the syntax the
//! parser handles, with and without `i`, each tested on random haystacks, in Node
//! (`new RegExp(p, flags).test(s)`, the authority) and here. A pattern JavaScript rejects must
//! be `RegexError::Invalid` here and the reverse; a pattern both accept must give the same
//! answer on every haystack. Patterns refused as `Unsupported` (lookaround, backreferences)
//! or too large fail closed by design and are not compared.
//!
//! Needs `node` on the PATH: without it the test says so and passes, except under
//! `CI=true`, where it fails.

#![cfg(feature = "regex")]

use core::time::Duration;
use std::io::Write;
use std::process::{Command, Stdio};

use gb_condition::{JsRegex, RegexError};
use serde_json::{Value, json};

const TOKENS: &[&str] = &[
    "a", "b", "A", "B", "é", "É", "ſ", "s", "k", "K", "\u{212a}", "σ", "ς", "Σ", "ǅ", "ß", "ẞ",
    "😀", "1", "-", ".", " ", "\\d", "\\w", "\\s", "\\b", "\\B", "\\D", "\\W", "\\S", "\\x41",
    "\\xe9", "\\u00C9", "\\uD83D", "\\uDE00", "\\0", "\\01", "\\101", "\\8", "\\c", "\\cA", "\\c1",
    "\\k", "\\-", "\\]", "\\.", "\\/", "\\e", "[", "]", "[^", "{", "}", "{2}", "{1,2}", "{2,}",
    "{,2}", "{2,1}", "*", "+", "?", "*?", "+?", "(", ")", "(?:", "(?<n>", "|", "^", "$", "a-z",
    "A-Z", "\\", "[a-c]", "[^a]", "[\\w-]", "[\\d-z]", "[z-a]", "[]", "[^]", "[\\b]", "[\\1]",
    "[\\c_]", "(a|b)",
];

const HAY: &[&str] = &[
    "a", "b", "A", "B", "é", "É", "ſ", "s", "S", "k", "K", "\u{212a}", "σ", "ς", "Σ", "ǅ", "ǆ",
    "Ǆ", "ß", "ẞ", "😀", "😁", "1", "8", "-", "\n", " ", "\u{a0}", "{", "}", "[", "]", "\\",
    "\u{1}", "\0", "c", "_", "z", "\u{8}", "A1",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next() % from.len()]
    }
}

const NODE_SCRIPT: &str = r#"
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(([p, flags, hays]) => {
    let r;
    try { r = new RegExp(p, flags); } catch (e) { return null; }
    return hays.map((h) => r.test(h));
  });
  process.stdout.write(JSON.stringify(out));
});
"#;

fn run_node(input: &Value) -> Option<Value> {
    let mut child = match Command::new("node")
        .arg("-e")
        .arg(NODE_SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "node is needed for the JS regex differential test: {e}"
            );
            eprintln!("node not found: JS regex differential test skipped");
            return None;
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.to_string().as_bytes())
        .expect("write to node");
    drop(stdin);
    // Read the answer on a thread (it is larger than a pipe holds), waiting at most 120 s.
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill").arg(id.to_string()).status();
        panic!("node did not answer within 120 s");
    };
    let out = out.expect("node output");
    assert!(out.status.success(), "node failed");
    Some(serde_json::from_slice(&out.stdout).expect("node JSON"))
}

#[test]
fn random_patterns_match_as_in_javascript() {
    let mut rng = Rng(0x005e_ed0f_2026);
    let mut cases = Vec::new();
    for n in 0..4000 {
        let len = 1 + rng.next() % 7;
        let pattern: String = (0..len).map(|_| rng.pick(TOKENS)).collect();
        let hays: Vec<String> = (0..10)
            .map(|_| (0..rng.next() % 5).map(|_| rng.pick(HAY)).collect())
            .collect();
        cases.push((pattern, n % 2 == 1, hays));
    }
    let input: Value = cases
        .iter()
        .map(|(p, ci, h)| json!([p, if *ci { "i" } else { "" }, h]))
        .collect();
    let Some(js) = run_node(&input) else { return };
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for ((pattern, ci, hays), want) in cases.iter().zip(js.as_array().expect("array")) {
        let got = match JsRegex::new(pattern, *ci) {
            Ok(r) => Some(
                hays.iter()
                    .map(|h| Value::Bool(r.is_match(h)))
                    .collect::<Vec<_>>(),
            ),
            Err(RegexError::Invalid(_)) => None,
            Err(_) => continue,
        };
        let want = want.as_array().cloned();
        if got != want {
            mismatches.push(format!(
                "/{pattern}/{} on {hays:?}: rust {got:?}, js {want:?}",
                if *ci { "i" } else { "" }
            ));
        }
        compared += 1;
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(compared > 3500, "only {compared} patterns compared");
}

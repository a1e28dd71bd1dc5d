//! JavaScript regular expressions on a linear-time engine with bounded compile cost.
//!
//! Patterns are parsed as JavaScript reads them (no `u` flag, with the web-compatibility
//! grammar of Annex B: UTF-16 units, legacy octal and identity escapes, a `{` that is not a
//! quantifier is a literal, ASCII `\d \w \b`, JavaScript's `\s`, `.` excluding every line
//! terminator) by our own parser, once, when a condition is compiled. Lookaround and
//! backreferences cannot run in linear time; such a pattern is reported as
//! [`RegexError::Unsupported`] and the condition holding it fails closed.
//!
//! A pattern compiles to a Thompson NFA, built directly with `regex-automata`'s NFA builder
//! (no regex syntax crate, no Unicode tables beyond `core`'s case mapping; at most
//! [`REGEX_SIZE_LIMIT`] bytes, so compile time is
//! bounded per pattern) and matches with a lazy DFA: states are built while matching, into a
//! cache of at most [`REGEX_CACHE_LIMIT`] bytes that is cleared and refilled when full, so
//! matching stays linear in the haystack (times the NFA size) whatever the pattern. Every
//! pattern of a payload is charged against one [`RegexBudget`]; a pattern over it is refused
//! with [`RegexError::OverBudget`] and only the condition holding it is disabled.
//!
//! Matching takes `&self`: the cache is taken from a small pool and given back (no lock held
//! while matching). After the first match on a thread the pool hands out an existing cache, so
//! matching allocates nothing; two evaluations of one pattern at the same instant allocate a
//! second cache once, which the pool then keeps.
//!
//! JavaScript without the `u` flag matches UTF-16 code units: characters outside the BMP are
//! spelled as two placeholder code points in the pattern and, when it holds such a character,
//! in the haystack (see `units`); a haystack without them is matched as it is, without
//! allocating. Its `i` flag compares `Canonicalize(ch)` (see `fold`): a literal or class
//! matches every unit with the same canonical form, computed from `core`'s case mapping.
//!
//! Without the `regex` cargo feature there is no engine: [`JsRegex::new`] returns
//! [`RegexError::Disabled`] and conditions using `$regex` fail closed with a warning.

mod budget;
#[cfg(feature = "regex")]
mod fold;
#[cfg(feature = "regex")]
mod nfa;
#[cfg(feature = "regex")]
mod parse;
#[cfg(feature = "regex")]
mod units;

use alloc::string::String;

pub use budget::{REGEX_CACHE_LIMIT, REGEX_PAYLOAD_BUDGET, REGEX_SIZE_LIMIT, RegexBudget};

/// Why a pattern was not compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexError {
    /// Valid JavaScript that no linear-time engine can run (lookaround, backreferences).
    Unsupported(String),
    /// Not a valid pattern.
    Invalid(String),
    /// The pattern's automaton would exceed [`REGEX_SIZE_LIMIT`] bytes.
    TooLarge {
        /// The limit it was compiled with, in bytes.
        limit: usize,
    },
    /// The payload's [`RegexBudget`] is spent; the pattern was not compiled.
    OverBudget {
        /// What the budget had left, in bytes.
        remaining: usize,
    },
    /// This build has no regex engine (the `regex` cargo feature is off).
    Disabled,
}

impl core::fmt::Display for RegexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RegexError::Unsupported(why) => {
                write!(f, "uses {why}, which cannot run in linear time")
            }
            RegexError::Invalid(why) => write!(f, "is not a valid pattern: {why}"),
            RegexError::TooLarge { limit } => {
                write!(f, "would compile to more than {limit} bytes")
            }
            RegexError::OverBudget { remaining } => write!(
                f,
                "was not compiled: the payload's regex budget is spent ({remaining} bytes left)"
            ),
            RegexError::Disabled => f.write_str("was not compiled: this build has no regex engine"),
        }
    }
}

/// A compiled JavaScript regular expression.
///
/// Compiled once; matching takes `&self`, no lock and (after the first match) no allocation.
pub struct JsRegex {
    #[cfg(feature = "regex")]
    engine: alloc::boxed::Box<engine::Engine>,
    #[cfg(not(feature = "regex"))]
    never: core::convert::Infallible,
}

/// Compiled conditions are shared across threads: a pattern must stay `Send + Sync`.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<JsRegex>();
};

impl core::fmt::Debug for JsRegex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("JsRegex")
    }
}

impl JsRegex {
    /// Compiles a JavaScript pattern (`i` flag when `case_insensitive`) with a budget of its
    /// own ([`REGEX_PAYLOAD_BUDGET`]).
    pub fn new(js: &str, case_insensitive: bool) -> Result<JsRegex, RegexError> {
        Self::with_budget(js, case_insensitive, &mut RegexBudget::default())
    }

    /// Compiles a JavaScript pattern, charging what it costs to `budget`.
    pub fn with_budget(
        js: &str,
        case_insensitive: bool,
        budget: &mut RegexBudget,
    ) -> Result<JsRegex, RegexError> {
        #[cfg(feature = "regex")]
        {
            let pattern = parse::parse(js, case_insensitive)?;
            let engine = engine::Engine::new(&pattern, budget)?;
            Ok(JsRegex {
                engine: alloc::boxed::Box::new(engine),
            })
        }
        #[cfg(not(feature = "regex"))]
        {
            let _ = (js, case_insensitive, budget);
            Err(RegexError::Disabled)
        }
    }

    /// Whether the pattern matches anywhere in `haystack` (JavaScript `RegExp.test`).
    pub fn is_match(&self, haystack: &str) -> bool {
        #[cfg(feature = "regex")]
        {
            if units::needs_units(haystack) {
                return self.engine.is_match(&units::to_units(haystack));
            }
            self.engine.is_match(haystack)
        }
        #[cfg(not(feature = "regex"))]
        {
            let _ = haystack;
            match self.never {}
        }
    }

    /// Heap bytes this pattern may use at most (its NFA plus its largest match cache).
    pub fn max_memory(&self) -> usize {
        #[cfg(feature = "regex")]
        {
            self.engine.charge
        }
        #[cfg(not(feature = "regex"))]
        {
            match self.never {}
        }
    }
}

#[cfg(feature = "regex")]
mod engine {
    use alloc::boxed::Box;
    use alloc::format;

    use regex_automata::hybrid::dfa::{Cache, DFA};
    use regex_automata::util::pool::Pool;
    use regex_automata::{Input, MatchKind};

    use super::parse::Node;
    use super::{REGEX_CACHE_LIMIT, REGEX_SIZE_LIMIT, RegexBudget, RegexError};

    type MakeCache = Box<dyn Fn() -> Cache + Send + Sync>;

    /// A lazy DFA and the pool of its match caches.
    pub(super) struct Engine {
        dfa: DFA,
        caches: Pool<Cache, MakeCache>,
        /// What the pattern was charged: its NFA plus its largest cache.
        pub(super) charge: usize,
    }

    impl Engine {
        pub(super) fn new(pattern: &Node, budget: &mut RegexBudget) -> Result<Engine, RegexError> {
            let left = budget.remaining();
            if left < REGEX_CACHE_LIMIT {
                return Err(RegexError::OverBudget { remaining: left });
            }
            // The NFA may use what the budget has left after its cache, up to the
            // per-pattern limit; a failure on the limit is charged the limit (the work done).
            let limit = REGEX_SIZE_LIMIT.min(left - REGEX_CACHE_LIMIT);
            let nfa = super::nfa::build(pattern, limit).map_err(|e| {
                budget.charge(limit);
                match e.size_limit() {
                    // Cut short by what the payload had left, not by the pattern limit.
                    Some(_) if limit < REGEX_SIZE_LIMIT => {
                        RegexError::OverBudget { remaining: left }
                    }
                    Some(limit) => RegexError::TooLarge { limit },
                    None => RegexError::Invalid(format!("{e}")),
                }
            })?;
            let dfa = DFA::builder()
                .configure(
                    DFA::config()
                        .match_kind(MatchKind::LeftmostFirst)
                        .cache_capacity(REGEX_CACHE_LIMIT)
                        .skip_cache_capacity_check(true),
                )
                .build_from_nfa(nfa)
                .map_err(|e| {
                    budget.charge(limit);
                    RegexError::Invalid(format!("{e}"))
                })?;
            let nfa = dfa.get_nfa();
            // The cache's floor (see `minimum_cache_capacity` in regex-automata): five states
            // of the widest alphabet plus the sparse sets and state sets over the NFA.
            let floor = 5 * 4 * (1usize << dfa.byte_classes().stride2()) + 20 * nfa.states().len();
            let charge = nfa.memory_usage() + REGEX_CACHE_LIMIT.max(floor);
            if charge > left {
                budget.charge(limit);
                return Err(RegexError::OverBudget { remaining: left });
            }
            budget.charge(charge);
            let maker = dfa.clone();
            let make: MakeCache = Box::new(move || maker.create_cache());
            Ok(Engine {
                dfa,
                caches: Pool::new(make),
                charge,
            })
        }

        pub(super) fn is_match(&self, haystack: &str) -> bool {
            let mut cache = self.caches.get();
            // The lazy DFA gives up only when configured to (it is not) or on quit bytes
            // (there are none: `\b` is ASCII); an error would be a non-match.
            matches!(
                self.dfa
                    .try_search_fwd(&mut cache, &Input::new(haystack).earliest(true)),
                Ok(Some(_))
            )
        }
    }
}

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        JsRegex::new(p, false).expect("compiles").is_match(s)
    }

    #[test]
    fn javascript_classes_are_ascii() {
        assert!(m("^\\d+$", "123"));
        assert!(!m("^\\d+$", "١٢٣"));
        assert!(m("\\bfoo\\b", "a foo b"));
        assert!(m("^a.c$", "abc"));
        assert!(!m("^a.c$", "a\rc"));
    }

    #[test]
    fn javascript_space_is_an_explicit_class() {
        assert!(m("^\\s$", "\u{a0}"));
        assert!(m("^\\s$", "\u{feff}"));
        assert!(!m("^\\s$", "\u{85}"));
        assert!(m("^[\\s\\d]+$", " 1\t2"));
        assert!(m("^[^\\s]+$", "abc"));
        assert!(!m("^[^\\s]+$", "a c"));
        assert!(m("^[\\S]$", "x"));
        assert!(!m("^\\S$", " "));
        assert!(m("^[\\D]$", "x") && !m("^[\\D]$", "1"));
    }

    #[test]
    fn case_folding_is_unicode() {
        assert!(JsRegex::new("^é$", true).expect("compiles").is_match("É"));
    }

    #[test]
    fn size_limit_and_budget() {
        assert!(matches!(
            JsRegex::new("(\\w{1000}){1000}", false),
            Err(RegexError::TooLarge { .. })
        ));
        let mut b = RegexBudget::new(REGEX_CACHE_LIMIT - 1);
        assert!(matches!(
            JsRegex::with_budget("a", false, &mut b),
            Err(RegexError::OverBudget { .. })
        ));
        let mut b = RegexBudget::new(1 << 20);
        let r = JsRegex::with_budget("abc", false, &mut b).expect("compiles");
        assert_eq!(b.remaining(), (1 << 20) - r.max_memory());
    }

    #[test]
    fn literal_braces_and_slashes() {
        assert!(m("a{", "xa{"));
        assert!(m("a{2}", "aa"));
        assert!(m("^http:\\/\\/", "http://x"));
        assert!(m("[^]", "x"));
        assert!(!m("[]", "x"));
    }

    #[test]
    fn lookaround_and_backreferences_are_unsupported() {
        assert!(matches!(
            JsRegex::new("a(?=b)", false),
            Err(RegexError::Unsupported(_))
        ));
        assert!(matches!(
            JsRegex::new("(a)\\1", false),
            Err(RegexError::Unsupported(_))
        ));
        assert!(matches!(
            JsRegex::new("(abc", false),
            Err(RegexError::Invalid(_))
        ));
    }

    /// JS without the `u` flag matches UTF-16 units: `/^..$/.test("𐐀")` and
    /// `/[😀]/.test("\ud83d…")` are true, `/^.$/.test("𐐀")` is false (checked in Node 20).
    #[test]
    fn astral_characters_are_two_units() {
        assert!(m("^..$", "𐐀"));
        assert!(!m("^.$", "𐐀"));
        assert!(!m("^[^a]$", "😀"));
        assert!(m("^\\S\\S$", "😀"));
        assert!(m("😀+", "😀"));
        assert!(m("\\uD83D", "😀"));
        assert!(m("\\uD83D\\uDE00", "😀"));
        assert!(m("[😀]", "x😀"));
        assert!(m("^a😀b$", "a😀b"));
    }

    /// JS `i` compares `Canonicalize(ch)` (toUpperCase, one unit, never non-ASCII to
    /// ASCII): `/k/i` does not match the Kelvin sign, `/s/i` not `ſ`, `/ß/i` not `ẞ`,
    /// `/σ/i` does match `ς` (checked in Node 20).
    #[test]
    fn case_insensitive_follows_javascript_canonicalize() {
        let i = |p: &str, s: &str| JsRegex::new(p, true).expect("compiles").is_match(s);
        assert!(!i("k", "\u{212a}"));
        assert!(i("\u{212a}", "\u{212a}"));
        assert!(!i("s", "ſ"));
        assert!(!i("ß", "ẞ"));
        assert!(!i("å", "\u{212b}"));
        assert!(!i("𐐀", "𐐨"));
        assert!(i("σ", "ς"));
        assert!(i("ǅ", "ǆ"));
        assert!(i("K", "k"));
    }

    #[test]
    fn anchored_patterns() {
        assert!(m("^ab", "abc"));
        assert!(!m("^ab", "cab"));
        assert!(m("^a|b", "cb"));
        assert!(!m("^a|^b", "cab"));
        assert!(m("\\b^a", "a"));
        assert!(m("(?:^a)+", "aa"));
        assert!(m("(?:^a)?b", "cb"));
        assert!(m("$", "x"));
    }

    #[test]
    fn case_insensitive() {
        assert!(
            JsRegex::new("^HELLO", true)
                .expect("compiles")
                .is_match("hello world")
        );
    }
}

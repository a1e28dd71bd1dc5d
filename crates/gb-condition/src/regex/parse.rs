//! JavaScript pattern syntax without the `u` flag (ECMAScript 22.2.1 with Annex B.1.2), read
//! as JavaScript reads it: UTF-16 units, legacy octal and identity escapes, `{` and `]` as
//! literals where they cannot be quantifiers or class ends, ASCII `\d \w \b`, JavaScript's
//! `\s`, and with `i` the units each unit matches under `Canonicalize` ([`super::fold`]).
//!
//! The result is a [`Node`] tree whose character sets are UTF-16 unit ranges; [`super::nfa`]
//! turns it into an automaton. Lookaround and backreferences are reported as
//! [`RegexError::Unsupported`]; anything JavaScript rejects is [`RegexError::Invalid`].

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::fold::close_over_case;
use super::{REGEX_SIZE_LIMIT, RegexError};

/// Ranges of UTF-16 units.
type Units = Vec<(u16, u16)>;

/// Groups may nest this deep (the depth of the tree, and of compiling it, is bounded by it).
const MAX_NESTING: usize = 64;

/// Units that case folding (`i`) may look at in one pattern (each is two case-table lookups),
/// so that a pattern of thousands of wide classes cannot make compiling slow; past it the
/// pattern is refused as too large.
const MAX_FOLD_WORK: usize = 1 << 20;

/// A zero-width assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Assertion {
    /// `^` (no `m` flag: the start of the input).
    Start,
    /// `$` (the end of the input).
    End,
    /// `\b`, on ASCII word units.
    WordBoundary,
    /// `\B`.
    NotWordBoundary,
}

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Node {
    /// One unit from a set of UTF-16 unit ranges (unsorted, possibly overlapping).
    Set(Vec<(u16, u16)>),
    /// Each in turn.
    Concat(Vec<Node>),
    /// The first that matches.
    Alternation(Vec<Node>),
    /// A zero-width assertion.
    Assert(Assertion),
    /// `node{min,max}` (`max` `None`: unbounded). Laziness does not change whether a
    /// pattern matches, so it is not kept.
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// JavaScript's `\s` (WhiteSpace and LineTerminator), as unit ranges.
const SPACE: [(u16, u16); 10] = [
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
];
const DIGIT: [(u16, u16); 1] = [(0x30, 0x39)];
const WORD: [(u16, u16); 4] = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
/// What `.` does not match: the line terminators.
const LINE_TERMINATORS: [(u16, u16); 3] = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)];

/// The complement of `set` among all units.
pub(super) fn negate(set: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let set = normalize(set);
    let mut out = Vec::with_capacity(set.len() + 1);
    let mut next = 0u32;
    for (lo, hi) in set {
        if u32::from(lo) > next {
            out.push((next as u16, lo - 1));
        }
        next = u32::from(hi) + 1;
    }
    if next <= 0xFFFF {
        out.push((next as u16, 0xFFFF));
    }
    out
}

/// `set` sorted, with overlapping and adjacent ranges merged.
pub(super) fn normalize(set: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut v = set.to_vec();
    crate::sort::sort_unstable_by(&mut v, |a, b| a.0 < b.0);
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Parses a JavaScript pattern (`i` flag when `ci`).
pub(super) fn parse(pattern: &str, ci: bool) -> Result<Node, RegexError> {
    let units: Vec<u16> = pattern.encode_utf16().collect();
    // With a named group anywhere, `\k` must be a named backreference (Annex B's `[+N]`).
    let named_groups = has_named_group(&units);
    let mut p = Parser {
        s: &units,
        i: 0,
        ci,
        depth: 0,
        named_groups,
        fold_work: 0,
        folded: BTreeMap::new(),
    };
    let node = p.disjunction()?;
    if p.i < p.s.len() {
        return Err(invalid("unmatched ')'"));
    }
    Ok(node)
}

/// Whether the pattern has a `(?<name>` group (outside classes and escapes).
fn has_named_group(s: &[u16]) -> bool {
    let (mut i, mut in_class) = (0, false);
    while let Some(&u) = s.get(i) {
        match ascii(u) {
            Some(b'\\') => i += 1,
            Some(b'[') => in_class = true,
            Some(b']') => in_class = false,
            Some(b'(')
                if !in_class
                    && is(s.get(i + 1).copied(), b'?')
                    && is(s.get(i + 2).copied(), b'<')
                    && !is(s.get(i + 3).copied(), b'=')
                    && !is(s.get(i + 3).copied(), b'!') =>
            {
                return true;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn invalid(why: &str) -> RegexError {
    RegexError::Invalid(String::from(why))
}

struct Parser<'a> {
    s: &'a [u16],
    i: usize,
    ci: bool,
    depth: usize,
    named_groups: bool,
    fold_work: usize,
    /// Sets already closed over case in this pattern, and their closures (normalized): a
    /// pattern repeats the same few sets (`.`, `\S`, a letter) many times.
    folded: BTreeMap<Units, Units>,
}

/// One member of a class: a unit, or a set (`\d`, `\s`, ...).
enum ClassAtom {
    Unit(u16),
    Set(Vec<(u16, u16)>),
}

fn is(u: Option<u16>, c: u8) -> bool {
    u == Some(u16::from(c))
}

fn ascii(u: u16) -> Option<u8> {
    u8::try_from(u).ok().filter(u8::is_ascii)
}

fn octal(u: Option<u16>) -> Option<u16> {
    u.filter(|u| (0x30..=0x37).contains(u)).map(|u| u - 0x30)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u16> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u16> {
        self.s.get(self.i + k).copied()
    }

    fn disjunction(&mut self) -> Result<Node, RegexError> {
        let mut alternatives = vec![self.alternative()?];
        while is(self.peek(), b'|') {
            self.i += 1;
            alternatives.push(self.alternative()?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Alternation(alternatives)
        })
    }

    fn alternative(&mut self) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        while let Some(u) = self.peek() {
            if u == u16::from(b'|') || u == u16::from(b')') {
                break;
            }
            items.push(self.term()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Concat(items)
        })
    }

    fn term(&mut self) -> Result<Node, RegexError> {
        let assertion = match self.peek().and_then(ascii) {
            Some(b'^') => Some((1, Assertion::Start)),
            Some(b'$') => Some((1, Assertion::End)),
            Some(b'\\') if is(self.peek_at(1), b'b') => Some((2, Assertion::WordBoundary)),
            Some(b'\\') if is(self.peek_at(1), b'B') => Some((2, Assertion::NotWordBoundary)),
            _ => None,
        };
        // An assertion cannot be quantified: a quantifier after it is "nothing to repeat",
        // found by `atom` on the next term.
        if let Some((len, a)) = assertion {
            self.i += len;
            return Ok(Node::Assert(a));
        }
        let atom = self.atom()?;
        let (min, max) = match self.peek().and_then(ascii) {
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'?') => (0, Some(1)),
            Some(b'{') => match self.braced_quantifier() {
                Some((len, min, max)) => {
                    self.i += len - 1;
                    (min, max)
                }
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        self.i += 1;
        if is(self.peek(), b'?') {
            self.i += 1; // lazy: the same matches
        }
        if max.is_some_and(|max| max < min) {
            return Err(invalid("numbers out of order in {} quantifier"));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    /// `{n}`, `{n,}` or `{n,m}` at the cursor: its length and bounds (saturating).
    fn braced_quantifier(&self) -> Option<(usize, u32, Option<u32>)> {
        let mut k = 1;
        let number = |k: &mut usize| {
            let start = *k;
            let mut v = 0u32;
            while let Some(d) = self.peek_at(*k).filter(|u| (0x30..=0x39).contains(u)) {
                v = v.saturating_mul(10).saturating_add(u32::from(d - 0x30));
                *k += 1;
            }
            (*k > start).then_some(v)
        };
        let min = number(&mut k)?;
        let max = if is(self.peek_at(k), b',') {
            k += 1;
            number(&mut k)
        } else {
            Some(min)
        };
        is(self.peek_at(k), b'}').then_some((k + 1, min, max))
    }

    fn atom(&mut self) -> Result<Node, RegexError> {
        let Some(u) = self.peek() else {
            return Err(invalid("unexpected end of pattern"));
        };
        match ascii(u) {
            Some(b'*' | b'+' | b'?') => Err(invalid("nothing to repeat")),
            Some(b'{') if self.braced_quantifier().is_some() => Err(invalid("nothing to repeat")),
            Some(b'.') => {
                self.i += 1;
                Ok(Node::Set(negate(&LINE_TERMINATORS)))
            }
            Some(b'(') => self.group(),
            Some(b'[') => {
                self.i += 1;
                self.class()
            }
            Some(b'\\') => {
                self.i += 1;
                self.atom_escape()
            }
            _ => {
                self.i += 1;
                self.unit(u)
            }
        }
    }

    fn group(&mut self) -> Result<Node, RegexError> {
        self.i += 1;
        if is(self.peek(), b'?') {
            let (a, b) = (self.peek_at(1), self.peek_at(2));
            if is(a, b'=') || is(a, b'!') || (is(a, b'<') && (is(b, b'=') || is(b, b'!'))) {
                return Err(RegexError::Unsupported(String::from("lookaround")));
            }
            if is(a, b':') {
                self.i += 2;
            } else if is(a, b'<') {
                self.i += 2;
                self.group_name()?;
            } else {
                return Err(invalid("invalid group"));
            }
        }
        if self.depth >= MAX_NESTING {
            return Err(invalid("groups nested too deeply"));
        }
        self.depth += 1;
        let inner = self.disjunction()?;
        self.depth -= 1;
        if !is(self.peek(), b')') {
            return Err(invalid("unterminated group"));
        }
        self.i += 1;
        Ok(inner)
    }

    /// `name>` of a named group: an identifier (`$`, `_`, letters, digits after the first).
    fn group_name(&mut self) -> Result<(), RegexError> {
        let start = self.i;
        while let Some(u) = self.peek() {
            if is(Some(u), b'>') {
                break;
            }
            let ok = match ascii(u) {
                Some(c) => {
                    c == b'$'
                        || c == b'_'
                        || c.is_ascii_alphabetic()
                        || (c.is_ascii_digit() && self.i > start)
                }
                // Non-ASCII identifier characters (not checked further).
                None => true,
            };
            if !ok {
                return Err(invalid("invalid capture group name"));
            }
            self.i += 1;
        }
        if self.i == start || !is(self.peek(), b'>') {
            return Err(invalid("invalid capture group name"));
        }
        self.i += 1;
        Ok(())
    }

    /// A literal unit.
    fn unit(&mut self, u: u16) -> Result<Node, RegexError> {
        self.set(vec![(u, u)])
    }

    /// A set, closed over case under `i`.
    fn set(&mut self, mut set: Vec<(u16, u16)>) -> Result<Node, RegexError> {
        self.close(&mut set)?;
        Ok(Node::Set(set))
    }

    /// Under `i`, adds the units matching members of `set`, within [`MAX_FOLD_WORK`].
    fn close(&mut self, set: &mut Vec<(u16, u16)>) -> Result<(), RegexError> {
        if self.ci {
            if let Some(closed) = self.folded.get(set.as_slice()) {
                // Copying the closure is the work.
                self.fold_work += closed.len();
                set.clone_from(closed);
            } else {
                let key = set.clone();
                self.fold_work += close_over_case(set);
                *set = normalize(set);
                self.fold_work += set.len();
                self.folded.insert(key, set.clone());
            }
            if self.fold_work > MAX_FOLD_WORK {
                return Err(RegexError::TooLarge {
                    limit: REGEX_SIZE_LIMIT,
                });
            }
        }
        Ok(())
    }

    /// After `\` outside a class.
    fn atom_escape(&mut self) -> Result<Node, RegexError> {
        let Some(u) = self.peek() else {
            return Err(invalid("\\ at end of pattern"));
        };
        match ascii(u) {
            Some(b'1'..=b'9') => Err(RegexError::Unsupported(String::from("backreference"))),
            Some(b'k') if self.named_groups => {
                if is(self.peek_at(1), b'<') {
                    Err(RegexError::Unsupported(String::from("named backreference")))
                } else {
                    Err(invalid("invalid named reference"))
                }
            }
            Some(b'd' | b'D' | b's' | b'S' | b'w' | b'W') => {
                self.i += 1;
                self.set(class_escape(u))
            }
            // `\c` without a control letter is a backslash; the `c` is read next.
            Some(b'c')
                if !self
                    .peek_at(1)
                    .and_then(ascii)
                    .is_some_and(|c| c.is_ascii_alphabetic()) =>
            {
                self.unit(u16::from(b'\\'))
            }
            _ => {
                let v = self.character_escape(false);
                self.unit(v)
            }
        }
    }

    /// A CharacterEscape at the cursor (after `\`; `in_class` for the class-only forms).
    fn character_escape(&mut self, in_class: bool) -> u16 {
        let Some(u) = self.peek() else { return 0 };
        self.i += 1;
        match ascii(u) {
            Some(b'f') => 0x0C,
            Some(b'n') => 0x0A,
            Some(b'r') => 0x0D,
            Some(b't') => 0x09,
            Some(b'v') => 0x0B,
            Some(b'b') if in_class => 0x08,
            Some(b'c') => {
                // A control letter (and in a class, a digit or `_`).
                match self.peek().and_then(ascii) {
                    Some(c)
                        if c.is_ascii_alphabetic()
                            || (in_class && (c.is_ascii_digit() || c == b'_')) =>
                    {
                        self.i += 1;
                        u16::from(c % 32)
                    }
                    _ => {
                        // Not a control escape: the backslash itself, `c` read next.
                        self.i -= 1;
                        u16::from(b'\\')
                    }
                }
            }
            Some(b'0'..=b'7') => {
                // `\0` (not before a digit) and legacy octal escapes: up to three digits,
                // at most 0o377.
                let first = u - 0x30;
                if first == 0 && !self.peek().is_some_and(|d| (0x30..=0x39).contains(&d)) {
                    return 0;
                }
                let mut v = first;
                if let Some(d) = octal(self.peek()) {
                    v = v * 8 + d;
                    self.i += 1;
                    if first <= 3
                        && let Some(d) = octal(self.peek())
                    {
                        v = v * 8 + d;
                        self.i += 1;
                    }
                }
                v
            }
            Some(b'x') => match self.hex(2) {
                Some(v) => v,
                None => u,
            },
            Some(b'u') => match self.hex(4) {
                Some(v) => v,
                None => u,
            },
            // Identity escape: the unit itself.
            _ => u,
        }
    }

    /// `n` hex digits at the cursor (consumed only if all are there).
    fn hex(&mut self, n: usize) -> Option<u16> {
        let mut v = 0u16;
        for k in 0..n {
            let d = self
                .peek_at(k)
                .and_then(ascii)
                .and_then(|c| char::from(c).to_digit(16))?;
            v = v * 16 + d as u16;
        }
        self.i += n;
        Some(v)
    }

    /// After `[`.
    fn class(&mut self) -> Result<Node, RegexError> {
        let negated = is(self.peek(), b'^');
        if negated {
            self.i += 1;
        }
        let mut set = Vec::new();
        loop {
            let Some(u) = self.peek() else {
                return Err(invalid("unterminated character class"));
            };
            if u == u16::from(b']') {
                self.i += 1;
                break;
            }
            let a = self.class_atom()?;
            if is(self.peek(), b'-') && self.peek_at(1).is_some_and(|n| n != u16::from(b']')) {
                self.i += 1;
                let b = self.class_atom()?;
                match (a, b) {
                    (ClassAtom::Unit(lo), ClassAtom::Unit(hi)) => {
                        if lo > hi {
                            return Err(invalid("range out of order in character class"));
                        }
                        set.push((lo, hi));
                    }
                    // Annex B: a class escape in a range is itself, `-` and the other end.
                    (a, b) => {
                        for atom in [a, ClassAtom::Unit(u16::from(b'-')), b] {
                            match atom {
                                ClassAtom::Unit(u) => set.push((u, u)),
                                ClassAtom::Set(s) => set.extend(s),
                            }
                        }
                    }
                }
                continue;
            }
            match a {
                ClassAtom::Unit(u) => set.push((u, u)),
                ClassAtom::Set(s) => set.extend(s),
            }
        }
        self.close(&mut set)?;
        Ok(Node::Set(if negated { negate(&set) } else { set }))
    }

    fn class_atom(&mut self) -> Result<ClassAtom, RegexError> {
        let Some(u) = self.peek() else {
            return Err(invalid("unterminated character class"));
        };
        self.i += 1;
        if u != u16::from(b'\\') {
            return Ok(ClassAtom::Unit(u));
        }
        let Some(e) = self.peek() else {
            return Err(invalid("\\ at end of pattern"));
        };
        Ok(match ascii(e) {
            Some(b'd' | b'D' | b's' | b'S' | b'w' | b'W') => {
                self.i += 1;
                ClassAtom::Set(class_escape(e))
            }
            Some(b'-') => {
                self.i += 1;
                ClassAtom::Unit(e)
            }
            Some(b'k') if self.named_groups => return Err(invalid("invalid escape")),
            _ => ClassAtom::Unit(self.character_escape(true)),
        })
    }
}

/// `\d \D \s \S \w \W` as unit ranges.
fn class_escape(u: u16) -> Vec<(u16, u16)> {
    match ascii(u) {
        Some(b'd') => DIGIT.to_vec(),
        Some(b'D') => negate(&DIGIT),
        Some(b's') => SPACE.to_vec(),
        Some(b'S') => negate(&SPACE),
        Some(b'w') => WORD.to_vec(),
        _ => negate(&WORD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Case folding looks at a bounded number of units per pattern: thousands of wide classes
    /// under `i` are refused when parsed, before seconds of folding.
    #[test]
    fn case_folding_work_is_bounded() {
        // Distinct wide classes: each is folded (about 2,500 units looked at).
        let distinct = |n: u32| -> String {
            (0..n)
                .map(|i| alloc::format!("[\\u{i:04x}-\\uffff]"))
                .collect()
        };
        assert!(parse(&distinct(500), false).is_ok());
        assert!(matches!(
            parse(&distinct(500), true),
            Err(RegexError::TooLarge { .. })
        ));
        assert!(parse(&distinct(300), true).is_ok());
        // The same class repeated is folded once (a hostile pattern of 200 `.` under `i`, found
        // by the `condition` fuzz target, took 107 ms to parse when each was folded again).
        assert!(parse(&"[\\0-\\uffff]".repeat(500), true).is_ok());
        assert!(parse(&".".repeat(5000), true).is_ok());
    }
}

//! How much regex compilation one payload may spend.

/// Upper bound on the NFA one pattern may compile to, in bytes.
///
/// Compile time is proportional to the NFA built, so this bounds the time one pattern costs.
pub const REGEX_SIZE_LIMIT: usize = 256 << 10;

/// Upper bound on the lazy-DFA cache of one pattern, in bytes (the cache is allocated as
/// matching needs it, never beyond this; a pattern whose smallest workable cache is larger is
/// charged that minimum instead).
pub const REGEX_CACHE_LIMIT: usize = 16 << 10;

/// The default regex budget of one payload, in bytes: every compiled pattern is charged its
/// NFA and the most its match cache can grow to; a pattern that fails on the size limit is
/// charged the limit it was tried with.
pub const REGEX_PAYLOAD_BUDGET: usize = 64 << 20;

/// What regex compilation may still spend, shared by every pattern of one payload.
///
/// Each compiled pattern is charged its memory (NFA plus the most its match cache can
/// grow to); a pattern over the per-pattern limit is charged the work spent finding that out.
/// Once the budget is spent, further patterns are refused with
/// [`RegexError::OverBudget`](crate::RegexError::OverBudget) without compiling anything, so
/// one payload's total regex compile time and memory are bounded whatever it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexBudget {
    left: usize,
}

impl RegexBudget {
    /// A budget of `bytes`.
    pub const fn new(bytes: usize) -> RegexBudget {
        RegexBudget { left: bytes }
    }

    /// What is left, in bytes.
    pub const fn remaining(&self) -> usize {
        self.left
    }

    /// Charges `bytes` (saturating at zero).
    #[cfg_attr(not(feature = "regex"), allow(dead_code))]
    pub(crate) fn charge(&mut self, bytes: usize) {
        self.left = self.left.saturating_sub(bytes);
    }
}

impl Default for RegexBudget {
    /// [`REGEX_PAYLOAD_BUDGET`].
    fn default() -> Self {
        RegexBudget::new(REGEX_PAYLOAD_BUDGET)
    }
}

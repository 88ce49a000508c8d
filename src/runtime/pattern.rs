//! A compiled regular expression and what matching it costs: shared by Expr's `matches` (Go's
//! RE2 syntax, `builtins/re2.rs`) and JSON Path's `match`/`search` (I-Regexp, `jsonpath`).

use super::budget::Budget;
use super::error::EvalResult;
use regex::{Regex, RegexBuilder};
use regex_automata::nfa::thompson::NFA;

/// Byte×state visits per step. A match may fall back to simulating the whole NFA on every
/// byte: about 20 ns per state and byte here (measured with `(?:[a-z]{1,50}){1,50}c`, 5,000
/// states, against 100 kB of `a`: 10 s), so a step of regex work costs at most about 80 ns,
/// near what evaluating an IR node costs.
const VISITS_PER_STEP: u64 = 4;

/// A compiled pattern and what matching costs per byte of input.
#[derive(Debug)]
pub struct Pattern {
    regex: Regex,
    /// States of the pattern's Thompson NFA: the worst-case work per byte scanned.
    states: u64,
}

impl Pattern {
    /// Compiles a pattern already in the `regex` crate's syntax, within `size_limit` bytes of
    /// compiled program (and `dfa_limit` bytes of lazy DFA cache, when given).
    pub fn new(
        translated: &str,
        size_limit: usize,
        dfa_limit: Option<usize>,
    ) -> Result<Pattern, regex::Error> {
        let mut builder = RegexBuilder::new(translated);
        builder.size_limit(size_limit);
        if let Some(limit) = dfa_limit {
            builder.dfa_size_limit(limit);
        }
        let regex = builder.build()?;
        let states = NFA::compiler()
            .configure(NFA::config().nfa_size_limit(Some(size_limit)))
            .build(translated)
            .map_err(|_| regex::Error::CompiledTooBig(size_limit))?
            .states()
            .len() as u64;
        Ok(Pattern { regex, states })
    }

    /// Whether the pattern matches somewhere in `haystack`, charged before it runs: the
    /// worst case of the engine is linear in the haystack times the automaton's size.
    pub fn is_match(&self, haystack: &str, budget: &mut Budget) -> EvalResult<bool> {
        let visits = (haystack.len() as u64).saturating_mul(self.states);
        budget.step(1 + visits / VISITS_PER_STEP)?;
        Ok(self.regex.is_match(haystack))
    }

    /// Matching without charging, for tests of a pattern's meaning.
    #[cfg(test)]
    pub fn matches(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }
}

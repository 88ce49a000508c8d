//! The constant `matches` patterns of one mapping, compiled at check time within a budget.
//!
//! `regex-bytes` bounds one compiled pattern, and compiling costs time and keeps memory in
//! proportion to the compiled size: a megabyte of short entries, each a different pattern of
//! a megabyte compiled, would take minutes and gigabytes. So all the patterns of a file share
//! [`FILE_FACTOR`] × `regex-bytes`, each is compiled once however often it is written, and
//! each is charged its compiled size rounded up to a power of four: it is first compiled
//! within [`MIN_CHARGE`] bytes, then four times that, and so on (a try over its limit stops
//! there, so the tries cost about what the last one does).

use crate::runtime::builtins::re2;
use crate::runtime::pattern::Pattern;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

/// The patterns of a file may compile to this many times `regex-bytes` together.
pub const FILE_FACTOR: usize = 64;

/// The least a pattern is charged, and the first size it is compiled within: `^[a-z]+$`
/// compiles to about 500 bytes.
const MIN_CHARGE: usize = 1 << 10;

pub struct Patterns {
    /// The limit of one pattern.
    pub regex_bytes: usize,
    compiled: RefCell<HashMap<String, Arc<Pattern>>>,
    /// Compiled bytes the file's patterns may still take.
    left: Cell<usize>,
}

/// Why a pattern was not compiled.
pub enum PatternError {
    /// Over `regex-bytes` on its own.
    TooBig,
    /// Over what the file's other patterns left of its budget.
    FileBudget,
    /// Not a valid pattern: the engine's message.
    Invalid(String),
}

impl Patterns {
    pub fn new(regex_bytes: usize) -> Self {
        Patterns {
            regex_bytes,
            compiled: RefCell::new(HashMap::new()),
            left: Cell::new(regex_bytes.saturating_mul(FILE_FACTOR)),
        }
    }

    /// The compiled pattern, shared with earlier uses of the same text.
    pub fn compile(&self, pattern: &str) -> Result<Arc<Pattern>, PatternError> {
        if let Some(re) = self.compiled.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let left = self.left.get();
        let limit = self.regex_bytes.min(left);
        let mut within = MIN_CHARGE.min(limit);
        loop {
            match re2::compile(pattern, within) {
                Ok(re) => {
                    let re = Arc::new(re);
                    self.left.set(left - within);
                    self.compiled
                        .borrow_mut()
                        .insert(pattern.to_string(), re.clone());
                    return Ok(re);
                }
                Err(regex::Error::CompiledTooBig(_)) if within < limit => {
                    within = within.saturating_mul(4).min(limit);
                }
                Err(regex::Error::CompiledTooBig(_)) if limit < self.regex_bytes => {
                    return Err(PatternError::FileBudget)
                }
                Err(regex::Error::CompiledTooBig(_)) => return Err(PatternError::TooBig),
                Err(e) => return Err(PatternError::Invalid(e.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_compiled_once_and_charged_by_size() {
        let patterns = Patterns::new(1 << 20);
        let full = patterns.left.get();
        let a = patterns.compile("^[a-z]+$").ok().expect("compiles");
        assert_eq!(full - patterns.left.get(), MIN_CHARGE, "a small pattern");
        let b = patterns.compile("^[a-z]+$").ok().expect("compiles");
        assert!(Arc::ptr_eq(&a, &b), "compiled once");
        assert_eq!(full - patterns.left.get(), MIN_CHARGE);
        // About 100 KiB compiled: charged the first power-of-four limit it fits.
        let before = patterns.left.get();
        patterns
            .compile("(?:[a-z]{1,50}){1,20}")
            .ok()
            .expect("compiles");
        let charged = before - patterns.left.get();
        assert!(
            (16 << 10..=1 << 20).contains(&charged) && charged.is_power_of_two(),
            "{charged}"
        );
        assert!(matches!(
            patterns.compile("[a-"),
            Err(PatternError::Invalid(_))
        ));
        assert!(matches!(
            patterns.compile("(?:[a-z]{1,1000}){1,1000}"),
            Err(PatternError::TooBig)
        ));
    }

    #[test]
    fn the_file_shares_one_budget() {
        let patterns = Patterns::new(64 << 10);
        let mut compiled = 0;
        let result = loop {
            match patterns.compile(&format!("(?:[a-z]{{1,50}}){{1,4}}{compiled}")) {
                Ok(_) => compiled += 1,
                Err(e) => break e,
            }
        };
        assert!(matches!(result, PatternError::FileBudget));
        assert!(
            (FILE_FACTOR..=FILE_FACTOR * 16).contains(&compiled),
            "{compiled}"
        );
        // What is left still serves small patterns.
        assert!(patterns.left.get() < 64 << 10);
    }
}

//! The per-record allowance of steps, string bytes and list items (LANGUAGE §6).

use super::error::{EvalError, EvalResult};
use crate::limits::Limits;

/// Counts the work done for one record and refuses what would exceed the limits.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    steps: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Budget { limits, steps: 0 }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Spends `n` steps (one per IR node, one per element a builtin visits).
    #[inline]
    pub fn step(&mut self, n: u64) -> EvalResult<()> {
        self.steps += n;
        if self.steps > self.limits.steps {
            return Err(EvalError::limit("steps", self.limits.steps));
        }
        Ok(())
    }

    /// Refuses a string of `bytes` bytes before it is built.
    #[inline]
    pub fn string(&self, bytes: usize) -> EvalResult<()> {
        if bytes > self.limits.string_bytes {
            return Err(EvalError::limit("string-bytes", self.limits.string_bytes));
        }
        Ok(())
    }

    /// Refuses a list of `items` items before it is built.
    #[inline]
    pub fn list(&self, items: usize) -> EvalResult<()> {
        if items > self.limits.list_items {
            return Err(EvalError::limit("list-items", self.limits.list_items));
        }
        Ok(())
    }
}

//! The per-record allowance of steps, memory, string bytes and list items (see SECURITY.md).

use super::error::{EvalError, EvalResult};
use crate::limits::Limits;

/// Counts the work done for one record and refuses what would exceed the limits.
///
/// `steps` bound CPU: one per IR node, plus work proportional to what a builtin, a regex or a
/// JSON Path scans. `memory` bounds allocation: every byte built for the record is charged
/// when it is allocated and never credited back, so the count is deterministic and also
/// bounds the time spent allocating.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    steps: u64,
    memory: usize,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            steps: 0,
            memory: 0,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Spends `n` steps (one per IR node, one per element a builtin visits).
    #[inline]
    pub fn step(&mut self, n: u64) -> EvalResult<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.steps {
            return Err(EvalError::limit("steps", self.limits.steps));
        }
        Ok(())
    }

    /// Charges `bytes` of allocation to `memory`, before they are allocated.
    #[inline]
    pub fn alloc(&mut self, bytes: usize) -> EvalResult<()> {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory > self.limits.memory {
            return Err(EvalError::limit("memory", self.limits.memory));
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

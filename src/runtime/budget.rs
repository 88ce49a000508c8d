//! The per-record allowance of steps, memory, string bytes and list items (see SECURITY.md).

use super::error::{EvalError, EvalResult};
use crate::limits::Limits;
use std::cmp::Ordering;

/// What comparing two strings costs in steps: one, and one per 16 bytes both share.
pub fn compare_cost(a: &str, b: &str) -> u64 {
    1 + (a.len().min(b.len()) / 16) as u64
}

/// The bytes one list item (a `Value`) takes, as `memory` charges them.
pub const ITEM_BYTES: usize = 32;

/// Counts the work done for one record and refuses what would exceed the limits.
///
/// `steps` bound CPU: one per IR node, plus work proportional to what a builtin, a regex or a
/// JSON Path scans. `memory` bounds allocation: every byte built for the record is charged
/// when it is allocated and never credited back, so the count is deterministic and also
/// bounds the time spent allocating.
///
/// It borrows the limits: made once per record, it copies nothing but its two counts.
#[derive(Debug)]
pub struct Budget<'l> {
    limits: &'l Limits,
    steps: u64,
    memory: usize,
}

/// What a [`Budget`] had counted at one point ([`Budget::mark`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    steps: u64,
    memory: usize,
}

impl<'l> Budget<'l> {
    pub fn new(limits: &'l Limits) -> Self {
        Budget {
            limits,
            steps: 0,
            memory: 0,
        }
    }

    /// The steps taken so far (the compiled evaluator's tests compare them with the walker's).
    #[cfg(test)]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The work counted so far, to go back to when the work is redone another way.
    #[inline]
    pub fn mark(&self) -> Mark {
        Mark {
            steps: self.steps,
            memory: self.memory,
        }
    }

    #[inline]
    pub fn rewind(&mut self, mark: Mark) {
        self.steps = mark.steps;
        self.memory = mark.memory;
    }

    pub fn limits(&self) -> &'l Limits {
        self.limits
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

    /// A string of `bytes` built while evaluating, made a value or written where it goes:
    /// within `string-bytes`, charged to `memory`.
    #[inline]
    pub fn string(&mut self, bytes: usize) -> EvalResult<()> {
        self.fits_string(bytes)?;
        self.alloc(bytes)
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

    /// Sorts `items` stably by `cmp`, which also says what each comparison cost in steps (more
    /// for long strings). Once the budget is spent, or `cmp` fails, the remaining comparisons
    /// are skipped and the first error is returned: a sort of long equal strings stops early.
    pub fn sort_by<T>(
        &mut self,
        items: &mut [T],
        mut cmp: impl FnMut(&T, &T) -> EvalResult<(Ordering, u64)>,
    ) -> EvalResult<()> {
        let mut failure = None;
        items.sort_by(|a, b| {
            if failure.is_some() {
                return Ordering::Equal;
            }
            match cmp(a, b).and_then(|(o, cost)| self.step(cost).map(|()| o)) {
                Ok(o) => o,
                Err(e) => {
                    failure = Some(e);
                    Ordering::Equal
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }

    /// Refuses a string of `bytes` bytes before it is built: over `string-bytes`, or more than
    /// `memory` has left. Only checks: `Value::string` charges it once built.
    #[inline]
    pub fn fits_string(&self, bytes: usize) -> EvalResult<()> {
        if bytes > self.limits.string_bytes {
            return Err(EvalError::limit("string-bytes", self.limits.string_bytes));
        }
        self.fits_memory(bytes)
    }

    /// Refuses a list of `items` items before it is built: over `list-items`, or more than
    /// `memory` has left. Only checks: `Value::list` charges it once built.
    #[inline]
    pub fn fits_list(&self, items: usize) -> EvalResult<()> {
        if items > self.limits.list_items {
            return Err(EvalError::limit("list-items", self.limits.list_items));
        }
        self.fits_memory(items.saturating_mul(ITEM_BYTES))
    }

    /// Refuses an allocation of `bytes` that `memory` has no room left for, or that no
    /// allocator could serve (with every limit raised to its maximum).
    #[inline]
    pub fn fits_memory(&self, bytes: usize) -> EvalResult<()> {
        if self.memory.saturating_add(bytes) > self.limits.memory || bytes > isize::MAX as usize {
            return Err(EvalError::limit("memory", self.limits.memory));
        }
        Ok(())
    }

    /// An empty vector with room for `items` list items, checked first; an allocation the
    /// system refuses is the `memory` limit, not an abort.
    pub fn vec<T>(&self, items: usize) -> EvalResult<Vec<T>> {
        self.fits_list(items)?;
        let mut v = Vec::new();
        v.try_reserve_exact(items)
            .map_err(|_| EvalError::limit("memory", self.limits.memory))?;
        Ok(v)
    }

    /// Room in `s` for `bytes` more, checked first, as [`Budget::vec`] does for lists.
    pub fn reserve(&self, s: &mut String, bytes: usize) -> EvalResult<()> {
        self.fits_string(bytes)?;
        s.try_reserve(bytes)
            .map_err(|_| EvalError::limit("memory", self.limits.memory))
    }
}

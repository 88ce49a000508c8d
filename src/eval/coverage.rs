//! Branch coverage for `scimap test --coverage`: which side of each branch point the evaluator
//! took. Recording is per thread and off unless a caller turned it on with [`record`]: `Ctx`
//! asks once per record, and an evaluation that is not recorded pays one `bool` test per
//! branch taken.

use crate::diagnostic::Span;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The kinds of branch point, each with two sides (reference §testing-coverage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Branch {
    /// `c ? a : b`, `if c { a } else { b }`: side 0 `a`, side 1 `b`.
    Conditional,
    /// `a and b`: side 0 stops at `a` (false), side 1 evaluates `b`.
    And,
    /// `a or b`: side 0 stops at `a` (true), side 1 evaluates `b`.
    Or,
    /// `a ?? b`: side 0 keeps `a`, side 1 (`a` nil) evaluates `b`.
    Coalesce,
    /// A predicate builtin (`filter`, `map`, `all`, …): side 0 an empty list, side 1 a
    /// non-empty one.
    Closure,
}

/// One side of one branch point: the branch point's node span, its kind, the side.
pub type Hit = (Span, Branch, bool);

thread_local! {
    static HITS: RefCell<Option<HashSet<Hit>>> = const { RefCell::new(None) };
}

/// Threads recording now: while none is, `recording` answers without touching the thread's
/// state (one load a record instead of a thread-local borrow).
static RECORDERS: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` with recording on for this thread; returns its result and the sides taken.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, HashSet<Hit>) {
    /// Counts the thread out again however `f` ends.
    struct Recorder;
    impl Drop for Recorder {
        fn drop(&mut self) {
            RECORDERS.fetch_sub(1, Relaxed);
        }
    }
    RECORDERS.fetch_add(1, Relaxed);
    let _recorder = Recorder;
    HITS.with(|h| *h.borrow_mut() = Some(HashSet::new()));
    let out = f();
    let hits = HITS.with(|h| h.borrow_mut().take()).unwrap_or_default();
    (out, hits)
}

/// Whether this thread is recording (asked once per record by `Ctx::new`).
#[inline]
pub fn recording() -> bool {
    RECORDERS.load(Relaxed) != 0 && HITS.with(|h| h.borrow().is_some())
}

/// Notes a side taken (out of line: only a coverage run gets here).
#[cold]
#[inline(never)]
pub fn hit(span: Span, branch: Branch, side: bool) {
    HITS.with(|h| {
        if let Some(set) = h.borrow_mut().as_mut() {
            set.insert((span, branch, side));
        }
    });
}

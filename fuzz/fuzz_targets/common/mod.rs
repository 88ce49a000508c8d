//! What the fuzz targets share: the limits their resource oracles are derived from, and the
//! allocator that enforces `-malloc_limit_mb`.
//!
//! `cargo xtask fuzz` runs every target with libFuzzer's `-rss_limit_mb`, `-malloc_limit_mb`
//! and `-timeout` computed from these numbers (`xtask/src/fuzz.rs`, SECURITY.md "Fuzzing"):
//! keep the two in step.
#![allow(dead_code)] // Each target takes what it needs.

use scimap::{Limits, Options};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The per-record evaluation budget of the targets that use default-like limits.
pub const MEMORY: usize = 16 << 20;
/// The largest record line those targets accept (fuzz inputs are far smaller anyway).
pub const LINE_BYTES: usize = 1 << 20;

/// Default limits, with a smaller `memory` and `line-bytes` so that the oracles are tight.
pub fn limits() -> Limits {
    Limits {
        memory: MEMORY,
        line_bytes: LINE_BYTES,
        ..Limits::default()
    }
}

/// A fixed clock, so that a finding reproduces whatever the time.
pub fn options() -> Options {
    Options {
        limits: limits(),
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05+02:00").ok(),
        ..Options::default()
    }
}

/// libFuzzer's `-malloc_limit_mb` needs a sanitizer's malloc hooks; the targets run without
/// one, so this allocator enforces it: an allocation over the limit aborts, and libFuzzer
/// keeps the input as a crash.
struct Capped;

static MALLOC_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

#[global_allocator]
static ALLOCATOR: Capped = Capped;

// SAFETY: every call is passed on to mimalloc unchanged, or aborts the process.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        // SAFETY: the caller's contract, passed on.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

fn check(size: usize) {
    let limit = MALLOC_LIMIT.load(Ordering::Relaxed);
    if size > limit {
        // No allocation here: the message is formatted straight to stderr.
        eprintln!("==scimap== ERROR: malloc({size}) exceeds -malloc_limit_mb ({limit} bytes)");
        std::process::abort();
    }
}

/// Reads `-malloc_limit_mb=N` from the command line (libFuzzer's own flag): call once, in the
/// target's `init`.
pub fn init() {
    // The last one counts, as in libFuzzer.
    let limit = std::env::args()
        .rev()
        .find_map(|a| a.strip_prefix("-malloc_limit_mb=")?.parse::<usize>().ok());
    if let Some(mb) = limit.filter(|&mb| mb > 0) {
        MALLOC_LIMIT.store(mb << 20, Ordering::Relaxed);
    }
}

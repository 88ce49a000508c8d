//! What the fuzz targets share: the limits their resource oracles are derived from.
//!
//! `cargo xtask fuzz` runs every target with libFuzzer's `-rss_limit_mb`, `-malloc_limit_mb`
//! and `-timeout` computed from these numbers (`xtask/src/fuzz.rs`, SECURITY.md "Fuzzing"):
//! keep the two in step.
#![allow(dead_code)] // Each target takes what it needs.

use scimap::{Limits, Options};

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

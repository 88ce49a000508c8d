//! The run-time layer, below the IR, the checker and the evaluator: values with their errors
//! and the per-record budget, Go's time, formatting and math, regular expressions, and the
//! builtins, each one row of one table (`builtins`).

pub mod budget;
pub mod builtins;
pub mod error;
pub mod format;
pub mod gomath;
pub mod pattern;
pub mod time;
pub mod value;

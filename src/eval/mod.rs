//! Evaluation: run-time values, builtins, and the evaluator over the IR.

pub mod budget;
pub mod builtins;
pub mod coverage;
pub mod error;
pub mod format;
pub mod gomath;
pub mod interp;
pub mod path;
pub mod pattern;
pub mod time;
pub mod value;

//! The evaluator: one record through a section of the typed IR (`interp`), Direct sources'
//! simple JSON Paths walked over the record (`path`), and the branches a run takes, recorded
//! for `scimap test --coverage` (`coverage`).

pub mod coverage;
pub mod interp;
pub mod path;

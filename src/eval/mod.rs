//! The evaluator: one record through a section of the typed IR (`interp`, the operations and
//! the tree walker; `compile`, the same operations compiled once per mapping), Direct sources'
//! simple JSON Paths walked over the record (`path`), and the branches a run takes, recorded
//! for `scimap test --coverage` (`coverage`).

pub mod compile;
pub mod coverage;
pub mod interp;
pub mod path;

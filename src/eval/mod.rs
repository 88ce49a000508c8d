//! The evaluator: one record through a section of the typed IR (`interp`), and Direct
//! sources' simple JSON Paths walked over the record (`path`).

pub mod interp;
pub mod path;

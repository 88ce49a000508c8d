//! Mapping text → syntax tree with spans (the pest grammar is in `grammar/mapping.pest`).

pub mod ast;
pub mod parser;
mod scan;

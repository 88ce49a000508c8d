//! Mapping text → syntax tree with spans (the grammar is `grammar/mapping.pest`).

pub mod ast;
pub mod parser;
mod scan;

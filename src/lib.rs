pub mod check;
pub mod diagnostic;
pub mod eval;
pub mod limits;
pub mod syntax;

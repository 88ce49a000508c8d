//! scimap compiles attribute-mapping files into a typed program that turns JumpCloud user and
//! group records into SCIM 2.0 payloads.
//!
//! The pipeline, one module each:
//! `syntax` (pest grammar → syntax tree with spans) → `check` (names, targets and types →
//! diagnostics) → `ir` (the resolved program) → `eval` (values, builtins, the evaluator) →
//! `payload` (SCIM resource assembly). On top, the API: [`Mapping`], and [`bulk`], the engine
//! of `scimap bulk`.
//!
//! ```
//! let mapping = scimap::Mapping::compile("user {\n  userName = lower(username)\n}").unwrap();
//! let payload = mapping.evaluate_user(&serde_json::json!({"username": "ADA"})).unwrap();
//! assert_eq!(payload.to_string(), r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}"#);
//! ```

pub mod bulk;
mod check;
mod diagnostic;
mod eval;
mod expression;
pub mod fmt;
pub mod generate;
pub mod ide;
mod ir;
pub mod json;
mod jsonpath;
mod limits;
mod mapping;
mod payload;
pub mod plan;
pub mod profile;
mod record;
pub mod render;
mod runtime;
mod schema;
mod suggest;
mod syntax;
pub mod testing;
mod types;
/// The WASM exports (reference §wasm); public so that `tests/wasm.rs` can call them.
#[cfg(feature = "wasm")]
pub mod wasm;

pub use diagnostic::{warning_code, Counts, Diagnostic, Label, Severity, Span, WARNING_CODES};
pub use expression::{eval_expression, ExprError, Expression, Phase};
pub use limits::Limits;
pub use mapping::{parse_record, CompileError, Explained, Kind, Mapping, Options, Record};
pub use profile::{Profile, UpdateStyle};
pub use record::{EntryError, RecordError};
pub use runtime::builtins::catalogue::FunctionDoc;

/// The standard library's catalogue: signature, summary and examples of every function.
pub fn functions() -> &'static [FunctionDoc] {
    runtime::builtins::catalogue::catalogue()
}

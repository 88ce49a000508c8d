//! One expression compiled once and evaluated against any number of records: what an engine
//! embeds for a single computed attribute, or a preview of one expression as it is typed.

use crate::diagnostic::Diagnostic;
use crate::eval::compile::Program;
use crate::eval::interp::Ctx;
use crate::ir;
use crate::mapping::{clock, Kind, Options, Record};
use crate::record::{Doc, Obj};
use crate::runtime::budget::Budget;
use crate::runtime::error::EvalResult;
use crate::runtime::format;
use crate::syntax::parser;
use serde_json::Value as Json;
use std::fmt;

/// An expression compiled against the user or group record schema.
///
/// ```
/// use scimap::{Expression, Kind, Options, Record};
/// let e = Expression::compile(r#"state == "ACTIVATED" ? "active" : "inactive""#, Kind::User, &Options::default()).unwrap();
/// let record = Record::parse(br#"{"state": "ACTIVATED"}"#, &Options::default().limits).unwrap();
/// assert_eq!(e.evaluate(&record).unwrap(), "active");
/// ```
#[derive(Debug)]
pub struct Expression {
    section: ir::Section,
    node: ir::Node,
    program: Program,
    options: Options,
}

impl Expression {
    /// Parses and checks `source` as `scimap expr` does: errors and warnings as diagnostics.
    pub fn compile(source: &str, kind: Kind, options: &Options) -> Result<Expression, ExprError> {
        let compile_error = |diagnostics: Vec<Diagnostic>| {
            let message = diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| d.message.clone())
                .unwrap_or_default();
            ExprError {
                phase: Phase::Compile,
                message,
                diagnostics,
            }
        };
        let limits = &options.limits;
        let expr = parser::parse_expression(source, limits).map_err(compile_error)?;
        let (section, node) =
            crate::check::check_expression(&expr, source, kind == Kind::Group, limits)
                .map_err(compile_error)?;
        Ok(Expression {
            program: Program::expression(&section, &node),
            section,
            node,
            options: options.clone(),
        })
    }

    /// The value for a record read once ([`Record::parse`]), within the options' limits.
    pub fn evaluate(&self, record: &Record<'_>) -> Result<Json, ExprError> {
        self.run(record.doc(), record.memory(), json_value)
    }

    /// The value for a record as JSON text, appended to `out` (left as it was on an error):
    /// what [`evaluate`](Self::evaluate) answers, without building a `serde_json::Value` on
    /// the way. Strings are escaped as `serde_json` escapes them.
    ///
    /// ```
    /// use scimap::{Expression, Kind, Options, Record};
    /// let e = Expression::compile(r#"firstname + " " + lastname"#, Kind::User, &Options::default()).unwrap();
    /// let record = Record::parse(br#"{"firstname": "Ada", "lastname": "Lovelace"}"#, &Options::default().limits).unwrap();
    /// let mut out = Vec::new();
    /// e.write_json(&record, &mut out).unwrap();
    /// assert_eq!(out, br#""Ada Lovelace""#);
    /// ```
    pub fn write_json(&self, record: &Record<'_>, out: &mut Vec<u8>) -> Result<(), ExprError> {
        let start = out.len();
        let written = self.run(record.doc(), record.memory(), |ctx, node| {
            ctx.entry_json(0, node, out)
        });
        if written.is_err() {
            out.truncate(start);
        }
        written
    }

    /// The value for a `serde_json` record.
    pub fn evaluate_json(&self, record: &Json) -> Result<Json, ExprError> {
        let Json::Object(fields) = record else {
            return Err(run_error("the record is not a JSON object".into()));
        };
        crate::record::check_depth(record, &self.options.limits)
            .map_err(|e| run_error(e.to_string()))?;
        self.run(&Doc::Object(Obj::from_json(fields, None)), 0, json_value)
    }

    /// Evaluates the expression (`node`, entry 0 of the program) for a record with `answer`.
    fn run<T>(
        &self,
        whole: &Doc<'_>,
        memory: usize,
        answer: impl for<'c> FnOnce(&mut Ctx<'c>, &'c ir::Node) -> EvalResult<T>,
    ) -> Result<T, ExprError> {
        let Doc::Object(fields) = whole else {
            return Err(run_error("the record is not a JSON object".into()));
        };
        let mut budget = Budget::new(&self.options.limits);
        budget
            .alloc(memory)
            .map_err(|e| run_error(e.into_message()))?;
        let mut ctx = Ctx::new(
            whole,
            fields,
            &self.section,
            Some(&self.program),
            budget,
            clock(&self.options),
        );
        answer(&mut ctx, &self.node).map_err(|e| run_error(e.into_message()))
    }
}

/// The expression's value as a `serde_json` value.
fn json_value<'c>(ctx: &mut Ctx<'c>, node: &'c ir::Node) -> EvalResult<Json> {
    let value = ctx.entry(0, node)?;
    format::to_json(&value, &mut ctx.budget)
}

fn run_error(message: String) -> ExprError {
    ExprError {
        phase: Phase::Run,
        message,
        diagnostics: Vec::new(),
    }
}

/// Compiles and evaluates one expression against a record (`scimap expr`).
///
/// ```
/// use scimap::{eval_expression, Kind, Options};
/// let user = serde_json::json!({"firstname": "Ada"});
/// let v = eval_expression(r#"upper(firstname ?? "") + "!""#, Kind::User, &user, &Options::default()).unwrap();
/// assert_eq!(v, "ADA!");
/// ```
pub fn eval_expression(
    source: &str,
    kind: Kind,
    record: &Json,
    options: &Options,
) -> Result<Json, ExprError> {
    Expression::compile(source, kind, options)?.evaluate_json(record)
}

/// Why an expression failed: it did not compile, or it failed for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Compile,
    Run,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Compile => "compile",
            Phase::Run => "run",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExprError {
    pub phase: Phase,
    pub message: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

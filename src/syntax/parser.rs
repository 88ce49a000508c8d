//! The mapping parser. `grammar/mapping.pest` is the grammar; the hand-written parser of
//! `descent.rs` reads it from the text into the syntax tree, and the pest parser generated from
//! it reports syntax errors (and, in debug builds, checks every parse). Both build the tree
//! through the same `Lower` steps, so they produce the same tree and diagnostics.
//!
//! The scan of `scan.rs` runs first, so the recursive parsers and this lowering never nest
//! deeper than the `depth` limit allows; the lowering also keeps every expression tree within
//! that many levels (long left-associative chains included), so later passes may recurse.
//!
//! One job a file, under `parser/`: `descent.rs` the hand-written parser, `lower.rs` the
//! lowering into the syntax tree (and the walk of pest's tree), `climb.rs` precedence
//! climbing, `literal.rs` string escapes and numbers, `errors.rs` pest's errors in words; this
//! file the entry points and the check of one parser against the other.

use pest::error::InputLocation;
use pest::Parser as _;

use super::ast::{Expr, File};
use super::scan::{self, Mode};

mod climb;
mod descent;
mod errors;
mod literal;
mod lower;
#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use errors::{long_syntax_error, syntax_error};
use lower::Lower;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mapping.pest"]
struct MappingParser;

/// Parses a whole mapping file (reference §file).
pub fn parse_file(source: &str, limits: &Limits) -> Result<File, Vec<Diagnostic>> {
    scan::check(source, Mode::File, limits).map_err(|d| vec![*d])?;
    match descent::file(source, limits.nesting()) {
        Ok(parsed) => oracle(source, parsed, |s| pest_file(s, limits)),
        Err(resume) if resume.at.saturating_sub(resume.start) > PEST_WINDOW => {
            Err(vec![long_syntax_error(
                source,
                resume.at,
                resume.start,
                "an entry",
            )])
        }
        Err(resume) => match resumed_syntax_error(source, resume) {
            Some(error) => oracle(source, Err(vec![error]), |s| pest_file(s, limits)),
            None => pest_file(source, limits),
        },
    }
}

/// The longest text before a syntax error that pest is asked to explain. pest takes about
/// 1.5 s of CPU per MiB of deeply bracketed text, and the compile-time budget is 1 s per MiB
/// whatever the content; the hand-written parser is 10–40 times faster but does not know what
/// the grammar expected.
const PEST_WINDOW: usize = 64 << 10;

/// The grammar's syntax error from where the hand-written parser gave up, if there is one
/// there (else the text may well parse, and the whole of it goes to pest).
fn resumed_syntax_error(source: &str, resume: descent::Resume) -> Option<Diagnostic> {
    let text = resume.blanked(source)?;
    let error = MappingParser::parse(Rule::file, &text).err()?;
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    (pos >= resume.start).then(|| syntax_error(&text, &error, true))
}

/// The pest path: the grammar's verdict and its "expected …, found …" message.
fn pest_file(source: &str, limits: &Limits) -> Result<File, Vec<Diagnostic>> {
    let mut pairs = MappingParser::parse(Rule::file, source)
        .map_err(|e| vec![syntax_error(source, &e, true)])?;
    let mut lower = Lower::new(source, limits.nesting());
    let file = pairs.next().map(|p| lower.file(p));
    lower.finish(file)
}

/// Parses one whole Expr expression (`scimap expr`); line breaks are blanks everywhere.
pub fn parse_expression(source: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    scan::check(source, Mode::Expression, limits).map_err(|d| vec![*d])?;
    match descent::expression(source, limits.nesting()) {
        Ok(parsed) => oracle(source, parsed, |s| pest_expression(s, limits)),
        Err(at) if at > PEST_WINDOW => {
            Err(vec![long_syntax_error(source, at, 0, "the expression")])
        }
        Err(_) => pest_expression(source, limits),
    }
}

fn pest_expression(source: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    let mut pairs = MappingParser::parse(Rule::expression, source)
        .map_err(|e| vec![syntax_error(source, &e, false)])?;
    let mut lower = Lower::new(source, limits.nesting());
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().find(|c| c.as_rule() == Rule::seq))
        .map(|seq| lower.expr0(seq).expr);
    lower.finish(expr)
}

/// Debug builds (every test) check the hand-written parser against the grammar: the same
/// tree and the same diagnostics. Large inputs are left out so that the hostile-size tests
/// stay fast in debug builds.
#[cfg(debug_assertions)]
fn oracle<T: PartialEq + std::fmt::Debug>(
    source: &str,
    parsed: Result<T, Vec<Diagnostic>>,
    pest: impl FnOnce(&str) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    const ORACLE_BYTES: usize = 64 * 1024;
    if source.len() <= ORACLE_BYTES {
        let expected = pest(source);
        assert!(
            parsed == expected,
            "the hand-written parser disagrees with grammar/mapping.pest on {source:?}:\n\
             descent: {parsed:#?}\npest: {expected:#?}"
        );
    }
    parsed
}

#[cfg(not(debug_assertions))]
fn oracle<T>(
    _source: &str,
    parsed: Result<T, Vec<Diagnostic>>,
    _pest: impl FnOnce(&str) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    parsed
}

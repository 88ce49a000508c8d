//! RFC 9535 JSON Paths, parsed in linear time and evaluated within the per-record budget.
//!
//! Direct sources are JSON Paths written by tenants and run on every record, so both halves
//! are bounded: the parser is a recursive descent with one token of look-ahead, each level of
//! filter, parenthesis, `!` and function call counted against a maximum depth; evaluation
//! walks the borrowed record tree (`Doc`) without converting it, charges the budget for
//! every node it visits and every node reference it keeps, and never recurses on the
//! document's depth. Regular expressions (`match`, `search`) are I-Regexps (RFC 9485)
//! translated to the `regex` crate: a literal pattern is compiled with the path, a pattern
//! read from the record once per evaluation.

mod eval;
mod iregexp;
mod parse;
mod reach;
#[cfg(test)]
mod tests;

use crate::limits::Limits;
use crate::record::Doc;
use crate::runtime::budget::Budget;
use crate::runtime::error::EvalResult;
use std::ops::ControlFlow;

/// A parsed JSON Path, ready to run on any number of records.
#[derive(Debug)]
pub struct JsonPath {
    query: Query,
}

/// One step of a [simple](JsonPath::simple) path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Name(&'a str),
    Index(i64),
    Wildcard,
}

/// Why a path does not parse: a message, and where (byte offsets into the path text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub end: usize,
    pub message: String,
    pub help: Option<String>,
    /// A secondary label: where the construct the error is in starts, and what to say there.
    pub opened: Option<(usize, &'static str)>,
    /// The path nests deeper than the `depth` limit (not a syntax error).
    pub limit: bool,
}

impl JsonPath {
    /// Parses `text`: nesting deeper than `limits.depth` is an error, and literal regex
    /// patterns are compiled within `limits.regex_bytes`.
    pub fn parse(text: &str, limits: &Limits) -> Result<JsonPath, ParseError> {
        parse::parse(text, limits.depth, limits.regex_bytes)
            .map(|query| JsonPath { query })
            .map_err(|e| *e)
    }

    /// The nodes the path selects in `root`, in RFC 9535 order (duplicates kept).
    pub fn select<'a>(
        &self,
        root: &'a Doc<'a>,
        budget: &mut Budget,
    ) -> EvalResult<Vec<&'a Doc<'a>>> {
        eval::select(&self.query, root, budget)
    }

    /// Whether this is an RFC 9535 singular query (names and indexes only): it selects at
    /// most one node.
    pub fn is_singular(&self) -> bool {
        self.query.is_singular()
    }

    /// The path's steps, when it only has child segments of one name, index or wildcard each
    /// (`$.a.b`, `$['a'][0]`, `$.list[*].field`): the checker compiles those into segments
    /// the evaluator walks directly.
    pub fn simple(&self) -> Option<Vec<Step<'_>>> {
        self.query
            .segments
            .iter()
            .map(|s| match (s.descendant, s.selectors.as_slice()) {
                (false, [Selector::Name(n)]) => Some(Step::Name(n)),
                (false, [Selector::Index(i)]) => Some(Step::Index(*i)),
                (false, [Selector::Wildcard]) => Some(Step::Wildcard),
                _ => None,
            })
            .collect()
    }

    /// The one top-level record field the path can read, when it starts with a name and no
    /// filter inside it refers to the root (`$`): the record need not be read beyond it.
    pub fn first_field(&self) -> Option<&str> {
        let first = self.query.segments.first()?;
        let (false, [Selector::Name(name)]) = (first.descendant, first.selectors.as_slice()) else {
            return None;
        };
        (!self.query.reads_root()).then_some(&**name)
    }
}

/// `$…` or `@…`: where the query starts and its segments.
#[derive(Debug)]
struct Query {
    /// `@` (the current node of a filter) rather than `$` (the root).
    relative: bool,
    segments: Vec<Segment>,
}

#[derive(Debug)]
struct Segment {
    /// `..`: applies the selectors to the input node and every node below it.
    descendant: bool,
    selectors: Vec<Selector>,
}

#[derive(Debug)]
enum Selector {
    Name(Box<str>),
    Index(i64),
    Wildcard,
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
    },
    Filter(Box<Logical>),
}

/// A filter's test (RFC 9535 LogicalType).
#[derive(Debug)]
enum Logical {
    Or(Vec<Logical>),
    And(Vec<Logical>),
    Not(Box<Logical>),
    /// A query as a test: true when it selects at least one node.
    Exists(Query),
    Compare(Box<Comparison>),
    /// `match(subject, pattern)` (whole string) or `search(subject, pattern)`.
    Regex(Box<RegexTest>),
}

#[derive(Debug)]
struct Comparison {
    left: Value,
    op: Op,
    right: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
struct RegexTest {
    whole: bool,
    subject: Value,
    pattern: Pattern,
}

#[derive(Debug)]
enum Pattern {
    /// A literal pattern, compiled with the path.
    Compiled(crate::runtime::pattern::Pattern),
    /// A literal that is not a string: the test is always false.
    Never,
    /// A pattern read from the record, compiled once per evaluation.
    Dynamic(Value),
}

/// A ValueType expression: one JSON value, or Nothing.
#[derive(Debug)]
enum Value {
    Literal(Doc<'static>),
    /// A singular query: its node's value, or Nothing.
    Query(Query),
    Length(Box<Value>),
    Count(Query),
    /// `value(query)`: the one node's value, or Nothing.
    Single(Query),
}

impl Query {
    fn is_singular(&self) -> bool {
        self.segments.iter().all(|s| {
            !s.descendant
                && matches!(
                    s.selectors.as_slice(),
                    [Selector::Name(_) | Selector::Index(_)]
                )
        })
    }

    /// Whether the query, or a filter inside it, starts a query at the root.
    fn reads_root(&self) -> bool {
        self.walk_filters(|inner| match inner {
            Inner::Query(q) if !q.relative => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .is_break()
    }

    /// Calls `visit` on every query and value inside the query's filters (nested ones too, the
    /// query itself not), until it breaks. Iterative: the filters nest at most `depth` deep,
    /// but the walk needs no stack.
    fn walk_filters<'q>(
        &'q self,
        mut visit: impl FnMut(Inner<'q>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut queries = vec![self];
        let mut logicals: Vec<&Logical> = Vec::new();
        let mut values: Vec<&Value> = Vec::new();
        loop {
            if let Some(q) = queries.pop() {
                for s in &q.segments {
                    for sel in &s.selectors {
                        if let Selector::Filter(l) = sel {
                            logicals.push(l);
                        }
                    }
                }
            } else if let Some(l) = logicals.pop() {
                match l {
                    Logical::Or(v) | Logical::And(v) => logicals.extend(v),
                    Logical::Not(l) => logicals.push(l),
                    Logical::Exists(q) => {
                        visit(Inner::Query(q))?;
                        queries.push(q);
                    }
                    Logical::Compare(c) => values.extend([&c.left, &c.right]),
                    Logical::Regex(r) => {
                        values.push(&r.subject);
                        if let Pattern::Dynamic(v) = &r.pattern {
                            values.push(v);
                        }
                    }
                }
            } else if let Some(v) = values.pop() {
                visit(Inner::Value(v))?;
                match v {
                    Value::Literal(_) => {}
                    Value::Query(q) | Value::Count(q) | Value::Single(q) => {
                        visit(Inner::Query(q))?;
                        queries.push(q);
                    }
                    Value::Length(v) => values.push(v),
                }
            } else {
                return ControlFlow::Continue(());
            }
        }
    }
}

/// What `Query::walk_filters` meets inside filters.
enum Inner<'q> {
    Query(&'q Query),
    Value(&'q Value),
}

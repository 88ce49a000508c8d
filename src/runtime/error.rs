//! Run-time errors: what failed while evaluating one record.

use crate::diagnostic::Span;
use std::borrow::Cow;
use std::fmt;

/// The longest message an error keeps: a failed record's output line carries one message per
/// failing entry, and the values they quote can be megabytes long.
const MAX_MESSAGE: usize = 1024;

/// The longest part of a value a message quotes.
pub const QUOTE_BYTES: usize = 64;

/// At most `QUOTE_BYTES` of `s` (cut at a character boundary), `…` marking a cut.
pub fn excerpt(s: &str) -> Cow<'_, str> {
    if s.len() <= QUOTE_BYTES {
        return Cow::Borrowed(s);
    }
    Cow::Owned(format!("{}…", &s[..s.floor_char_boundary(QUOTE_BYTES)]))
}

/// `message` cut to `MAX_MESSAGE` bytes, `…` marking a cut.
fn capped(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        message.truncate(message.floor_char_boundary(MAX_MESSAGE));
        message.push('…');
    }
    message
}

/// A failure while evaluating. Builtins return it without a span; the evaluator adds the span of
/// the call or operator that failed. Boxed: every evaluation step returns a `Result`, and a
/// pointer-sized error keeps it as small as the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError(Box<Fault>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Stable code: `scimap::nil-access`, `scimap::type-error`, `scimap::limit`, `scimap::conversion`…
    pub code: &'static str,
    pub message: String,
    pub span: Option<Span>,
}

impl std::ops::Deref for EvalError {
    type Target = Fault;
    fn deref(&self) -> &Fault {
        &self.0
    }
}

impl EvalError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        EvalError(Box::new(Fault {
            code,
            message: capped(message.into()),
            span: None,
        }))
    }
    /// A wrong argument or operand type at run time.
    pub fn type_error(message: impl Into<String>) -> Self {
        EvalError::new("scimap::type-error", message)
    }
    /// Any other failure of a builtin (`int("x")`, a bad date, a bad regex).
    pub fn invalid(message: impl Into<String>) -> Self {
        EvalError::new("scimap::invalid-argument", message)
    }
    /// A limit (reference §limits-table) exceeded: names the limit and its value.
    pub fn limit(name: &str, value: impl fmt::Display) -> Self {
        EvalError::new(
            "scimap::limit",
            format!("limit `{name}` exceeded (the limit is {value})"),
        )
    }
    /// Attaches a span unless one is already set (the innermost span wins).
    pub fn at(mut self, span: Span) -> Self {
        self.0.span.get_or_insert(span);
        self
    }

    /// The same error with its message rewritten.
    pub fn reword(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.0.message = capped(f(&self.0.message));
        self
    }

    pub fn into_message(self) -> String {
        self.0.message
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

pub type EvalResult<T> = Result<T, EvalError>;

//! Why a record failed: the errors of reading it and of evaluating its entries, in the shape
//! bulk output and the library API report them (reference §payload-error-object).

use serde_json::{json, Value as Json};
use std::fmt;

/// One failing entry of a record (reference §payload-error-object), or the record as a whole
/// (`target: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryError {
    pub target: Option<String>,
    pub code: String,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl EntryError {
    /// A failure of the whole record: not JSON, not an object, over the size cap…
    pub fn record(code: &str, message: impl Into<String>) -> Self {
        EntryError {
            target: None,
            code: code.to_string(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn to_json(&self) -> Json {
        let mut e = json!({"target": self.target, "code": self.code, "message": self.message});
        if let (Some(line), Some(column), Some(obj)) = (self.line, self.column, e.as_object_mut()) {
            obj.insert("line".into(), json!(line));
            obj.insert("column".into(), json!(column));
        }
        e
    }
}

/// A record that failed: every failing entry, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub errors: Vec<EntryError>,
}

impl RecordError {
    pub(crate) fn whole(code: &str, message: impl Into<String>) -> Self {
        RecordError {
            errors: vec![EntryError::record(code, message)],
        }
    }

    /// A record longer than the `line-bytes` limit, which is not read.
    pub fn over_line_bytes(line_bytes: usize) -> Self {
        RecordError::whole(
            "scimap::limit",
            format!("the record is over the limit `line-bytes` ({line_bytes})"),
        )
    }

    /// The same error worded for the app's current resource, which plans read as a record is
    /// read ("the current resource is not valid JSON…" for "the record is not valid JSON…").
    pub fn of_current(mut self) -> RecordError {
        for e in &mut self.errors {
            if let Some(rest) = e.message.strip_prefix("the record ") {
                e.message = format!("the current resource {rest}");
            }
        }
        self
    }

    /// The first error's message.
    pub fn message(&self) -> &str {
        self.errors.first().map_or("", |e| e.message.as_str())
    }

    /// `{"error":{"message":M,"errors":[E,…]},"line":N,"id":I}` (`line`/`id` when given).
    pub fn to_json(&self, line: Option<usize>, id: Option<&str>) -> Json {
        let errors: Vec<Json> = self.errors.iter().map(EntryError::to_json).collect();
        let mut out = json!({"error": {"message": self.message(), "errors": errors}});
        if let Some(obj) = out.as_object_mut() {
            if let Some(line) = line {
                obj.insert("line".into(), json!(line));
            }
            if let Some(id) = id {
                obj.insert("id".into(), json!(id));
            }
        }
        out
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match (&e.target, e.line, e.column) {
                (Some(t), Some(l), Some(c)) => write!(f, "{t} ({l}:{c}): {}", e.message)?,
                (Some(t), _, _) => write!(f, "{t}: {}", e.message)?,
                _ => f.write_str(&e.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for RecordError {}

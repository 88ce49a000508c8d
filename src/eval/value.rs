//! The run-time value of Expr expressions.
//!
//! Values borrow from the record (`Value::from_doc` copies nothing) and from the compiled
//! program (string literals); what evaluation builds is reference-counted, so cloning is cheap.

use super::time::{Time, Zone};
use crate::record::{Doc, Obj};
use indexmap::IndexMap;
use std::ops::Deref;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum Value<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Str<'a>),
    Time(Time),
    /// Nanoseconds, as Go's `time.Duration`.
    Duration(i64),
    /// A `timezone(…)` value.
    Location(Zone),
    List(List<'a>),
    Map(Map<'a>),
}

/// A string borrowed from the record or the program, or built during evaluation.
#[derive(Clone, Debug)]
pub enum Str<'a> {
    Borrowed(&'a str),
    Owned(Rc<str>),
}

impl Deref for Str<'_> {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

impl std::fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// A list: a JSON array of the record, or one built during evaluation.
#[derive(Clone, Debug)]
pub enum List<'a> {
    Doc(&'a [Doc<'a>]),
    Owned(Rc<Vec<Value<'a>>>),
}

/// A map: a JSON object of the record, or one built during evaluation (insertion order kept).
#[derive(Clone, Debug)]
pub enum Map<'a> {
    Doc(&'a Obj<'a>),
    Owned(Rc<IndexMap<String, Value<'a>>>),
}

impl<'a> Value<'a> {
    /// Wraps a record node without copying it. Integers that fit i64 stay integers.
    #[inline]
    pub fn from_doc(v: &'a Doc<'a>) -> Value<'a> {
        match v {
            Doc::Null => Value::Nil,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Int(i) => Value::Int(*i),
            Doc::Uint(u) => Value::Float(*u as f64),
            Doc::Float(f) => Value::Float(*f),
            Doc::Str(s) => Value::Str(Str::Borrowed(s)),
            Doc::Array(a) => Value::List(List::Doc(a)),
            Doc::Object(o) => Value::Map(Map::Doc(o)),
        }
    }

    pub fn string(s: impl Into<Rc<str>>) -> Value<'a> {
        Value::Str(Str::Owned(s.into()))
    }

    pub fn list(items: Vec<Value<'a>>) -> Value<'a> {
        Value::List(List::Owned(Rc::new(items)))
    }

    pub fn map(entries: IndexMap<String, Value<'a>>) -> Value<'a> {
        Value::Map(Map::Owned(Rc::new(entries)))
    }

    #[inline]
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as f64 when it is a number.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// Expr's `type(v)` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Location(_) => "*time.Location",
            Value::List(_) => "array",
            Value::Map(_) => "map",
        }
    }

    /// Expr's `==`: numbers compare across int and float, lists and maps deeply, values of
    /// different kinds are unequal.
    pub fn equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                self.as_f64() == other.as_f64()
            }
            (Value::Str(a), Value::Str(b)) => **a == **b,
            (Value::Time(a), Value::Time(b)) => a.instant == b.instant,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Location(a), Value::Location(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(&y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.equals(&w)))
            }
            _ => false,
        }
    }
}

impl<'a> List<'a> {
    pub fn len(&self) -> usize {
        match self {
            List::Doc(a) => a.len(),
            List::Owned(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<Value<'a>> {
        match self {
            List::Doc(a) => a.get(i).map(Value::from_doc),
            List::Owned(v) => v.get(i).cloned(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Value<'a>> + '_ {
        (0..self.len()).map(move |i| self.get(i).unwrap_or(Value::Nil))
    }
}

impl<'a> Map<'a> {
    pub fn len(&self) -> usize {
        match self {
            Map::Doc(m) => m.len(),
            Map::Owned(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key`; `None` when the key is missing.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        match self {
            Map::Doc(m) => m.get(key).map(Value::from_doc),
            Map::Owned(m) => m.get(key).cloned(),
        }
    }

    /// Entries in the map's own order (record order, or insertion order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&str, Value<'a>)> + '_> {
        match self {
            Map::Doc(m) => Box::new(m.iter().map(|(k, v)| (k, Value::from_doc(v)))),
            Map::Owned(m) => Box::new(m.iter().map(|(k, v)| (k.as_str(), v.clone()))),
        }
    }
}

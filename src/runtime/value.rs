//! The run-time value of Expr expressions.
//!
//! Values borrow from the record (`Value::from_doc` copies nothing) and from the compiled
//! program (string literals); what evaluation builds is reference-counted, so cloning is cheap,
//! and charged to the record's budget by the constructors (`Value::string`, `list`, `map`).

use super::budget::{compare_cost, Budget, ITEM_BYTES};
use super::error::EvalResult;
use super::time::{Time, Zone};
use crate::record::{Doc, Obj};
use indexmap::IndexMap;
use std::ops::Deref;
use std::rc::Rc;

// `memory` charges a list item what it takes on 64-bit targets; smaller targets (WASM) are
// charged the same, so a limit trips at the same point everywhere.
const _: () = assert!(size_of::<Value>() <= ITEM_BYTES);

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
    Owned(Rc<Items<'a>>),
}

/// A map: a JSON object of the record, or one built during evaluation (insertion order kept).
#[derive(Clone, Debug)]
pub enum Map<'a> {
    Doc(&'a Obj<'a>),
    Owned(Rc<Entries<'a>>),
}

/// The items of a list built during evaluation.
#[derive(Debug, Default)]
pub struct Items<'a>(Vec<Value<'a>>);

/// The entries of a map built during evaluation.
#[derive(Debug, Default)]
pub struct Entries<'a>(IndexMap<String, Value<'a>>);

impl<'a> Deref for Items<'a> {
    type Target = Vec<Value<'a>>;
    fn deref(&self) -> &Vec<Value<'a>> {
        &self.0
    }
}

impl<'a> Deref for Entries<'a> {
    type Target = IndexMap<String, Value<'a>>;
    fn deref(&self) -> &IndexMap<String, Value<'a>> {
        &self.0
    }
}

// A list can nest far deeper than the stack allows (`reduce(1..10000, [#acc], [])` builds one
// within the default limits), and the compiler's drop glue would recurse once per level: both
// containers hand their contents to one iterative loop instead.
impl Drop for Items<'_> {
    fn drop(&mut self) {
        dismantle(std::mem::take(&mut self.0));
    }
}

impl Drop for Entries<'_> {
    fn drop(&mut self) {
        if self.0.values().any(Value::owns_container) {
            dismantle(self.0.drain(..).map(|(_, v)| v).collect());
        }
    }
}

/// Drops values, taking apart every container nobody else holds without recursing.
fn dismantle(mut stack: Vec<Value<'_>>) {
    if !stack.iter().any(Value::owns_container) {
        return;
    }
    while let Some(v) = stack.pop() {
        match v {
            Value::List(List::Owned(rc)) => {
                if let Ok(mut items) = Rc::try_unwrap(rc) {
                    stack.append(&mut items.0);
                }
            }
            Value::Map(Map::Owned(rc)) => {
                if let Ok(mut entries) = Rc::try_unwrap(rc) {
                    stack.extend(entries.0.drain(..).map(|(_, v)| v));
                }
            }
            _ => {}
        }
    }
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

    /// A string built while evaluating: within `string-bytes`, charged to `memory`.
    #[inline]
    pub fn string(
        s: impl AsRef<str> + Into<Rc<str>>,
        budget: &mut Budget,
    ) -> EvalResult<Value<'a>> {
        let len = s.as_ref().len();
        budget.string(len)?;
        Ok(Value::Str(Str::Owned(s.into())))
    }

    /// A list built while evaluating: within `list-items`, charged to `memory`.
    pub fn list(items: Vec<Value<'a>>, budget: &mut Budget) -> EvalResult<Value<'a>> {
        budget.fits_list(items.len())?;
        budget.alloc(items.capacity().saturating_mul(ITEM_BYTES))?;
        Ok(Value::List(List::Owned(Rc::new(Items(items)))))
    }

    /// A map built while evaluating: within `list-items` entries, charged to `memory`.
    pub fn map(entries: IndexMap<String, Value<'a>>, budget: &mut Budget) -> EvalResult<Value<'a>> {
        budget.fits_list(entries.len())?;
        let keys: usize = entries.keys().map(String::len).sum();
        budget.alloc(
            entries
                .capacity()
                .saturating_mul(size_of::<(String, Value)>() + 2 * size_of::<usize>())
                .saturating_add(keys),
        )?;
        Ok(Value::Map(Map::Owned(Rc::new(Entries(entries)))))
    }

    /// Whether this value holds a list or map built during evaluation.
    fn owns_container(&self) -> bool {
        matches!(
            self,
            Value::List(List::Owned(_)) | Value::Map(Map::Owned(_))
        )
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
    /// different kinds are unequal. Iterative, a step per element and per 16 bytes of string.
    pub fn equals(&self, other: &Value<'_>, budget: &mut Budget) -> EvalResult<bool> {
        /// Containers being compared, with the position of the next element.
        enum Frame<'a, 'b> {
            Lists(List<'a>, List<'b>, usize),
            Maps(Map<'a>, Map<'b>, usize),
        }
        // Scalars, the common case, are compared without cloning or a stack.
        if let Some(answer) = self.leaf_equals(other, budget)? {
            return Ok(answer);
        }
        let mut frames: Vec<Frame> = Vec::new();
        let mut next = Some((self.clone(), other.clone()));
        loop {
            if let Some((a, b)) = next.take() {
                match (a, b) {
                    (Value::List(x), Value::List(y)) => {
                        budget.step(1)?;
                        if x.len() != y.len() {
                            return Ok(false);
                        }
                        budget.alloc(size_of::<Frame>())?;
                        frames.push(Frame::Lists(x, y, 0));
                    }
                    (Value::Map(x), Value::Map(y)) => {
                        budget.step(1)?;
                        if x.len() != y.len() {
                            return Ok(false);
                        }
                        budget.alloc(size_of::<Frame>())?;
                        frames.push(Frame::Maps(x, y, 0));
                    }
                    (a, b) => {
                        if a.leaf_equals(&b, budget)? == Some(false) {
                            return Ok(false);
                        }
                    }
                }
            }
            let Some(frame) = frames.last_mut() else {
                return Ok(true);
            };
            match frame {
                Frame::Lists(x, y, i) => match (x.get(*i), y.get(*i)) {
                    (Some(v), Some(w)) => {
                        *i += 1;
                        next = Some((v, w));
                    }
                    _ => {
                        frames.pop();
                    }
                },
                Frame::Maps(x, y, i) => match x.entry(*i) {
                    Some((k, v)) => {
                        *i += 1;
                        match y.get(k) {
                            Some(w) => next = Some((v, w)),
                            None => return Ok(false),
                        }
                    }
                    None => {
                        frames.pop();
                    }
                },
            }
        }
    }

    /// `==` when one side is not a container, one step (plus one per 16 bytes of strings);
    /// `None` for two lists or two maps.
    #[inline]
    fn leaf_equals(&self, other: &Value<'_>, budget: &mut Budget) -> EvalResult<Option<bool>> {
        match (self, other) {
            (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_)) => Ok(None),
            (Value::Str(x), Value::Str(y)) => {
                budget.step(1 + (x.len().min(y.len()) / 16) as u64)?;
                Ok(Some(**x == **y))
            }
            (a, b) => {
                budget.step(1)?;
                Ok(Some(a.scalar_equals(b)))
            }
        }
    }

    /// `==` on anything but strings, lists and maps.
    fn scalar_equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                self.as_f64() == other.as_f64()
            }
            (Value::Time(a), Value::Time(b)) => a.instant == b.instant,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Location(a), Value::Location(b)) => a == b,
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

    /// The entry at position `i` in the map's own order.
    pub fn entry(&self, i: usize) -> Option<(&str, Value<'a>)> {
        match self {
            Map::Doc(m) => m.entry(i).map(|(k, v)| (k, Value::from_doc(v))),
            Map::Owned(m) => m.get_index(i).map(|(k, v)| (k.as_str(), v.clone())),
        }
    }

    /// Copies of the entries, sorted by key (byte order) when `sorted`, else in the map's own
    /// order; the copies and the sort are charged.
    pub fn entries(
        &self,
        sorted: bool,
        budget: &mut Budget,
    ) -> EvalResult<Vec<(String, Value<'a>)>> {
        budget.step(self.len() as u64)?;
        let keys: usize = self.iter().map(|(k, _)| k.len()).sum();
        budget.fits_list(self.len())?;
        budget
            .alloc(keys.saturating_add(self.len().saturating_mul(size_of::<(String, Value)>())))?;
        let mut entries: Vec<_> = self.iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if sorted {
            budget.sort_by(&mut entries, |a, b| {
                Ok((a.0.cmp(&b.0), compare_cost(&a.0, &b.0)))
            })?;
        }
        Ok(entries)
    }

    /// Entries in the map's own order (record order, or insertion order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&str, Value<'a>)> + '_> {
        match self {
            Map::Doc(m) => Box::new(m.iter().map(|(k, v)| (k, Value::from_doc(v)))),
            Map::Owned(m) => Box::new(m.iter().map(|(k, v)| (k.as_str(), v.clone()))),
        }
    }
}

/// Values built outside an evaluation, for unit tests: charged to a budget with no limits.
#[cfg(test)]
pub mod unlimited {
    use super::{IndexMap, Rc, Value};
    use crate::limits::Limits;
    use crate::runtime::budget::Budget;

    fn budget() -> Budget<'static> {
        Budget::new(&Limits {
            memory: usize::MAX,
            ..Limits::DEFAULT
        })
    }

    pub fn string<'a>(s: impl AsRef<str> + Into<Rc<str>>) -> Value<'a> {
        Value::string(s, &mut budget()).expect("within the default string-bytes")
    }

    pub fn list(items: Vec<Value<'_>>) -> Value<'_> {
        Value::list(items, &mut budget()).expect("within the default list-items")
    }

    pub fn map(entries: IndexMap<String, Value<'_>>) -> Value<'_> {
        Value::map(entries, &mut budget()).expect("within the default list-items")
    }
}

#[cfg(test)]
mod tests {
    use super::unlimited::{list, map, string};
    use super::*;
    use crate::limits::Limits;

    /// A list nested `n` deep around `leaf`, built as `reduce(1..n, [#acc], leaf)` would.
    fn deep<'a>(n: usize, leaf: Value<'a>) -> Value<'a> {
        (0..n).fold(leaf, |acc, _| list(vec![acc]))
    }

    #[test]
    fn deep_values_compare_and_drop_without_recursion() {
        let mut budget = Budget::new(&Limits {
            steps: u64::MAX,
            ..Limits::DEFAULT
        });
        let (a, b) = (
            deep(300_000, Value::Int(1)),
            deep(300_000, Value::Float(1.0)),
        );
        assert_eq!(a.equals(&b, &mut budget), Ok(true));
        let c = deep(300_000, Value::Int(2));
        assert_eq!(a.equals(&c, &mut budget), Ok(false));
        let mut m = Value::Nil;
        for _ in 0..300_000 {
            let mut entries = IndexMap::new();
            entries.insert("k".to_string(), m);
            m = map(entries);
        }
        drop((a, b, c, m));
    }

    #[test]
    fn equality_is_charged_to_steps() {
        let mut budget = Budget::new(&Limits {
            steps: 100,
            ..Limits::DEFAULT
        });
        let a = deep(1_000, string("x"));
        assert_eq!(
            a.equals(&a.clone(), &mut budget).unwrap_err().code,
            "scimap::limit"
        );
    }

    #[test]
    fn constructors_charge_memory() {
        let mut budget = Budget::new(&Limits {
            memory: 100,
            ..Limits::DEFAULT
        });
        assert!(Value::string("x".repeat(60), &mut budget).is_ok());
        let e = Value::string("x".repeat(60), &mut budget).unwrap_err();
        assert_eq!(e.message, "limit `memory` exceeded (the limit is 100)");
        let mut budget = Budget::new(&Limits {
            memory: 100,
            ..Limits::DEFAULT
        });
        assert_eq!(
            Value::list(vec![Value::Nil; 4], &mut budget)
                .unwrap_err()
                .code,
            "scimap::limit"
        );
    }
}

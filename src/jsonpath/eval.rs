//! Running a parsed path over a record, charged to the record's budget.
//!
//! One step per node a segment visits (descendants included), per selector applied, per
//! filter evaluation and per comparison; string work in proportion to its bytes; 8 bytes of
//! memory per node reference each nodelist buffer allocated holds. The descendant walk and
//! value equality use explicit stacks; only filters recurse, on the parsed expression, as
//! deep as the parser allowed.

use super::{iregexp, Comparison, Logical, Op, Pattern, Query, Segment, Selector, Value};
use crate::record::Doc;
use crate::runtime::budget::Budget;
use crate::runtime::error::EvalResult;
use crate::runtime::pattern::Pattern as Regex;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Memory charged per node reference kept in a nodelist or on a walk's stack.
const NODE: usize = 8;
/// Bytes compared, counted or hashed per step.
const SCAN_BYTES: usize = 256;
/// Bytes a regex scans per step.
const REGEX_BYTES: usize = 16;
/// The lazy DFA cache of a pattern read from a record, charged to `memory` when compiled.
const DYNAMIC_DFA: usize = 256 << 10;

pub fn select<'a>(
    query: &Query,
    root: &'a Doc<'a>,
    budget: &mut Budget,
) -> EvalResult<Vec<&'a Doc<'a>>> {
    let mut run = Run {
        root,
        budget,
        patterns: [HashMap::new(), HashMap::new()],
    };
    run.query(query, root)
}

struct Run<'a, 'b, 'l> {
    root: &'a Doc<'a>,
    budget: &'b mut Budget<'l>,
    /// Patterns read from the record, compiled once per evaluation (`None`: not a valid
    /// I-Regexp, the test is false). Indexed by `whole` (`match` anchors, `search` not).
    patterns: [HashMap<Box<str>, Option<Regex>>; 2],
}

/// A ValueType result: a node's value (or a literal's), a computed count, or Nothing.
#[derive(Clone, Copy)]
enum Val<'v> {
    Nothing,
    Node(&'v Doc<'v>),
    Int(i64),
}

/// A number of either kind, compared by value.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

/// The children of an array or object, in order; nothing for other values.
fn children<'a>(node: &'a Doc<'a>) -> impl Iterator<Item = &'a Doc<'a>> {
    let (items, members) = match node {
        Doc::Array(items) => (Some(items.iter()), None),
        Doc::Object(m) => (None, Some(m.iter().map(|(_, v)| v))),
        _ => (None, None),
    };
    items
        .into_iter()
        .flatten()
        .chain(members.into_iter().flatten())
}

fn index<'a>(items: &'a [Doc<'a>], i: i64) -> Option<&'a Doc<'a>> {
    let i = if i < 0 {
        i.checked_add(items.len() as i64)?
    } else {
        i
    };
    items.get(usize::try_from(i).ok()?)
}

impl<'a> Run<'a, '_, '_> {
    /// Appends to a nodelist, charging each growth of its buffer (the new buffer's size, as
    /// the budget counts what is allocated).
    fn push(&mut self, out: &mut Vec<&'a Doc<'a>>, node: &'a Doc<'a>) -> EvalResult<()> {
        if out.len() == out.capacity() {
            let more = out.capacity().max(4);
            self.budget.alloc((out.len() + more) * NODE)?;
            out.reserve_exact(more);
        }
        out.push(node);
        Ok(())
    }

    fn query(&mut self, q: &Query, current: &'a Doc<'a>) -> EvalResult<Vec<&'a Doc<'a>>> {
        let start = if q.relative { current } else { self.root };
        let mut nodes = Vec::new();
        self.push(&mut nodes, start)?;
        for segment in &q.segments {
            if nodes.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for &node in &nodes {
                self.segment(segment, node, &mut next)?;
            }
            nodes = next;
        }
        Ok(nodes)
    }

    /// The one node a singular query finds (names and indexes only), walked without a
    /// nodelist; other queries are run and give a node only when they find exactly one.
    fn single(&mut self, q: &Query, current: &'a Doc<'a>) -> EvalResult<Option<&'a Doc<'a>>> {
        let mut node = if q.relative { current } else { self.root };
        for segment in &q.segments {
            self.budget.step(1)?;
            let found = match (segment.descendant, segment.selectors.as_slice(), node) {
                (false, [Selector::Name(name)], Doc::Object(m)) => m.get(name),
                (false, [Selector::Index(i)], Doc::Array(items)) => index(items, *i),
                (false, [Selector::Name(_) | Selector::Index(_)], _) => None,
                _ => {
                    let nodes = self.query(q, current)?;
                    return Ok(match nodes.as_slice() {
                        [one] => Some(one),
                        _ => None,
                    });
                }
            };
            match found {
                Some(n) => node = n,
                None => return Ok(None),
            }
        }
        Ok(Some(node))
    }

    fn segment(
        &mut self,
        segment: &Segment,
        node: &'a Doc<'a>,
        out: &mut Vec<&'a Doc<'a>>,
    ) -> EvalResult<()> {
        self.budget.step(1)?;
        for selector in &segment.selectors {
            self.selector(selector, node, out)?;
        }
        if !segment.descendant {
            return Ok(());
        }
        // The nodes below `node` in document order, each before its descendants.
        let mut stack = Vec::new();
        self.budget.alloc(NODE)?;
        stack.push(children(node));
        while let Some(top) = stack.last_mut() {
            let Some(child) = top.next() else {
                stack.pop();
                continue;
            };
            self.budget.step(1)?;
            for selector in &segment.selectors {
                self.selector(selector, child, out)?;
            }
            if matches!(child, Doc::Array(_) | Doc::Object(_)) {
                self.budget.alloc(NODE)?;
                stack.push(children(child));
            }
        }
        Ok(())
    }

    fn selector(
        &mut self,
        selector: &Selector,
        node: &'a Doc<'a>,
        out: &mut Vec<&'a Doc<'a>>,
    ) -> EvalResult<()> {
        self.budget.step(1)?;
        match (selector, node) {
            (Selector::Name(name), Doc::Object(m)) => {
                if let Some(v) = m.get(name) {
                    self.push(out, v)?;
                }
            }
            (Selector::Index(i), Doc::Array(items)) => {
                if let Some(v) = index(items, *i) {
                    self.push(out, v)?;
                }
            }
            (Selector::Wildcard, _) => {
                for child in children(node) {
                    self.budget.step(1)?;
                    self.push(out, child)?;
                }
            }
            (Selector::Slice { start, end, step }, Doc::Array(items)) => {
                self.slice(items, *start, *end, step.unwrap_or(1), out)?;
            }
            (Selector::Filter(test), _) => {
                for child in children(node) {
                    self.budget.step(1)?;
                    if self.test(test, child)? {
                        self.push(out, child)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// RFC 9535 §2.3.4.2.2: bounds normalised and clamped, then stepped through.
    fn slice(
        &mut self,
        items: &'a [Doc<'a>],
        start: Option<i64>,
        end: Option<i64>,
        step: i64,
        out: &mut Vec<&'a Doc<'a>>,
    ) -> EvalResult<()> {
        // Bounds and step lie within ±(2^53 − 1) and lengths below 2^53: no overflow.
        let len = items.len() as i64;
        let normalize = |i: i64| if i >= 0 { i } else { len + i };
        let mut visit = |run: &mut Self, i: i64| -> EvalResult<()> {
            run.budget.step(1)?;
            match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                Some(item) => run.push(out, item),
                None => Ok(()),
            }
        };
        match step.cmp(&0) {
            Ordering::Equal => {}
            Ordering::Greater => {
                let lower = start.map_or(0, normalize).clamp(0, len);
                let upper = end.map_or(len, normalize).clamp(0, len);
                let mut i = lower;
                while i < upper {
                    visit(self, i)?;
                    i += step;
                }
            }
            Ordering::Less => {
                let upper = start.map_or(len - 1, normalize).clamp(-1, len - 1);
                let lower = end.map_or(-len - 1, normalize).clamp(-1, len - 1);
                let mut i = upper;
                while lower < i {
                    visit(self, i)?;
                    i += step;
                }
            }
        }
        Ok(())
    }

    fn test(&mut self, test: &Logical, current: &'a Doc<'a>) -> EvalResult<bool> {
        Ok(match test {
            Logical::Or(items) => {
                for item in items {
                    if self.test(item, current)? {
                        return Ok(true);
                    }
                }
                false
            }
            Logical::And(items) => {
                for item in items {
                    if !self.test(item, current)? {
                        return Ok(false);
                    }
                }
                true
            }
            Logical::Not(inner) => !self.test(inner, current)?,
            Logical::Exists(q) => {
                if q.is_singular() {
                    self.single(q, current)?.is_some()
                } else {
                    !self.query(q, current)?.is_empty()
                }
            }
            Logical::Compare(c) => self.compare(c, current)?,
            Logical::Regex(r) => {
                self.budget.step(1)?;
                let Some(subject) = text(self.value(&r.subject, current)?) else {
                    return Ok(false);
                };
                match &r.pattern {
                    Pattern::Compiled(re) => re.is_match(subject, self.budget)?,
                    Pattern::Never => false,
                    Pattern::Dynamic(p) => {
                        let Some(pattern) = text(self.value(p, current)?) else {
                            return Ok(false);
                        };
                        self.dynamic(r.whole, pattern)?;
                        let cache = &self.patterns[usize::from(r.whole)];
                        match cache.get(pattern).and_then(Option::as_ref) {
                            Some(re) => re.is_match(subject, self.budget)?,
                            None => false,
                        }
                    }
                }
            }
        })
    }

    /// Charges the work of scanning `bytes` bytes at `per_step` bytes a step.
    fn scan(&mut self, bytes: usize, per_step: usize) -> EvalResult<()> {
        self.budget.step(1 + (bytes / per_step) as u64)
    }

    /// A pattern read from the record: compiled on first use in this evaluation, its
    /// translation and compilation charged by the size of the program it makes.
    fn dynamic(&mut self, whole: bool, pattern: &str) -> EvalResult<()> {
        self.scan(pattern.len(), SCAN_BYTES)?;
        let cache = &self.patterns[usize::from(whole)];
        if !cache.contains_key(pattern) {
            self.scan(pattern.len(), REGEX_BYTES)?;
            self.budget.alloc(pattern.len())?;
            let regex = match iregexp::translate(pattern, whole) {
                Ok((translated, cost)) => {
                    let limit = self.budget.limits().regex_bytes;
                    // The estimate counts states; `regex-bytes` caps what compiling can do.
                    let cost = usize::try_from(cost).unwrap_or(usize::MAX).min(limit);
                    self.scan(cost.saturating_mul(16), REGEX_BYTES)?;
                    self.budget
                        .alloc(cost.saturating_mul(16).saturating_add(DYNAMIC_DFA))?;
                    iregexp::build(&translated, limit, Some(DYNAMIC_DFA)).ok()
                }
                Err(_) => None,
            };
            self.patterns[usize::from(whole)].insert(pattern.into(), regex);
        }
        Ok(())
    }

    fn value<'v>(&mut self, value: &'v Value, current: &'a Doc<'a>) -> EvalResult<Val<'v>>
    where
        'a: 'v,
    {
        Ok(match value {
            Value::Literal(d) => Val::Node(d),
            Value::Query(q) => self.single(q, current)?.map_or(Val::Nothing, Val::Node),
            Value::Length(inner) => match self.value(inner, current)? {
                Val::Node(Doc::Str(s)) => {
                    self.scan(s.len(), SCAN_BYTES)?;
                    Val::Int(s.chars().count() as i64)
                }
                Val::Node(Doc::Array(items)) => Val::Int(items.len() as i64),
                Val::Node(Doc::Object(m)) => Val::Int(m.len() as i64),
                _ => Val::Nothing,
            },
            Value::Count(q) => Val::Int(self.query(q, current)?.len() as i64),
            Value::Single(q) => match self.query(q, current)?.as_slice() {
                [one] => Val::Node(one),
                _ => Val::Nothing,
            },
        })
    }

    /// RFC 9535 §2.3.5.2.2.
    fn compare(&mut self, c: &Comparison, current: &'a Doc<'a>) -> EvalResult<bool> {
        self.budget.step(1)?;
        let left = self.value(&c.left, current)?;
        let right = self.value(&c.right, current)?;
        Ok(match c.op {
            Op::Eq => self.equal(left, right)?,
            Op::Ne => !self.equal(left, right)?,
            Op::Lt => self.less(left, right)?,
            Op::Le => self.less(left, right)? || self.equal(left, right)?,
            Op::Gt => self.less(right, left)?,
            Op::Ge => self.less(right, left)? || self.equal(left, right)?,
        })
    }

    fn less(&mut self, a: Val<'_>, b: Val<'_>) -> EvalResult<bool> {
        if let (Some(x), Some(y)) = (number(a), number(b)) {
            return Ok(compare_numbers(x, y) == Some(Ordering::Less));
        }
        Ok(match (text(a), text(b)) {
            // UTF-8 byte order is code point order.
            (Some(x), Some(y)) => {
                self.scan(x.len().min(y.len()), SCAN_BYTES)?;
                x < y
            }
            _ => false,
        })
    }

    fn equal(&mut self, a: Val<'_>, b: Val<'_>) -> EvalResult<bool> {
        match (a, b) {
            (Val::Nothing, Val::Nothing) => Ok(true),
            (Val::Nothing, _) | (_, Val::Nothing) => Ok(false),
            (Val::Node(x), Val::Node(y)) => self.deep_equal(x, y),
            (a, b) => Ok(match (number(a), number(b)) {
                (Some(x), Some(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
                _ => false,
            }),
        }
    }

    /// Equality of two values, arrays and objects element by element (explicit stack).
    fn deep_equal(&mut self, a: &Doc<'_>, b: &Doc<'_>) -> EvalResult<bool> {
        let mut pending = vec![(a, b)];
        while let Some((a, b)) = pending.pop() {
            self.budget.step(1)?;
            let same = match (a, b) {
                (Doc::Null, Doc::Null) => true,
                (Doc::Bool(x), Doc::Bool(y)) => x == y,
                (Doc::Str(x), Doc::Str(y)) => {
                    self.scan(x.len().min(y.len()), SCAN_BYTES)?;
                    x == y
                }
                (Doc::Array(x), Doc::Array(y)) => {
                    if x.len() == y.len() {
                        self.budget.alloc(2 * NODE * x.len())?;
                        pending.extend(x.iter().zip(y.iter()));
                    }
                    x.len() == y.len()
                }
                (Doc::Object(x), Doc::Object(y)) => {
                    if x.len() != y.len() {
                        false
                    } else {
                        self.budget.alloc(2 * NODE * x.len())?;
                        let mut all = true;
                        for (k, v) in x.iter() {
                            self.budget.step(1)?;
                            match y.get(k) {
                                Some(w) => pending.push((v, w)),
                                None => {
                                    all = false;
                                    break;
                                }
                            }
                        }
                        all
                    }
                }
                (a, b) => match (number(Val::Node(a)), number(Val::Node(b))) {
                    (Some(x), Some(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
                    _ => false,
                },
            };
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn text(v: Val<'_>) -> Option<&str> {
    match v {
        Val::Node(Doc::Str(s)) => Some(s),
        _ => None,
    }
}

fn number(v: Val<'_>) -> Option<Num> {
    match v {
        Val::Int(i) => Some(Num::Int(i.into())),
        Val::Node(Doc::Int(i)) => Some(Num::Int((*i).into())),
        Val::Node(Doc::Uint(u)) => Some(Num::Int((*u).into())),
        Val::Node(Doc::Float(f)) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// Numbers by value, exactly: an integer against a float compares the integer with the
/// float's integral part, then with its fraction.
fn compare_numbers(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_float(y, x).map(Ordering::reverse),
    }
}

fn int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i128 that a JSON integer can hold (i64 or u64) lies well within ±2^100.
    const BOUND: f64 = 1e30;
    if f >= BOUND {
        return Some(Ordering::Less);
    }
    if f <= -BOUND {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    Some(i.cmp(&(whole as i128)).then(if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    }))
}

//! The SCIM payload: converting values to their targets' types and assembling the resource.

use crate::ir::{Element, Key, PayloadPlan, PlanNode, TopNode};
use crate::record::{Doc, Obj};
use crate::runtime::error::{excerpt, EvalError};
use crate::runtime::format::json_float;
use crate::runtime::time;
use crate::runtime::value::{Str, Value};
use crate::schema::ScimType;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::io::Write;

/// What one entry produced for this record.
#[derive(Debug, Clone)]
pub enum Slot<'a> {
    Absent,
    One(Leaf<'a>),
    /// Element-wise: one value (or none) per position.
    Items(Vec<Option<Leaf<'a>>>),
}

/// A value converted to its target's SCIM type: still borrowed from the record where it can be,
/// so bulk writes it straight from the input line.
#[derive(Debug, Clone)]
pub enum Leaf<'a> {
    Str(Str<'a>),
    Text(String),
    Int(i64),
    /// Finite.
    Float(f64),
    Bool(bool),
}

impl Leaf<'_> {
    pub fn to_json(&self) -> Json {
        match self {
            Leaf::Str(s) => Json::from(&**s),
            Leaf::Text(s) => Json::from(s.as_str()),
            Leaf::Int(i) => Json::from(*i),
            Leaf::Float(f) => Json::from(*f),
            Leaf::Bool(b) => Json::Bool(*b),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Leaf::Str(s) => crate::json::write_str(s, out),
            Leaf::Text(s) => crate::json::write_str(s, out),
            Leaf::Int(i) => {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{i}");
            }
            Leaf::Float(f) => out.extend_from_slice(json_float(*f).as_bytes()),
            Leaf::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        }
    }
}

fn conversion(message: String) -> EvalError {
    EvalError::new("scimap::conversion", message)
}

fn finite(f: f64) -> Result<Leaf<'static>, EvalError> {
    if f.is_finite() {
        Ok(Leaf::Float(f))
    } else {
        Err(conversion(format!(
            "{} is not a finite number",
            json_float(f)
        )))
    }
}

/// Converts a value to a target's SCIM type (reference §payload-conversion); `None` when it is
/// absent (nil or the empty string).
pub fn convert<'a>(v: &Value<'a>, ty: ScimType) -> Result<Option<Leaf<'a>>, EvalError> {
    let kind = v.type_name();
    let cannot = || {
        conversion(format!(
            "a {} cannot become a SCIM {}",
            match v {
                Value::List(_) => "list",
                Value::Map(_) => "map",
                _ => kind,
            },
            ty.name()
        ))
    };
    Ok(Some(match (ty, v) {
        (_, Value::Nil) => return Ok(None),
        (_, Value::Str(s)) if s.is_empty() => return Ok(None),
        (ty, v) if ty.takes_string() => match v {
            Value::Str(s) => Leaf::Str(s.clone()),
            Value::Int(i) => Leaf::Text(i.to_string()),
            Value::Float(f) if f.is_finite() => Leaf::Text(json_float(*f)),
            Value::Bool(b) => Leaf::Text(b.to_string()),
            Value::Time(t) => Leaf::Text(time::rfc3339(t)),
            Value::Duration(d) => Leaf::Text(time::format_duration(*d)),
            Value::Float(f) => {
                return Err(conversion(format!(
                    "{} is not a finite number",
                    json_float(*f)
                )))
            }
            _ => return Err(cannot()),
        },
        (ScimType::Boolean, Value::Bool(b)) => Leaf::Bool(*b),
        (ScimType::Boolean, Value::Str(s)) if s.eq_ignore_ascii_case("true") => Leaf::Bool(true),
        (ScimType::Boolean, Value::Str(s)) if s.eq_ignore_ascii_case("false") => Leaf::Bool(false),
        (ScimType::Boolean, Value::Str(s)) => {
            return Err(conversion(format!(
                "\"{}\" cannot become a SCIM boolean (only \"true\" and \"false\" can)",
                excerpt(s)
            )))
        }
        (ScimType::Integer, Value::Int(i)) => Leaf::Int(*i),
        (ScimType::Integer, Value::Float(f)) => integer_from_float(*f)?,
        (ScimType::Integer, Value::Str(s)) => match number(s) {
            Some(Value::Int(i)) => Leaf::Int(i),
            Some(Value::Float(f)) => integer_from_float(f)?,
            _ => return Err(conversion(format!("\"{}\" is not an integer", excerpt(s)))),
        },
        (ScimType::Decimal, Value::Int(i)) => Leaf::Int(*i),
        (ScimType::Decimal, Value::Float(f)) => finite(*f)?,
        (ScimType::Decimal, Value::Str(s)) => match number(s) {
            Some(Value::Int(i)) => Leaf::Int(i),
            Some(Value::Float(f)) => finite(f)?,
            _ => return Err(conversion(format!("\"{}\" is not a number", excerpt(s)))),
        },
        (ScimType::DateTime, Value::Time(t)) => Leaf::Text(time::rfc3339(t)),
        (ScimType::DateTime, Value::Str(s)) => match time::parse_rfc3339(s) {
            Some(t) => Leaf::Text(time::rfc3339(&t)),
            None => {
                return Err(conversion(format!(
                    "\"{}\" is not an RFC 3339 date-time such as 2026-01-02T03:04:05Z",
                    excerpt(s)
                )))
            }
        },
        _ => return Err(cannot()),
    }))
}

/// `convert` of a record's value as it is (`None`: the record has none), a string to a string
/// target without making a value of it first.
#[inline]
pub fn convert_doc<'a>(
    doc: Option<&'a Doc<'a>>,
    ty: ScimType,
) -> Result<Option<Leaf<'a>>, EvalError> {
    match (doc, ty) {
        (None | Some(Doc::Null), _) => Ok(None),
        (Some(Doc::Str(s)), ty) if ty.takes_string() => {
            Ok((!s.is_empty()).then(|| Leaf::Str(Str::Borrowed(s))))
        }
        (Some(doc), _) => convert(&Value::from_doc(doc), ty),
    }
}

/// `convert`, the result written to `out` as JSON; `false`, nothing written, when absent. A
/// string for a string target (most values) and a boolean for a boolean one are written as they
/// are, without a `Leaf` made of them.
#[inline]
pub fn write_value(v: &Value<'_>, ty: ScimType, out: &mut Vec<u8>) -> Result<bool, EvalError> {
    match (v, ty) {
        (Value::Str(s), ty) if ty.takes_string() => Ok(write_string(s, out)),
        (Value::Bool(b), ScimType::Boolean) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
            Ok(true)
        }
        _ => Ok(convert(v, ty)?.map(|leaf| leaf.write(out)).is_some()),
    }
}

/// `convert_doc`, written as `write_value` writes.
#[inline]
pub fn write_doc(
    doc: Option<&Doc<'_>>,
    ty: ScimType,
    out: &mut Vec<u8>,
) -> Result<bool, EvalError> {
    match (doc, ty) {
        (Some(Doc::Str(s)), ty) if ty.takes_string() => Ok(write_string(s, out)),
        (None | Some(Doc::Null), _) => Ok(false),
        (Some(doc), _) => write_value(&Value::from_doc(doc), ty, out),
    }
}

/// A string for a string target: absent when empty.
#[inline]
fn write_string(s: &str, out: &mut Vec<u8>) -> bool {
    if s.is_empty() {
        return false;
    }
    crate::json::write_str(s, out);
    true
}

fn integer_from_float(f: f64) -> Result<Leaf<'static>, EvalError> {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        Ok(Leaf::Int(f as i64))
    } else {
        Err(conversion(format!("{} is not an integer", json_float(f))))
    }
}

/// A numeric string read as a number: `"070707"` → 70707, `"1.5"` → 1.5.
fn number(s: &str) -> Option<Value<'static>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::Int(i));
    }
    let f: f64 = t.parse().ok()?;
    // Rust also reads "inf" and "NaN"; JSON numbers do not.
    f.is_finite().then_some(Value::Float(f))
}

/// Whether a sub-attribute counts towards keeping an element.
fn counts(sub: &str) -> bool {
    sub != "type" && sub != "primary"
}

/// Where the resource goes: compact JSON bytes (bulk) or a `serde_json::Value` (the library
/// API). One walk of the plan drives both, so they cannot disagree.
trait Sink<'s> {
    fn open_object(&mut self);
    fn key(&mut self, key: &'s Key);
    fn close_object(&mut self);
    fn open_array(&mut self);
    fn close_array(&mut self);
    fn leaf(&mut self, v: &'s Leaf<'s>);
    fn json(&mut self, v: &'s Json);
    fn string(&mut self, key: &'s Key);
    fn yes(&mut self);
}

/// `Key::PRIMARY` for as long as a walk borrows its keys.
static PRIMARY: Key = Key::PRIMARY;
static SCHEMAS: Key = Key::SCHEMAS;

/// Compact JSON, with a comma before every value or key but the first of its container.
struct Bytes<'o> {
    out: &'o mut Vec<u8>,
    comma: bool,
}

/// Where a `Bytes` was: what it goes back to when what followed is left out.
#[derive(Clone, Copy)]
struct Mark {
    len: usize,
    comma: bool,
}

impl Bytes<'_> {
    fn mark(&self) -> Mark {
        Mark {
            len: self.out.len(),
            comma: self.comma,
        }
    }

    fn undo(&mut self, mark: Mark) {
        self.out.truncate(mark.len);
        self.comma = mark.comma;
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    /// `key` and entry `i`'s value, written by `value`; nothing when the entry is absent.
    #[inline(always)]
    fn member(
        &mut self,
        key: &Key,
        i: usize,
        value: &mut impl FnMut(usize, &mut Vec<u8>) -> bool,
    ) -> bool {
        let undo = self.mark();
        self.key(key);
        let written = value(i, self.out);
        if written {
            self.comma = true;
        } else {
            self.undo(undo);
        }
        written
    }
}

impl<'s> Sink<'s> for Bytes<'_> {
    fn open_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.comma = false;
    }
    fn key(&mut self, key: &Key) {
        self.separate();
        self.out.extend_from_slice(key.member());
        self.comma = false;
    }
    fn close_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }
    fn open_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.comma = false;
    }
    fn close_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }
    fn leaf(&mut self, v: &Leaf<'_>) {
        self.separate();
        v.write(self.out);
    }
    fn json(&mut self, v: &Json) {
        self.separate();
        crate::json::write(v, self.out);
    }
    fn string(&mut self, key: &Key) {
        self.separate();
        self.out.extend_from_slice(key.json());
    }
    fn yes(&mut self) {
        self.separate();
        self.out.extend_from_slice(b"true");
    }
}

/// A `serde_json::Value` built as the walk goes: open containers with the key each goes under.
#[derive(Default)]
struct Tree {
    open: Vec<(Option<String>, Json)>,
    key: Option<String>,
    done: Option<Json>,
}

impl Tree {
    fn put(&mut self, v: Json) {
        let key = self.key.take();
        match self.open.last_mut() {
            Some((_, Json::Object(map))) => {
                map.insert(key.unwrap_or_default(), v);
            }
            Some((_, Json::Array(items))) => items.push(v),
            _ => self.done = Some(v),
        }
    }
    fn open(&mut self, container: Json) {
        let key = self.key.take();
        self.open.push((key, container));
    }
    fn close(&mut self) {
        if let Some((key, container)) = self.open.pop() {
            self.key = key;
            self.put(container);
        }
    }
}

impl<'s> Sink<'s> for Tree {
    fn open_object(&mut self) {
        self.open(Json::Object(serde_json::Map::new()));
    }
    fn key(&mut self, key: &Key) {
        self.key = Some(key.to_string());
    }
    fn close_object(&mut self) {
        self.close();
    }
    fn open_array(&mut self) {
        self.open(Json::Array(Vec::new()));
    }
    fn close_array(&mut self) {
        self.close();
    }
    fn leaf(&mut self, v: &Leaf<'_>) {
        self.put(v.to_json());
    }
    fn json(&mut self, v: &Json) {
        self.put(v.clone());
    }
    fn string(&mut self, key: &Key) {
        self.put(Json::from(&**key));
    }
    fn yes(&mut self) {
        self.put(Json::Bool(true));
    }
}

fn one<'s>(slots: &'s [Slot<'s>], i: usize) -> Option<&'s Leaf<'s>> {
    match slots.get(i) {
        Some(Slot::One(v)) => Some(v),
        _ => None,
    }
}

/// Position `p` of an element-wise entry.
fn item<'s>(slots: &'s [Slot<'s>], i: usize, p: usize) -> Option<&'s Leaf<'s>> {
    match slots.get(i) {
        Some(Slot::Items(v)) => v.get(p)?.as_ref(),
        _ => None,
    }
}

/// How many elements the element-wise entries of an attribute make: the longest list.
fn positions(element_wise: &[(Key, usize)], slots: &[Slot<'_>]) -> usize {
    element_wise
        .iter()
        .map(|(_, i)| match slots.get(*i) {
            Some(Slot::Items(v)) => v.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// An element is kept when a sub-attribute other than `type` and `primary` has a value.
fn kept(e: &Element, slots: &[Slot<'_>]) -> bool {
    e.subs
        .iter()
        .any(|(name, i)| counts(name) && one(slots, *i).is_some())
}

fn kept_at(element_wise: &[(Key, usize)], slots: &[Slot<'_>], p: usize) -> bool {
    element_wise
        .iter()
        .any(|(name, i)| counts(name) && item(slots, *i, p).is_some())
}

/// Whether an attribute has anything to show: absent ones are left out with their key.
fn present(node: &PlanNode, slots: &[Slot<'_>]) -> bool {
    match node {
        PlanNode::Value(i) => one(slots, *i).is_some(),
        PlanNode::Complex(subs) => subs.iter().any(|(_, i)| one(slots, *i).is_some()),
        PlanNode::Multi {
            elements,
            element_wise,
        } => {
            elements.iter().any(|e| kept(e, slots))
                || (0..positions(element_wise, slots)).any(|p| kept_at(element_wise, slots, p))
        }
    }
}

/// Walks the plan: `schemas` first, every key where its first entry put it, absent values and
/// empty objects, lists and extensions left out.
fn emit<'s>(
    core_urn: &'s Key,
    plan: &'s PayloadPlan,
    slots: &'s [Slot<'s>],
    sink: &mut impl Sink<'s>,
) {
    sink.open_object();
    sink.key(&SCHEMAS);
    sink.open_array();
    sink.string(core_urn);
    for node in &plan.top {
        if let TopNode::Extension(urn, attrs) = node {
            if attrs.iter().any(|(_, n)| present(n, slots)) {
                sink.string(urn);
            }
        }
    }
    sink.close_array();
    for node in &plan.top {
        match node {
            TopNode::Attr(name, node) => {
                if present(node, slots) {
                    sink.key(name);
                    emit_node(node, slots, sink);
                }
            }
            TopNode::Extension(urn, attrs) => {
                let mut opened = false;
                for (name, node) in attrs.iter().filter(|(_, n)| present(n, slots)) {
                    if !opened {
                        sink.key(urn);
                        sink.open_object();
                        opened = true;
                    }
                    sink.key(name);
                    emit_node(node, slots, sink);
                }
                if opened {
                    sink.close_object();
                }
            }
        }
    }
    sink.close_object();
}

/// A present attribute's value.
fn emit_node<'s>(node: &'s PlanNode, slots: &'s [Slot<'s>], sink: &mut impl Sink<'s>) {
    match node {
        PlanNode::Value(i) => {
            if let Some(v) = one(slots, *i) {
                sink.leaf(v);
            }
        }
        PlanNode::Complex(subs) => {
            sink.open_object();
            for (name, i) in subs {
                if let Some(v) = one(slots, *i) {
                    sink.key(name);
                    sink.leaf(v);
                }
            }
            sink.close_object();
        }
        PlanNode::Multi {
            elements,
            element_wise,
        } => {
            sink.open_array();
            for e in elements.iter().filter(|e| kept(e, slots)) {
                sink.open_object();
                for (name, v) in &e.fixed {
                    sink.key(name);
                    sink.json(v);
                }
                for (name, i) in &e.subs {
                    if let Some(v) = one(slots, *i) {
                        sink.key(name);
                        sink.leaf(v);
                    }
                }
                if e.auto_primary {
                    sink.key(&PRIMARY);
                    sink.yes();
                }
                sink.close_object();
            }
            for p in 0..positions(element_wise, slots) {
                if !kept_at(element_wise, slots, p) {
                    continue;
                }
                sink.open_object();
                for (name, i) in element_wise {
                    if let Some(v) = item(slots, *i, p) {
                        sink.key(name);
                        sink.leaf(v);
                    }
                }
                sink.close_object();
            }
            sink.close_array();
        }
    }
}

/// The resource as a `serde_json::Value`.
pub fn assemble(core_urn: &Key, plan: &PayloadPlan, slots: &[Slot<'_>]) -> Json {
    let mut tree = Tree::default();
    emit(core_urn, plan, slots, &mut tree);
    tree.done.unwrap_or_default()
}

/// The resource as a record tree borrowing the payload's keys and values: what update plans
/// compare with the app's resource, built without copying a string.
pub fn assemble_doc<'s>(
    core_urn: &'s Key,
    plan: &'s PayloadPlan,
    slots: &'s [Slot<'s>],
) -> Doc<'s> {
    let mut tree = DocTree::default();
    emit(core_urn, plan, slots, &mut tree);
    tree.done.unwrap_or(Doc::Null)
}

/// A `record::Doc` built as the walk goes, as `Tree` builds a `serde_json::Value`.
#[derive(Default)]
struct DocTree<'s> {
    open: Vec<(Option<&'s str>, Open<'s>)>,
    key: Option<&'s str>,
    done: Option<Doc<'s>>,
}

enum Open<'s> {
    Object(Vec<(Cow<'s, str>, Doc<'s>)>),
    Array(Vec<Doc<'s>>),
}

impl<'s> DocTree<'s> {
    fn put(&mut self, v: Doc<'s>) {
        let key = self.key.take();
        match self.open.last_mut() {
            Some((_, Open::Object(entries))) => {
                entries.push((Cow::Borrowed(key.unwrap_or_default()), v))
            }
            Some((_, Open::Array(items))) => items.push(v),
            None => self.done = Some(v),
        }
    }
    fn open(&mut self, container: Open<'s>) {
        let key = self.key.take();
        self.open.push((key, container));
    }
    fn close(&mut self) {
        if let Some((key, container)) = self.open.pop() {
            self.key = key;
            self.put(match container {
                Open::Object(entries) => Doc::Object(Obj::new(entries)),
                Open::Array(items) => Doc::Array(items),
            });
        }
    }
}

impl<'s> Sink<'s> for DocTree<'s> {
    fn open_object(&mut self) {
        self.open(Open::Object(Vec::new()));
    }
    fn key(&mut self, key: &'s Key) {
        self.key = Some(key);
    }
    fn close_object(&mut self) {
        self.close();
    }
    fn open_array(&mut self) {
        self.open(Open::Array(Vec::new()));
    }
    fn close_array(&mut self) {
        self.close();
    }
    fn leaf(&mut self, v: &'s Leaf<'s>) {
        self.put(match v {
            Leaf::Str(s) => Doc::Str(Cow::Borrowed(s)),
            Leaf::Text(s) => Doc::Str(Cow::Borrowed(s)),
            Leaf::Int(i) => Doc::Int(*i),
            Leaf::Float(f) => Doc::Float(*f),
            Leaf::Bool(b) => Doc::Bool(*b),
        });
    }
    fn json(&mut self, v: &'s Json) {
        self.put(Doc::from_json(v));
    }
    fn string(&mut self, key: &'s Key) {
        self.put(Doc::Str(Cow::Borrowed(key)));
    }
    fn yes(&mut self) {
        self.put(Doc::Bool(true));
    }
}

/// The resource written as compact JSON, byte for byte what `assemble` would print.
pub fn write(core_urn: &Key, plan: &PayloadPlan, slots: &[Slot<'_>], out: &mut Vec<u8>) {
    emit(core_urn, plan, slots, &mut Bytes { out, comma: false });
}

/// Writes the payload as `write` does, each entry's value written by `value` when the walk
/// reaches it, after its key, each entry once: no entry's value is made beyond its writing.
/// `value(i, out)` appends entry `i`'s JSON value to `out`, or appends nothing and says the
/// entry is absent (its key is then taken out again). For plans whose entries each give one
/// value, with at most 64 top-level attributes ([`PayloadPlan::direct`]).
pub fn write_direct(
    core_urn: &Key,
    plan: &PayloadPlan,
    out: &mut Vec<u8>,
    value: &mut impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    let mut sink = Bytes { out, comma: false };
    sink.open_object();
    sink.key(&SCHEMAS);
    sink.open_array();
    sink.string(core_urn);
    // Every extension's URN, taken out again at the end when the extension has no value: a
    // record with a value in each (most) leaves its payload where it was written.
    for node in &plan.top {
        if let TopNode::Extension(urn, _) = node {
            sink.string(urn);
        }
    }
    let urns_end = sink.out.len();
    let mut absent = 0u64;
    sink.close_array();
    for (at, node) in plan.top.iter().enumerate() {
        match node {
            TopNode::Attr(name, node) => write_node(&mut sink, name, node, value),
            TopNode::Extension(urn, attrs) => {
                let undo = sink.mark();
                sink.key(urn);
                sink.open_object();
                let empty = sink.out.len();
                for (name, node) in attrs {
                    write_node(&mut sink, name, node, value);
                }
                if sink.out.len() == empty {
                    sink.undo(undo);
                    absent |= 1 << at;
                } else {
                    sink.close_object();
                }
            }
        }
    }
    sink.close_object();
    if absent != 0 {
        // Last to first: each URN is still where it was written when its turn comes.
        let mut end = urns_end;
        for (at, node) in plan.top.iter().enumerate().rev() {
            if let TopNode::Extension(urn, _) = node {
                let start = end - 1 - urn.json().len();
                if absent & (1 << at) != 0 {
                    out.drain(start..end);
                }
                end = start;
            }
        }
    }
}

/// One attribute, left out (key and all) when it has nothing to show. A single value (most
/// attributes) is written in place: no call of its own.
#[inline(always)]
fn write_node(
    sink: &mut Bytes<'_>,
    name: &Key,
    node: &PlanNode,
    value: &mut impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    match node {
        PlanNode::Value(i) => {
            sink.member(name, *i, value);
        }
        PlanNode::Complex(subs) => write_complex(sink, name, subs, value),
        PlanNode::Multi { elements, .. } => write_multi(sink, name, elements, value),
    }
}

/// A complex attribute, left out when none of its sub-attributes has a value.
fn write_complex(
    sink: &mut Bytes<'_>,
    name: &Key,
    subs: &[(Key, usize)],
    value: &mut impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    let undo = sink.mark();
    sink.key(name);
    sink.open_object();
    let empty = sink.out.len();
    for (sub, i) in subs {
        sink.member(sub, *i, value);
    }
    if sink.out.len() == empty {
        sink.undo(undo);
    } else {
        sink.close_object();
    }
}

/// A multi-valued attribute, left out when none of its elements is kept.
fn write_multi(
    sink: &mut Bytes<'_>,
    name: &Key,
    elements: &[Element],
    value: &mut impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    let undo = sink.mark();
    sink.key(name);
    sink.open_array();
    let empty = sink.out.len();
    for e in elements {
        let element = sink.mark();
        sink.open_object();
        for (k, v) in &e.fixed {
            sink.key(k);
            sink.json(v);
        }
        let mut kept = false;
        for (sub, i) in &e.subs {
            kept |= sink.member(sub, *i, value) && counts(sub);
        }
        if !kept {
            sink.undo(element);
            continue;
        }
        if e.auto_primary {
            sink.key(&PRIMARY);
            sink.yes();
        }
        sink.close_object();
    }
    if sink.out.len() == empty {
        sink.undo(undo);
    } else {
        sink.close_array();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::value::unlimited;

    #[test]
    fn conversions_follow_language_5() {
        let s = |v: Value<'static>, t| {
            convert(&v, t)
                .map(|leaf| leaf.map(|l| l.to_json()))
                .map_err(|e| e.into_message())
        };
        assert_eq!(
            s(Value::Int(7), ScimType::String),
            Ok(Some(Json::from("7")))
        );
        assert_eq!(
            s(Value::Float(1e21), ScimType::String),
            Ok(Some(Json::from("1e+21")))
        );
        assert_eq!(
            s(Value::Bool(true), ScimType::String),
            Ok(Some(Json::from("true")))
        );
        assert_eq!(
            s(unlimited::string("TRUE"), ScimType::Boolean),
            Ok(Some(Json::from(true)))
        );
        assert!(s(unlimited::string("yes"), ScimType::Boolean).is_err());
        assert_eq!(
            s(unlimited::string("070707"), ScimType::Integer),
            Ok(Some(Json::from(70707)))
        );
        assert_eq!(
            s(Value::Float(3.0), ScimType::Integer),
            Ok(Some(Json::from(3)))
        );
        assert!(s(Value::Float(3.5), ScimType::Integer).is_err());
        assert!(s(unlimited::string("inf"), ScimType::Decimal).is_err());
        assert_eq!(s(unlimited::string(""), ScimType::String), Ok(None));
        assert_eq!(s(Value::Nil, ScimType::Boolean), Ok(None));
        assert!(s(unlimited::list(vec![Value::Int(1)]), ScimType::String).is_err());
        assert!(s(Value::Float(f64::NAN), ScimType::Decimal).is_err());
    }
}

//! The SCIM payload: converting values to their targets' types and assembling the resource.

use crate::eval::error::EvalError;
use crate::eval::format::json_float;
use crate::eval::time;
use crate::eval::value::{Str, Value};
use crate::ir::{Key, PayloadPlan, PlanNode, TopNode};
use crate::schema::ScimType;
use serde_json::Value as Json;
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

/// Converts a value to a target's SCIM type (LANGUAGE §5); `None` when it is absent
/// (nil or the empty string).
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
        (ScimType::String | ScimType::Reference | ScimType::Binary, v) => match v {
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
                "\"{s}\" cannot become a SCIM boolean (only \"true\" and \"false\" can)"
            )))
        }
        (ScimType::Integer, Value::Int(i)) => Leaf::Int(*i),
        (ScimType::Integer, Value::Float(f)) => integer_from_float(*f)?,
        (ScimType::Integer, Value::Str(s)) => match number(s) {
            Some(Value::Int(i)) => Leaf::Int(i),
            Some(Value::Float(f)) => integer_from_float(f)?,
            _ => return Err(conversion(format!("\"{s}\" is not an integer"))),
        },
        (ScimType::Decimal, Value::Int(i)) => Leaf::Int(*i),
        (ScimType::Decimal, Value::Float(f)) => finite(*f)?,
        (ScimType::Decimal, Value::Str(s)) => match number(s) {
            Some(Value::Int(i)) => Leaf::Int(i),
            Some(Value::Float(f)) => finite(f)?,
            _ => return Err(conversion(format!("\"{s}\" is not a number"))),
        },
        (ScimType::DateTime, Value::Time(t)) => Leaf::Text(time::rfc3339(t)),
        (ScimType::DateTime, Value::Str(s)) => match time::parse_rfc3339(s) {
            Some(t) => Leaf::Text(time::rfc3339(&t)),
            None => {
                return Err(conversion(format!(
                    "\"{s}\" is not an RFC 3339 date-time such as 2026-01-02T03:04:05Z"
                )))
            }
        },
        _ => return Err(cannot()),
    }))
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

/// The payload's shape for one record: borrowed from the plan and the slots, so it can be
/// written straight to bytes (bulk) or turned into a `serde_json::Value` (the library API)
/// by the same code.
enum Out<'s> {
    Object(Vec<(&'s Key, Out<'s>)>),
    Array(Vec<Out<'s>>),
    Value(&'s Leaf<'s>),
    Fixed(&'s Json),
    Urns(Vec<&'s Key>),
    True,
}

/// Shapes the resource: `schemas` first, every key where its first entry put it.
fn shape<'s>(core_urn: &'s Key, plan: &'s PayloadPlan, slots: &'s [Slot<'s>]) -> Out<'s> {
    let mut keys = Vec::with_capacity(plan.top.len() + 1);
    let mut urns = vec![core_urn];
    keys.push((&Key::SCHEMAS, Out::Urns(Vec::new())));
    for node in &plan.top {
        match node {
            TopNode::Attr(name, node) => {
                if let Some(v) = build(node, slots) {
                    keys.push((name, v));
                }
            }
            TopNode::Extension(urn, attrs) => {
                let ext: Vec<_> = attrs
                    .iter()
                    .filter_map(|(name, node)| Some((name, build(node, slots)?)))
                    .collect();
                if !ext.is_empty() {
                    urns.push(urn);
                    keys.push((urn, Out::Object(ext)));
                }
            }
        }
    }
    keys[0].1 = Out::Urns(urns);
    Out::Object(keys)
}

fn one<'s>(slots: &'s [Slot<'s>], i: usize) -> Option<&'s Leaf<'s>> {
    match slots.get(i) {
        Some(Slot::One(v)) => Some(v),
        _ => None,
    }
}

fn build<'s>(node: &'s PlanNode, slots: &'s [Slot<'s>]) -> Option<Out<'s>> {
    match node {
        PlanNode::Value(i) => one(slots, *i).map(Out::Value),
        PlanNode::Complex(subs) => {
            let obj: Vec<_> = subs
                .iter()
                .filter_map(|(name, i)| Some((name, Out::Value(one(slots, *i)?))))
                .collect();
            (!obj.is_empty()).then_some(Out::Object(obj))
        }
        PlanNode::Multi {
            elements,
            element_wise,
        } => {
            let mut items = Vec::new();
            for e in elements {
                let mut obj: Vec<_> = e.fixed.iter().map(|(n, v)| (n, Out::Fixed(v))).collect();
                let mut kept = false;
                for (name, i) in &e.subs {
                    if let Some(v) = one(slots, *i) {
                        kept |= counts(name);
                        obj.push((name, Out::Value(v)));
                    }
                }
                if kept {
                    if e.auto_primary {
                        obj.push((&Key::PRIMARY, Out::True));
                    }
                    items.push(Out::Object(obj));
                }
            }
            let positions = element_wise
                .iter()
                .map(|(_, i)| match slots.get(*i) {
                    Some(Slot::Items(v)) => v.len(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            for p in 0..positions {
                let mut obj = Vec::new();
                let mut kept = false;
                for (name, i) in element_wise {
                    if let Some(Slot::Items(v)) = slots.get(*i) {
                        if let Some(Some(value)) = v.get(p) {
                            kept |= counts(name);
                            obj.push((name, Out::Value(value)));
                        }
                    }
                }
                if kept {
                    items.push(Out::Object(obj));
                }
            }
            (!items.is_empty()).then_some(Out::Array(items))
        }
    }
}

impl Out<'_> {
    fn to_json(&self) -> Json {
        match self {
            Out::Object(keys) => Json::Object(
                keys.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Out::Array(items) => Json::Array(items.iter().map(Out::to_json).collect()),
            Out::Value(v) => v.to_json(),
            Out::Fixed(v) => (*v).clone(),
            Out::Urns(urns) => Json::Array(urns.iter().map(|u| Json::from(&***u)).collect()),
            Out::True => Json::Bool(true),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Out::Object(keys) => {
                out.push(b'{');
                for (i, (k, v)) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(k.json());
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
            Out::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            Out::Value(v) => v.write(out),
            Out::Fixed(v) => crate::json::write(v, out),
            Out::Urns(urns) => {
                out.push(b'[');
                for (i, u) in urns.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(u.json());
                }
                out.push(b']');
            }
            Out::True => out.extend_from_slice(b"true"),
        }
    }
}

/// The resource as a `serde_json::Value`.
pub fn assemble(core_urn: &Key, plan: &PayloadPlan, slots: &[Slot<'_>]) -> Json {
    shape(core_urn, plan, slots).to_json()
}

/// The resource written as compact JSON, byte for byte what `assemble` would print.
pub fn write(core_urn: &Key, plan: &PayloadPlan, slots: &[Slot<'_>], out: &mut Vec<u8>) {
    shape(core_urn, plan, slots).write(out);
}

#[cfg(test)]
mod tests {
    use super::*;

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
            s(Value::string("TRUE"), ScimType::Boolean),
            Ok(Some(Json::from(true)))
        );
        assert!(s(Value::string("yes"), ScimType::Boolean).is_err());
        assert_eq!(
            s(Value::string("070707"), ScimType::Integer),
            Ok(Some(Json::from(70707)))
        );
        assert_eq!(
            s(Value::Float(3.0), ScimType::Integer),
            Ok(Some(Json::from(3)))
        );
        assert!(s(Value::Float(3.5), ScimType::Integer).is_err());
        assert!(s(Value::string("inf"), ScimType::Decimal).is_err());
        assert_eq!(s(Value::string(""), ScimType::String), Ok(None));
        assert_eq!(s(Value::Nil, ScimType::Boolean), Ok(None));
        assert!(s(Value::list(vec![Value::Int(1)]), ScimType::String).is_err());
        assert!(s(Value::Float(f64::NAN), ScimType::Decimal).is_err());
    }
}

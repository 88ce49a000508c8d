//! Static types of expressions (reference §types).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// What a builtin expects of an argument (its row's `params`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Want {
    Str,
    Int,
    Num,
    List,
    Map,
    Any,
}

impl Want {
    /// Whether a value of type `t` may be given where this is wanted (nil aside).
    pub fn accepts(self, t: &Type) -> bool {
        matches!(
            (self, t.non_nil()),
            (Want::Any, _)
                | (_, Type::Any)
                | (Want::Str, Type::String)
                | (Want::Int, Type::Int)
                | (Want::Num, Type::Int | Type::Float)
                | (Want::List, Type::Array(_))
                | (Want::Map, Type::Map | Type::Object(_))
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::Int => "an integer",
            Want::Num => "a number",
            Want::List => "an array",
            Want::Map => "a map",
            Want::Any => "a value",
        }
    }
}

/// The common type of two branches.
pub fn unify(a: &Type, b: &Type) -> Type {
    if a == b {
        return a.clone();
    }
    match (a, b) {
        (Type::Nil, t) | (t, Type::Nil) => t.clone().nullable(),
        (Type::Any, _) | (_, Type::Any) => Type::Any,
        _ if a.non_nil() == b.non_nil() => a.non_nil().clone().nullable(),
        _ => Type::Any,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Time,
    Duration,
    Location,
    Array(Box<Type>),
    /// A map whose fields are unknown (a map literal, `fromJSON`, an open record object).
    Map,
    /// A record object with known fields (the user record, `mfa`, an address).
    Object(Arc<ObjectType>),
    Any,
    /// `T?`: may be nil.
    Nullable(Box<Type>),
}

/// The known fields of a record object, in schema order.
#[derive(Debug)]
pub struct ObjectType {
    pub name: String,
    pub fields: Vec<(String, Type)>,
    /// What the schema says a field is, by field name (for the language service; a field may
    /// have none).
    pub descriptions: BTreeMap<String, String>,
}

impl ObjectType {
    pub fn field(&self, name: &str) -> Option<&Type> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    pub fn description(&self, name: &str) -> Option<&str> {
        self.descriptions.get(name).map(String::as_str)
    }
}

/// Descriptions are documentation: two objects with the same name and fields are one type.
impl PartialEq for ObjectType {
    fn eq(&self, other: &ObjectType) -> bool {
        self.name == other.name && self.fields == other.fields
    }
}

impl Type {
    pub fn nullable(self) -> Type {
        match self {
            Type::Nullable(_) | Type::Nil | Type::Any => self,
            t => Type::Nullable(Box::new(t)),
        }
    }

    /// The type without its `?`.
    pub fn non_nil(&self) -> &Type {
        match self {
            Type::Nullable(t) => t,
            t => t,
        }
    }

    pub fn is_nullable(&self) -> bool {
        matches!(self, Type::Nullable(_) | Type::Nil)
    }
}

/// Levels of `array<…>` and `?` a message spells out: a constant may nest a hundred deep.
const SHOWN_LEVELS: usize = 4;

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The layers of arrays and nullables, outermost first; without recursion.
        let mut layers = Vec::new();
        let mut t = self;
        loop {
            t = match t {
                Type::Array(item) => {
                    layers.push(true);
                    item
                }
                Type::Nullable(inner) => {
                    layers.push(false);
                    inner
                }
                _ => break,
            };
        }
        let shown = &layers[..layers.len().min(SHOWN_LEVELS)];
        for &array in shown {
            if array {
                f.write_str("array<")?;
            }
        }
        if shown.len() < layers.len() {
            f.write_str("…")?;
        } else {
            f.write_str(match t {
                Type::Nil => "nil",
                Type::Bool => "bool",
                Type::Int => "int",
                Type::Float => "float",
                Type::String => "string",
                Type::Time => "time",
                Type::Duration => "duration",
                Type::Location => "location",
                Type::Map | Type::Object(_) => "map",
                Type::Any => "any",
                // Peeled above.
                Type::Array(_) | Type::Nullable(_) => "…",
            })?;
        }
        for &array in shown.iter().rev() {
            f.write_str(if array { ">" } else { "?" })?;
        }
        Ok(())
    }
}

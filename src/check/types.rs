//! Static types of expressions (LANGUAGE §4).

use std::fmt;
use std::sync::Arc;

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
#[derive(Debug, PartialEq)]
pub struct ObjectType {
    pub name: String,
    pub fields: Vec<(String, Type)>,
}

impl ObjectType {
    pub fn field(&self, name: &str) -> Option<&Type> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
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

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Nil => f.write_str("nil"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::String => f.write_str("string"),
            Type::Time => f.write_str("time"),
            Type::Duration => f.write_str("duration"),
            Type::Location => f.write_str("location"),
            Type::Array(t) => write!(f, "array<{t}>"),
            Type::Map | Type::Object(_) => f.write_str("map"),
            Type::Any => f.write_str("any"),
            Type::Nullable(t) => write!(f, "{t}?"),
        }
    }
}

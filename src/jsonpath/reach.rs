//! What a path can reach in records of a schema, for `scimap test --generate` (reference
//! §generate): whether any record the schema allows gives it a node, and the string literals
//! its filters compare against (which generated records should hold).

use super::{Inner, JsonPath, Segment, Selector, Value};
use crate::record::Doc;
use crate::types::Type;
use std::ops::ControlFlow;

impl JsonPath {
    /// Why the path selects nothing in every record of type `record`, or `None` when some
    /// record may give it a node. Filters are taken as passing (a filter that can never pass
    /// is not found), so `None` is not a proof that the path matches.
    pub fn unreachable(&self, record: &Type) -> Option<String> {
        let mut at = vec![record.clone()];
        for (i, segment) in self.query.segments.iter().enumerate() {
            let input = if segment.descendant {
                descendants(&at)
            } else {
                at.clone()
            };
            let mut next: Vec<Type> = Vec::new();
            for ty in &input {
                for selector in &segment.selectors {
                    for t in step(ty, selector) {
                        if !next.contains(&t) {
                            next.push(t);
                        }
                    }
                }
            }
            if next.is_empty() {
                let before = render(&self.query.segments[..i]);
                return Some(format!(
                    "`{}` selects {} there, and `{}` selects nothing in {}",
                    before,
                    kinds(&at),
                    render(std::slice::from_ref(segment)).trim_start_matches('$'),
                    if at.len() == 1 { "it" } else { "any of them" }
                ));
            }
            at = next;
        }
        None
    }

    /// The string literals the path's filters compare with (`'work'` in
    /// `$.phoneNumbers[?@.type == 'work']`), at most `most`.
    pub fn string_literals(&self, most: usize) -> Vec<String> {
        let mut out = Vec::new();
        let _ = self.query.walk_filters(|inner| {
            if out.len() >= most {
                return ControlFlow::Break(());
            }
            if let Inner::Value(Value::Literal(Doc::Str(s))) = inner {
                out.push(s.to_string());
            }
            ControlFlow::Continue(())
        });
        out
    }
}

/// The types one selector finds below a node of type `ty` (nil and scalars have no children).
fn step(ty: &Type, selector: &Selector) -> Vec<Type> {
    match (selector, ty.non_nil()) {
        (_, Type::Any) => vec![Type::Any],
        (Selector::Name(name), Type::Object(o)) => o.field(name).cloned().into_iter().collect(),
        (Selector::Name(_), Type::Map) => vec![Type::Any],
        (Selector::Index(_) | Selector::Slice { .. }, Type::Array(item)) => vec![(**item).clone()],
        (Selector::Wildcard | Selector::Filter(_), Type::Array(item)) => vec![(**item).clone()],
        (Selector::Wildcard | Selector::Filter(_), Type::Object(o)) => {
            o.fields.iter().map(|(_, t)| t.clone()).collect()
        }
        (Selector::Wildcard | Selector::Filter(_), Type::Map) => vec![Type::Any],
        _ => Vec::new(),
    }
}

/// `types` and every type below them (the schema's types are finite and not recursive; `any`
/// is its own descendant).
fn descendants(types: &[Type]) -> Vec<Type> {
    let mut out: Vec<Type> = Vec::new();
    let mut todo = types.to_vec();
    while let Some(t) = todo.pop() {
        if out.contains(&t) {
            continue;
        }
        todo.extend(step(&t, &Selector::Wildcard));
        out.push(t);
    }
    out
}

/// What a set of types is, for a message: "`phoneNumber` objects", "strings or nulls".
fn kinds(types: &[Type]) -> String {
    let mut names: Vec<String> = Vec::new();
    for t in types {
        let name = match t.non_nil() {
            Type::Object(o) if o.name == "user" || o.name == "group" => {
                format!("the {} record", o.name)
            }
            Type::Object(o) => format!("`{}` objects", o.name),
            Type::Array(_) => "arrays".into(),
            Type::Map => "maps".into(),
            Type::String => "strings".into(),
            Type::Bool => "booleans".into(),
            Type::Int | Type::Float => "numbers".into(),
            _ => "values".into(),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" or ")
}

/// The segments as a path text: `$.phoneNumbers[?…]`.
fn render(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    for s in segments {
        if s.descendant {
            out.push_str("..");
        }
        let parts: Vec<String> = s
            .selectors
            .iter()
            .map(|sel| match sel {
                Selector::Name(n) if !s.descendant && s.selectors.len() == 1 && plain(n) => {
                    format!(".{n}")
                }
                Selector::Name(n) => format!("'{}'", n.replace('\\', "\\\\").replace('\'', "\\'")),
                Selector::Index(i) => i.to_string(),
                Selector::Wildcard => "*".into(),
                Selector::Slice { start, end, step } => {
                    let n = |v: &Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                    match step {
                        Some(_) => format!("{}:{}:{}", n(start), n(end), n(step)),
                        None => format!("{}:{}", n(start), n(end)),
                    }
                }
                Selector::Filter(_) => "?…".into(),
            })
            .collect();
        match parts.as_slice() {
            [one] if one.starts_with('.') => out.push_str(one),
            _ => {
                out.push('[');
                out.push_str(&parts.join(","));
                out.push(']');
            }
        }
    }
    out
}

/// A name written after a dot (RFC 9535 member-name-shorthand, ASCII part).
fn plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use crate::jsonpath::JsonPath;
    use crate::limits::Limits;

    fn unreachable(path: &str) -> Option<String> {
        JsonPath::parse(path, &Limits::default())
            .unwrap()
            .unreachable(crate::schema::user_record())
    }

    #[test]
    fn an_index_after_a_filter_indexes_each_element() {
        assert_eq!(
            unreachable("$.phoneNumbers[?@.type == 'work'][0].number").as_deref(),
            Some(
                "`$.phoneNumbers[?…]` selects `phoneNumber` objects there, and `[0]` selects \
                 nothing in it"
            )
        );
        assert_eq!(
            unreachable("$.phoneNumbers[?@.type == 'work'].number"),
            None
        );
        assert_eq!(unreachable("$.phoneNumbers[0].number"), None);
    }

    #[test]
    fn scalars_names_and_descendants() {
        assert!(unreachable("$.username[0]").is_some());
        assert!(unreachable("$.username.first").is_some());
        assert!(unreachable("$.nosuchfield").is_some());
        assert_eq!(unreachable("$..number"), None);
        assert!(unreachable("$..nosuchfield").is_some());
        assert_eq!(unreachable("$.*"), None);
        assert_eq!(unreachable("$['username','x']"), None);
        let group = crate::schema::group_record();
        let path = JsonPath::parse("$.attributes.anything[3].deep", &Limits::default()).unwrap();
        assert_eq!(path.unreachable(group), None, "a map holds anything");
    }

    #[test]
    fn filter_literals_are_found() {
        let path = JsonPath::parse(
            "$.a[?@.type == 'work' || (@.kind != \"x\" && match(@.v, 'y.*'))]",
            &Limits::default(),
        )
        .unwrap();
        let mut found = path.string_literals(10);
        found.sort();
        assert_eq!(found, ["work", "x"]);
        assert_eq!(path.string_literals(1).len(), 1);
    }
}

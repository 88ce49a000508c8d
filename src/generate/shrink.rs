//! Shrinking (reference §generate-shrinking): the smallest record found that still fails the
//! same way, or still leaves an entry absent.

use super::records::{blank, format_of};
use crate::types::Type;
use serde_json::{json, Value as Json};

/// A step from a value to one inside it.
#[derive(Clone, Debug)]
enum Key {
    Field(String),
    Item(usize),
}

/// Greedy delta debugging on a record: drop optional fields and list items, replace values
/// with simpler ones of a type the schema allows (null, `""`, `"a"`, a shorter string, 0),
/// keeping each change after which `keep` still holds and the record `cost`s less, until no
/// change is kept or `steps` evaluations are spent. Gives the record and the
/// evaluations made.
pub(super) fn shrink(
    mut record: Json,
    schema: &Type,
    keep: &dyn Fn(&Json) -> bool,
    steps: usize,
) -> (Json, usize) {
    let mut size = cost(&record);
    let mut spent = 0;
    let mut candidates = edits(&record, schema);
    let mut i = 0;
    let mut kept_in_pass = false;
    while spent < steps {
        if i >= candidates.len() {
            if !kept_in_pass {
                break;
            }
            kept_in_pass = false;
            i = 0;
            continue;
        }
        let (path, replacement) = &candidates[i];
        let Some(candidate) = apply(&record, path, replacement.as_ref()) else {
            i += 1;
            continue;
        };
        let candidate_size = cost(&candidate);
        if candidate_size >= size {
            i += 1;
            continue;
        }
        spent += 1;
        if keep(&candidate) {
            record = candidate;
            size = candidate_size;
            kept_in_pass = true;
            // The same position holds the next change to try in the new record.
            candidates = edits(&record, schema);
        } else {
            i += 1;
        }
    }
    (record, spent)
}

/// What shrinking lowers: the JSON text's length, then its characters other than `a` and `0`
/// (so `"Ω"` becomes `"a"`). Each kept change lowers it, so shrinking ends.
fn cost(record: &Json) -> (usize, usize) {
    let text = record.to_string();
    let plain = text.chars().filter(|c| !matches!(c, 'a' | '0')).count();
    (text.len(), plain)
}

/// Every simplification of `record`, removals first, shallow ones first: a path and the value
/// to put there (`None`: remove it).
fn edits(record: &Json, schema: &Type) -> Vec<(Vec<Key>, Option<Json>)> {
    let mut out = Vec::new();
    // (path, value, type, whether it may be removed, whether it has a format).
    let mut todo = vec![(Vec::new(), record, schema.clone(), false, false)];
    let mut push = |path: &Vec<Key>, value: Option<Json>, filled: bool| {
        if !(filled && value.as_ref().and_then(Json::as_str).is_some_and(blank)) {
            out.push((path.clone(), value));
        }
    };
    // Breadth first: dropping a whole field is tried before simplifying inside it.
    let mut at = 0;
    while at < todo.len() {
        let (path, value, ty, removable, formatted) = todo[at].clone();
        at += 1;
        if removable {
            push(&path, None, false);
        }
        // A top-level string the record always has stays filled, as the generator makes it.
        let filled = path.len() == 1 && matches!(ty, Type::String);
        let nullable = ty.is_nullable() || matches!(ty, Type::Any);
        if nullable && !value.is_null() {
            push(&path, Some(Json::Null), filled);
        }
        let ty = ty.non_nil().clone();
        match value {
            Json::String(s) if !s.is_empty() && !formatted => {
                push(&path, Some(json!("")), filled);
                push(&path, Some(json!("a")), filled);
                let chars: Vec<char> = s.chars().collect();
                if chars.len() > 1 {
                    let last = chars.len() - 1;
                    push(
                        &path,
                        Some(json!(chars[..=last / 2].iter().collect::<String>())),
                        filled,
                    );
                    push(
                        &path,
                        Some(json!(chars[1..].iter().collect::<String>())),
                        filled,
                    );
                    push(
                        &path,
                        Some(json!(chars[..last].iter().collect::<String>())),
                        filled,
                    );
                }
            }
            Json::Number(n) if n.as_f64() != Some(0.0) => {
                let zero = if matches!(ty, Type::Float) {
                    json!(0.0)
                } else {
                    json!(0)
                };
                push(&path, Some(zero), false);
            }
            Json::Array(items) => {
                let item = match &ty {
                    Type::Array(item) => (**item).clone(),
                    _ => Type::Any,
                };
                for (k, v) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Key::Item(k));
                    todo.push((p, v, item.clone(), true, false));
                }
            }
            Json::Object(map) => {
                for (k, v) in map {
                    let (field, removable, formatted) = match &ty {
                        Type::Object(o) => match o.field(k) {
                            Some(t) => {
                                (t.clone(), t.is_nullable(), format_of(&o.name, k).is_some())
                            }
                            None => (Type::Any, true, false),
                        },
                        _ => (Type::Any, true, false),
                    };
                    let mut p = path.clone();
                    p.push(Key::Field(k.clone()));
                    todo.push((p, v, field, removable, formatted));
                }
            }
            _ => {}
        }
    }
    // Removals first: they cut the most.
    out.sort_by_key(|(_, replacement)| replacement.is_some());
    out
}

/// `record` with the value at `path` replaced (or removed: `None`).
fn apply(record: &Json, path: &[Key], replacement: Option<&Json>) -> Option<Json> {
    let mut out = record.clone();
    let (last, parents) = path.split_last()?;
    let mut at = &mut out;
    for key in parents {
        at = match key {
            Key::Field(k) => at.get_mut(k.as_str())?,
            Key::Item(i) => at.get_mut(*i)?,
        };
    }
    match (last, replacement, at) {
        (Key::Field(k), None, Json::Object(map)) => {
            map.remove(k)?;
        }
        (Key::Item(i), None, Json::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        (Key::Field(k), Some(v), Json::Object(map)) => *map.get_mut(k)? = v.clone(),
        (Key::Item(i), Some(v), Json::Array(items)) => *items.get_mut(*i)? = v.clone(),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::schema;
    use super::*;
    use crate::mapping::Kind;

    #[test]
    fn shrinking_drops_what_does_not_matter() {
        let record = json!({"_id": "5f1b", "username": "long name here", "firstname": "Zoë",
            "addresses": [{"type": "work"}, {"type": "home"}]});
        let keep = |r: &Json| r["username"].as_str().is_some_and(|s| s.contains('n'));
        let (small, steps) = shrink(record, schema(Kind::User), &keep, 1000);
        assert_eq!(
            small,
            json!({"_id": "5f1b", "username": "n"}),
            "required strings stay filled, formatted ones as they are"
        );
        assert!(steps <= 1000);
        let record =
            json!({"username": "abcdef", "firstname": "x", "lastname": "y", "jobTitle": "z"});
        let (small, steps) = shrink(record, schema(Kind::User), &|_| true, 3);
        assert_eq!(steps, 3, "the step bound holds");
        assert_eq!(
            small,
            json!({"username": "abcdef"}),
            "three fields dropped, then no more"
        );
    }
}

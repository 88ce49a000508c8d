//! Direct sources: what a compiled JSON Path finds in a record.

use crate::ir::{Path, Segment};
use serde_json::Value as Json;

/// The nodes a path found. Element-wise targets keep one position per item of the first
/// wildcard's list, with `None` where an item lacks the rest of the path.
pub enum Found<'a> {
    Nodes(Vec<&'a Json>),
    Positions(Vec<Option<&'a Json>>),
}

pub fn select<'a>(path: &Path, record: &'a Json, element_wise: bool) -> Found<'a> {
    match path {
        Path::General(p) => Found::Nodes(p.query(record).all()),
        Path::Simple(segments) => {
            if element_wise {
                if let Some(w) = segments.iter().position(|s| matches!(s, Segment::Wildcard)) {
                    let positions = match walk(&segments[..w], record) {
                        Some(Json::Array(items)) => items
                            .iter()
                            .map(|item| single(&segments[w + 1..], item))
                            .collect(),
                        Some(Json::Object(m)) => m
                            .values()
                            .map(|item| single(&segments[w + 1..], item))
                            .collect(),
                        _ => Vec::new(),
                    };
                    return Found::Positions(positions);
                }
            }
            let mut out = Vec::new();
            collect(segments, record, &mut out);
            Found::Nodes(out)
        }
    }
}

/// The one node a wildcard-free path finds.
fn walk<'a>(segments: &[Segment], mut node: &'a Json) -> Option<&'a Json> {
    for seg in segments {
        node = step(seg, node)?;
    }
    Some(node)
}

/// The rest of a path below a wildcard item: one node, or None (also when it finds several).
fn single<'a>(segments: &[Segment], node: &'a Json) -> Option<&'a Json> {
    let mut out = Vec::new();
    collect(segments, node, &mut out);
    match out.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

fn step<'a>(seg: &Segment, node: &'a Json) -> Option<&'a Json> {
    match (seg, node) {
        (Segment::Field(name), Json::Object(m)) => m.get(name),
        (Segment::Index(i), Json::Array(items)) => {
            let i = if *i < 0 {
                i.checked_add(items.len() as i64)?
            } else {
                *i
            };
            items.get(usize::try_from(i).ok()?)
        }
        _ => None,
    }
}

/// Every node a path finds, in document order (iterative: paths may be long).
fn collect<'a>(segments: &[Segment], node: &'a Json, out: &mut Vec<&'a Json>) {
    let mut current = vec![node];
    for seg in segments {
        let mut next = Vec::new();
        for node in current {
            match (seg, node) {
                (Segment::Wildcard, Json::Array(items)) => next.extend(items.iter()),
                (Segment::Wildcard, Json::Object(m)) => next.extend(m.values()),
                (Segment::Wildcard, _) => {}
                (seg, node) => next.extend(step(seg, node)),
            }
        }
        current = next;
    }
    out.extend(current);
}

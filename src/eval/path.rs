//! Direct sources: what a compiled simple JSON Path finds in a record (other paths run on the
//! JSON Path engine, `crate::jsonpath`).

use crate::ir::Segment;
use crate::record::Doc;

/// The nodes a path found. Element-wise targets keep one position per item of the first
/// wildcard's list, with `None` where an item lacks the rest of the path.
pub enum Found<'a> {
    Nodes(Vec<&'a Doc<'a>>),
    Positions(Vec<Option<&'a Doc<'a>>>),
}

pub fn select<'a>(segments: &[Segment], record: &'a Doc<'a>, element_wise: bool) -> Found<'a> {
    if element_wise {
        if let Some(w) = segments.iter().position(|s| matches!(s, Segment::Wildcard)) {
            let rest = &segments[w + 1..];
            let positions = match walk(&segments[..w], record) {
                Some(Doc::Array(items)) => items.iter().map(|item| single(rest, item)).collect(),
                Some(Doc::Object(m)) => m.iter().map(|(_, item)| single(rest, item)).collect(),
                _ => Vec::new(),
            };
            return Found::Positions(positions);
        }
    }
    let mut out = Vec::new();
    collect(segments, record, &mut out);
    Found::Nodes(out)
}

/// The one node a wildcard-free path finds.
fn walk<'a>(segments: &[Segment], mut node: &'a Doc<'a>) -> Option<&'a Doc<'a>> {
    for seg in segments {
        node = step(seg, node)?;
    }
    Some(node)
}

/// The rest of a path below a wildcard item: one node, or None (also when it finds several).
fn single<'a>(segments: &[Segment], node: &'a Doc<'a>) -> Option<&'a Doc<'a>> {
    let mut out = Vec::new();
    collect(segments, node, &mut out);
    match out.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

fn step<'a>(seg: &Segment, node: &'a Doc<'a>) -> Option<&'a Doc<'a>> {
    match (seg, node) {
        (Segment::Field(name), Doc::Object(m)) => m.get(name),
        (Segment::Index(i), Doc::Array(items)) => {
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
fn collect<'a>(segments: &[Segment], node: &'a Doc<'a>, out: &mut Vec<&'a Doc<'a>>) {
    let mut current = vec![node];
    for seg in segments {
        let mut next = Vec::new();
        for node in current {
            match (seg, node) {
                (Segment::Wildcard, Doc::Array(items)) => next.extend(items.iter()),
                (Segment::Wildcard, Doc::Object(m)) => next.extend(m.iter().map(|(_, v)| v)),
                (Segment::Wildcard, _) => {}
                (seg, node) => next.extend(step(seg, node)),
            }
        }
        current = next;
    }
    out.extend(current);
}

//! Common subexpressions: a pure subexpression written more than once in a section (the
//! benchmark mapping writes `firstname + " " + lastname` three times) is evaluated once per
//! record and its value reused (`Op::Shared`).
//!
//! Only values are reused, never errors: an occurrence whose evaluation fails is evaluated
//! again where it next appears, so every entry reports its own error at its own span, exactly
//! as without sharing.

use crate::ir::{Node, Op, Section, Source};
use std::collections::HashMap;

/// Rewrites `section` so that each repeated pure subexpression is kept in a slot.
pub fn share(section: &mut Section) {
    let mut ids = Ids::default();
    let mut seen = Vec::new();
    for root in roots(section) {
        ids.visit(root, &mut seen);
    }
    let mut counts = vec![0u32; ids.by_key.len()];
    for id in seen.iter().flatten() {
        if let Some(c) = counts.get_mut(*id) {
            *c += 1;
        }
    }
    let mut rewrite = Rewrite {
        seen: &seen,
        counts: &counts,
        next: 0,
        slots: HashMap::new(),
    };
    for root in roots_mut(section) {
        rewrite.node(root, 1, false);
    }
    section.shared = rewrite.slots.len();
}

fn roots(section: &Section) -> impl Iterator<Item = &Node> {
    let entries = section.entries.iter().filter_map(|e| match &e.source {
        Source::Expr(n) => Some(n),
        _ => None,
    });
    entries.chain(section.lets.iter().map(|l| &l.value))
}

fn roots_mut(section: &mut Section) -> impl Iterator<Item = &mut Node> {
    let entries = section
        .entries
        .iter_mut()
        .filter_map(|e| match &mut e.source {
            Source::Expr(n) => Some(n),
            _ => None,
        });
    entries.chain(section.lets.iter_mut().map(|l| &mut l.value))
}

/// Hash-consing: a subtree's key is its own operation and its children's ids, so keys stay
/// small however deep the tree.
#[derive(Default)]
struct Ids {
    by_key: HashMap<Vec<u8>, usize>,
}

impl Ids {
    /// Records in `seen`, in pre-order, the id of each node of `n`'s subtree worth sharing
    /// (equal ids: structurally equal pure subtrees); returns `n`'s id if it is pure.
    fn visit(&mut self, n: &Node, seen: &mut Vec<Option<usize>>) -> Option<usize> {
        let at = seen.len();
        seen.push(None);
        let mut children = Vec::new();
        let mut pure = true;
        n.for_each_child(|c| match self.visit(c, seen) {
            Some(id) => children.push(id),
            None => pure = false,
        });
        let size = seen.len() - at;
        let key = if pure { key(&n.op, &children) } else { None };
        let id = key.map(|k| {
            let next = self.by_key.len();
            *self.by_key.entry(k).or_insert(next)
        });
        if let Some(s) = seen.get_mut(at) {
            *s = id.filter(|_| worth_sharing(&n.op, size));
        }
        id
    }
}

/// Only what costs more than a slot lookup and a clone: a call, a string built, a list or map
/// built, a regex, a date.
fn worth_sharing(op: &Op, size: usize) -> bool {
    match op {
        Op::Native { .. }
        | Op::Concat { .. }
        | Op::DateLayout { .. }
        | Op::FormatLayout { .. }
        | Op::Method { .. }
        | Op::Attr { .. }
        | Op::MatchesConst { .. }
        | Op::Slice { .. }
        | Op::NameOf { .. } => true,
        Op::Array(_) | Op::Map(_) | Op::Binary(..) | Op::Conditional { .. } => size >= 4,
        _ => false,
    }
}

/// The operation's own part of a key, with its children's ids; `None` where the value depends
/// on more than the record (local slots, written by `let` and predicates).
fn key(op: &Op, children: &[usize]) -> Option<Vec<u8>> {
    let mut k = Vec::with_capacity(16 + 8 * children.len());
    let word = |k: &mut Vec<u8>, w: u64| k.extend_from_slice(&w.to_le_bytes());
    let text = |k: &mut Vec<u8>, s: &str| {
        k.extend_from_slice(&(s.len() as u64).to_le_bytes());
        k.extend_from_slice(s.as_bytes());
    };
    // One tag per variant; its payload after it; then the children.
    match op {
        Op::Local(_) | Op::Let { .. } | Op::Predicate { .. } | Op::Sequence(_) => return None,
        Op::Shared { .. } => return None,
        Op::Nil => k.push(0),
        Op::Bool(b) => k.extend([1, u8::from(*b)]),
        Op::Int(i) => {
            k.push(2);
            word(&mut k, *i as u64);
        }
        Op::Float(f) => {
            k.push(3);
            word(&mut k, f.to_bits());
        }
        Op::Str(s) => {
            k.push(4);
            text(&mut k, s);
        }
        Op::Field(i) => {
            k.push(5);
            word(&mut k, *i as u64);
        }
        Op::Env => k.push(6),
        Op::SectionLet(i) => {
            k.push(7);
            word(&mut k, *i as u64);
        }
        Op::Array(_) => k.push(8),
        Op::Map(_) => k.push(9),
        Op::Unary(o, _) => k.extend([10, *o as u8]),
        Op::Binary(o, ..) => k.extend([11, *o as u8]),
        // Compiled patterns and layouts are compared by identity: equal ones compiled twice are
        // merely not shared.
        Op::MatchesConst { regex, negate, .. } => {
            k.extend([12, u8::from(*negate)]);
            word(&mut k, std::sync::Arc::as_ptr(regex) as u64);
        }
        Op::Member { optional, .. } => k.extend([13, u8::from(*optional)]),
        Op::Slice { from, to, .. } => {
            k.extend([14, u8::from(from.is_some()), u8::from(to.is_some())])
        }
        Op::Native { call, .. } => {
            k.push(15);
            word(&mut k, *call as usize as u64);
        }
        Op::DateLayout { layout, .. } => {
            k.push(16);
            word(&mut k, std::sync::Arc::as_ptr(layout) as u64);
        }
        Op::FormatLayout {
            layout, optional, ..
        } => {
            k.extend([17, u8::from(*optional)]);
            word(&mut k, std::sync::Arc::as_ptr(layout) as u64);
        }
        Op::Method { name, optional, .. } => {
            k.extend([18, u8::from(*optional)]);
            text(&mut k, name);
        }
        Op::Now => k.push(19),
        Op::Attr { group, .. } => k.extend([20, u8::from(*group)]),
        Op::NameOf { weekday, .. } => k.extend([21, u8::from(*weekday)]),
        Op::Conditional { .. } => k.push(22),
        Op::Concat { .. } => k.push(23),
    }
    // The child count separates `[a, b]` from `[[a, b]]`'s shapes whatever the ids.
    word(&mut k, children.len() as u64);
    for &c in children {
        word(&mut k, c as u64);
    }
    Some(k)
}

struct Rewrite<'s> {
    seen: &'s [Option<usize>],
    counts: &'s [u32],
    /// The pre-order position of the next node.
    next: usize,
    /// Slot of each shared id.
    slots: HashMap<usize, usize>,
}

impl Rewrite<'_> {
    /// Wraps `n` if it occurs more often than the shared node around it (`outer` times);
    /// `object` when `n` is the object of a member, slice or method chain, whose `?.` must
    /// end the whole chain and so cannot go through a slot.
    fn node(&mut self, n: &mut Node, outer: u32, object: bool) {
        let seen = self.seen;
        let Some(&id) = seen.get(self.next) else {
            return;
        };
        self.next += 1;
        let count = id.and_then(|id| self.counts.get(id)).copied().unwrap_or(0);
        let share = count >= 2 && count > outer && !object;
        let chain = matches!(
            n.op,
            Op::Member { .. } | Op::Slice { .. } | Op::Method { .. } | Op::FormatLayout { .. }
        );
        let inner = if share { count } else { outer };
        let mut first = true;
        n.for_each_child_mut(|c| {
            self.node(c, inner, chain && first);
            first = false;
        });
        if let (true, Some(id)) = (share, id) {
            let next = self.slots.len();
            let index = *self.slots.entry(id).or_insert(next);
            let op = std::mem::replace(&mut n.op, Op::Nil);
            n.op = Op::Shared {
                index,
                node: Box::new(Node { op, span: n.span }),
            };
        }
    }
}

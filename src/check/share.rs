//! Common subexpressions: a pure subexpression written more than once in a section (the
//! benchmark mapping writes `firstname + " " + lastname` three times) is evaluated once per
//! record and its value reused (`Op::Shared`).
//!
//! Only values are reused, never errors: an occurrence whose evaluation fails is evaluated
//! again where it next appears, so every entry reports its own error at its own span, exactly
//! as without sharing.
//!
//! Both passes walk with a stack of their own, not by recursion: a mapping may nest up to the
//! depth limit, and the checker has already used that much of the thread's stack once.

use crate::ir::{Node, Op, Section, Source};
use crate::runtime::builtins::Call;
use std::collections::HashMap;

/// What the first pass learns of each node, by pre-order position.
struct Facts {
    /// Equal ids: structurally equal pure subtrees. `None`: impure.
    id: Vec<Option<usize>>,
    /// Whether the node is worth a slot (see `worth_sharing`).
    worth: Vec<bool>,
    parent: Vec<Option<usize>>,
    /// Whether the node is the object or receiver of a member, slice or method chain, whose
    /// `?.` must end the whole chain and so cannot go through a slot.
    object: Vec<bool>,
}

/// Rewrites `section` so that each repeated pure subexpression is kept in a slot.
pub fn share(section: &mut Section) {
    let facts = learn(section);
    let mut counts: HashMap<usize, u32> = HashMap::new();
    for id in facts.id.iter().flatten() {
        *counts.entry(*id).or_default() += 1;
    }
    let count = |i: usize| {
        let id = facts.id.get(i).copied().flatten();
        id.and_then(|id| counts.get(&id)).copied().unwrap_or(0)
    };
    // Top-down, parents before children: a node is shared when it occurs more often than the
    // shared node around it (which it can only occur inside of otherwise).
    let n = facts.id.len();
    let mut outer = vec![1u32; n];
    let mut wrap = vec![false; n];
    for i in 0..n {
        let around = facts.parent[i].map_or(1, |p| if wrap[p] { count(p) } else { outer[p] });
        outer[i] = around;
        wrap[i] = facts.worth[i] && !facts.object[i] && count(i) >= 2 && count(i) > around;
    }
    let mut slots: HashMap<usize, usize> = HashMap::new();
    // Pre-order again, in step with the first pass. A node just wrapped is pushed back as its
    // slot's content (`true`): the same position, so its children come next.
    let mut stack: Vec<(&mut Node, bool)> = roots_mut(section).map(|n| (n, false)).collect();
    stack.reverse();
    let mut at = 0;
    while let Some((node, content)) = stack.pop() {
        if !content {
            let i = at;
            at += 1;
            if let (Some(true), Some(id)) = (wrap.get(i), facts.id.get(i).copied().flatten()) {
                let next = slots.len();
                let index = *slots.entry(id).or_insert(next);
                let op = std::mem::replace(&mut node.op, Op::Nil);
                let span = node.span;
                node.op = Op::Shared {
                    index,
                    node: Box::new(Node { op, span }),
                };
                node.for_each_child_mut(|inner| stack.push((inner, true)));
                continue;
            }
        }
        let mut children = Vec::new();
        node.for_each_child_mut(|c| children.push((c, false)));
        stack.extend(children.into_iter().rev());
    }
    section.shared = slots.len();
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

/// The first pass: every node in pre-order, then ids bottom-up by hash-consing (a subtree's
/// key is its own operation and its children's ids, so keys stay small however deep the tree).
fn learn(section: &Section) -> Facts {
    let mut nodes: Vec<&Node> = Vec::new();
    let mut parent = Vec::new();
    let mut object = Vec::new();
    let mut children: Vec<Vec<usize>> = Vec::new();
    let mut stack: Vec<(&Node, Option<usize>, bool)> =
        roots(section).map(|n| (n, None, false)).collect();
    stack.reverse();
    while let Some((n, p, is_object)) = stack.pop() {
        let i = nodes.len();
        nodes.push(n);
        parent.push(p);
        object.push(is_object);
        children.push(Vec::new());
        if let Some(kids) = p.and_then(|p| children.get_mut(p)) {
            kids.push(i);
        }
        let chain = matches!(
            n.op,
            Op::Member { .. } | Op::Slice { .. } | Op::Method { .. } | Op::FormatLayout { .. }
        );
        let mut below = Vec::new();
        n.for_each_child(|c| below.push(c));
        let first = below.len().saturating_sub(1);
        stack.extend(
            below
                .into_iter()
                .rev()
                .enumerate()
                .map(|(k, c)| (c, Some(i), chain && k == first)),
        );
    }
    let mut by_key: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut id = vec![None; nodes.len()];
    let mut size = vec![1usize; nodes.len()];
    // Children come after their parent in pre-order: backwards, they are done first.
    for i in (0..nodes.len()).rev() {
        let kids = children.get(i).map(Vec::as_slice).unwrap_or_default();
        let ids: Option<Vec<usize>> = kids.iter().map(|&k| id.get(k).copied().flatten()).collect();
        size[i] += kids.iter().map(|&k| size[k]).sum::<usize>();
        let key = ids.and_then(|ids| key(&nodes[i].op, &ids));
        id[i] = key.map(|k| {
            let next = by_key.len();
            *by_key.entry(k).or_insert(next)
        });
    }
    let worth = nodes
        .iter()
        .zip(&size)
        .map(|(n, &s)| worth_sharing(&n.op, s))
        .collect();
    Facts {
        id,
        worth,
        parent,
        object,
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
            let f = match *call {
                Call::Value(f) => f as usize,
                Call::Text(f) => f as usize,
            };
            word(&mut k, f as u64);
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
        Op::EqStr {
            constant, negate, ..
        } => {
            k.extend([24, u8::from(*negate)]);
            text(&mut k, constant);
        }
        Op::IsNil { negate, .. } => k.extend([25, u8::from(*negate)]),
    }
    // The child count separates `[a, b]` from `[[a, b]]`'s shapes whatever the ids.
    word(&mut k, children.len() as u64);
    for &c in children {
        word(&mut k, c as u64);
    }
    Some(k)
}

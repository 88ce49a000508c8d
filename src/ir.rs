//! The typed, resolved program the checker produces and the evaluator runs.
//!
//! Names are resolved to slots and functions, constant regexes and layouts are compiled, and the
//! payload's shape (key order, elements) is fixed here, so evaluating a record never looks at
//! mapping text again.

use crate::diagnostic::Span;
use crate::runtime::builtins::Call;
use crate::runtime::time::Layout;
use crate::schema::ScimType;
pub use crate::syntax::ast::Predicate;
use crate::syntax::ast::{BinaryOp, UnaryOp};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

/// One section (`user { … }` or `group { … }`) compiled.
#[derive(Debug)]
pub struct Section {
    pub core_urn: Key,
    pub entries: Vec<Entry>,
    pub lets: Vec<Let>,
    /// The top-level record fields expressions read, by `Op::Field` index.
    pub fields: Vec<String>,
    /// Where each of `fields` was last found in a record read without the reader's positions.
    pub hints: FieldHints,
    /// Local slots an evaluation needs (expression `let`s and predicate variables).
    pub locals: usize,
    /// Slots of `Op::Shared` values: common subexpressions, each evaluated once per record.
    pub shared: usize,
    pub payload: PayloadPlan,
    /// Indices of entries that target a required attribute, with its canonical name.
    pub required: Vec<(usize, String)>,
}

/// For each of a section's fields, its position in the last record that was searched for it
/// by name (a [`crate::Record`] or `serde_json` record: the bulk reader says where fields are).
/// Records from one source mostly share a layout, so a lookup compares the key found there
/// before it searches. A cache shared by every thread that evaluates the section: relaxed
/// atomics, and any value it holds only costs a search. With each field's name hashed once,
/// as a large object's index hashes its keys ([`crate::record::key_hash`]).
#[derive(Debug, Default)]
pub struct FieldHints {
    positions: Box<[AtomicU32]>,
    hashes: Box<[u64]>,
}

impl FieldHints {
    pub fn new(fields: &[String]) -> FieldHints {
        FieldHints {
            positions: fields.iter().map(|_| AtomicU32::new(0)).collect(),
            hashes: fields.iter().map(|f| crate::record::key_hash(f)).collect(),
        }
    }

    pub fn get(&self, field: usize) -> usize {
        self.positions
            .get(field)
            .map_or(0, |h| h.load(Relaxed) as usize)
    }

    pub fn set(&self, field: usize, position: usize) {
        if let (Some(h), Ok(position)) = (self.positions.get(field), u32::try_from(position)) {
            h.store(position, Relaxed);
        }
    }

    /// The hash of field `field`'s name (0 for no such field, which no lookup asks for).
    pub fn hash(&self, field: usize) -> u64 {
        self.hashes.get(field).copied().unwrap_or_default()
    }
}

/// A section-level `let`, evaluated at most once per record when first needed.
#[derive(Debug)]
pub struct Let {
    pub name: String,
    pub value: Node,
}

#[derive(Debug)]
pub struct Entry {
    /// `create TARGET = …`: sent on creation, never on update (reference §profile-create).
    pub create_only: bool,
    /// The target as errors write it: canonical case, URN-qualified extensions
    /// (reference §payload-error-object).
    pub target: String,
    pub ty: ScimType,
    /// `attr[]`: the source yields one value per element.
    pub element_wise: bool,
    pub source: Source,
    /// The source text as written, and where it starts (1-based), for errors and `--explain`.
    pub source_text: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug)]
pub enum Source {
    Direct(Path),
    Const(crate::record::Doc<'static>),
    Expr(Node),
}

/// A compiled JSON Path: simple `$.a.b[0]` paths become segments walked directly; anything else
/// is run by the JSON Path engine, parsed once.
#[derive(Debug)]
pub enum Path {
    Simple(Vec<Segment>),
    General(crate::jsonpath::JsonPath),
}

#[derive(Debug, Clone)]
pub enum Segment {
    Field(String),
    Index(i64),
    /// `[*]` / `.*`: every item (element-wise targets keep one position per item).
    Wildcard,
}

#[derive(Debug)]
pub struct Node {
    pub op: Op,
    pub span: Span,
}

#[derive(Debug)]
pub enum Op {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    /// A top-level record field: its index in `Section::fields`, resolved once per record.
    Field(usize),
    /// `$env`: the whole record.
    Env,
    /// An expression `let` or a predicate variable.
    Local(usize),
    /// A section `let`.
    SectionLet(usize),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `x == "constant"` (either side; `negate`: `!=`): true when `x` is that string, with no
    /// value made for the constant and no general comparison.
    EqStr {
        subject: Box<Node>,
        constant: Box<str>,
        negate: bool,
    },
    /// `x == nil` (either side; `negate`: `!=`).
    IsNil {
        subject: Box<Node>,
        negate: bool,
    },
    /// `x matches "constant"`, compiled once.
    MatchesConst {
        subject: Box<Node>,
        regex: Arc<crate::runtime::pattern::Pattern>,
        negate: bool,
    },
    Member {
        object: Box<Node>,
        index: Box<Node>,
        optional: bool,
        /// The object's source text, for "`mfa` is nil for this record".
        object_text: Box<str>,
    },
    Slice {
        object: Box<Node>,
        from: Option<Box<Node>>,
        to: Option<Box<Node>>,
    },
    /// A builtin, by its name in the catalogue (the fused `join(split())` is `join`).
    Native {
        name: &'static str,
        call: Call,
        args: Vec<Node>,
    },
    /// `date(s, "constant layout"[, tz])` with the layout compiled once.
    DateLayout {
        args: Vec<Node>,
        layout: Arc<Layout>,
    },
    /// `x.Format("constant layout")`.
    FormatLayout {
        receiver: Box<Node>,
        layout: Arc<Layout>,
        optional: bool,
    },
    Method {
        receiver: Box<Node>,
        name: Box<str>,
        args: Vec<Node>,
        optional: bool,
        receiver_text: Box<str>,
    },
    Predicate {
        func: Predicate,
        list: Box<Node>,
        /// `count(xs)` and `sum(xs)` have none.
        body: Option<Box<Node>>,
        /// Extra arguments: `reduce`'s initial value, `sortBy`'s order.
        extra: Vec<Node>,
        /// Slots of `#`, `#index`, `#acc`.
        slot: usize,
        /// A `map` body fused into a `filter`, `find` or `findLast`, as Expr's optimizer fuses
        /// `map(filter(xs, p), f)` and `first`/`last` of a filter: applied to each item kept,
        /// with `#` in the slot given, and no list built in between.
        map: Option<(Box<Node>, usize)>,
        /// The builtin as written, for messages: `filter` for a fused one.
        written: Predicate,
    },
    Now,
    /// `attr(name)`: a custom attribute of the user (`attributes[].name`) or group (`attributes.name`).
    Attr {
        name: Box<Node>,
        group: bool,
    },
    /// `string(t.Month())` / `string(t.Weekday())`: Go prints the English name.
    NameOf {
        arg: Box<Node>,
        weekday: bool,
    },
    Conditional {
        cond: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    Let {
        slot: usize,
        value: Box<Node>,
        body: Box<Node>,
    },
    Sequence(Vec<Node>),
    /// `a + b + …` of strings, built in one buffer: `joins[i]` is the span of the `+` that adds
    /// `parts[i + 1]`, where an operand that is not a string (a record may hold a number where
    /// the schema says string) is added as `Binary(Add)` would.
    Concat {
        parts: Vec<Node>,
        joins: Vec<Span>,
    },
    /// A pure subexpression written more than once in the section (`check::share`): its value
    /// is kept in slot `index` the first time it is evaluated without error.
    Shared {
        index: usize,
        node: Box<Node>,
    },
}

/// The shape of the payload, fixed at compile time: every key where the first entry targeting
/// it puts it.
#[derive(Debug, Default)]
pub struct PayloadPlan {
    pub top: Vec<TopNode>,
}

impl PayloadPlan {
    /// Whether the payload can be written as its entries are evaluated
    /// (`payload::write_direct`): every one of a section's `entries` placed once, none
    /// element-wise, and at most 64 top-level attributes (which extensions have a value is
    /// kept in a word).
    pub fn direct(&self, entries: usize) -> bool {
        let mut placed = Vec::with_capacity(entries);
        let mut element_wise = false;
        let mut visit = |node: &PlanNode| match node {
            PlanNode::Value(i) => placed.push(*i),
            PlanNode::Complex(subs) => placed.extend(subs.iter().map(|(_, i)| *i)),
            PlanNode::Multi {
                elements,
                element_wise: by_position,
            } => {
                element_wise |= !by_position.is_empty();
                placed.extend(elements.iter().flat_map(|e| e.subs.iter().map(|(_, i)| *i)));
            }
        };
        for node in &self.top {
            match node {
                TopNode::Attr(_, n) => visit(n),
                TopNode::Extension(_, attrs) => attrs.iter().for_each(|(_, n)| visit(n)),
            }
        }
        placed.sort_unstable();
        !element_wise && self.top.len() <= 64 && placed.into_iter().eq(0..entries)
    }
}

#[derive(Debug)]
pub enum TopNode {
    Attr(Key, PlanNode),
    /// An extension object: its URN and its attributes.
    Extension(Key, Vec<(Key, PlanNode)>),
}

/// An attribute name or URN of the payload, with its JSON string escaped once here rather than
/// for every record written.
#[derive(Debug, Clone)]
pub struct Key {
    name: Cow<'static, str>,
    /// The JSON string and a colon: the key of an object member.
    member: Cow<'static, [u8]>,
}

impl Key {
    /// The keys the payload writer adds itself.
    pub const SCHEMAS: Key = Key {
        name: Cow::Borrowed("schemas"),
        member: Cow::Borrowed(b"\"schemas\":"),
    };
    pub const PRIMARY: Key = Key {
        name: Cow::Borrowed("primary"),
        member: Cow::Borrowed(b"\"primary\":"),
    };

    pub fn new(name: String) -> Key {
        let mut member = Vec::with_capacity(name.len() + 3);
        crate::json::write_str(&name, &mut member);
        member.push(b':');
        Key {
            name: Cow::Owned(name),
            member: Cow::Owned(member),
        }
    }

    /// The name as a JSON string, quotes included.
    pub fn json(&self) -> &[u8] {
        self.member.split_last().map_or(&[], |(_, json)| json)
    }

    /// The name as the key of an object member: its JSON string and a colon.
    pub fn member(&self) -> &[u8] {
        &self.member
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

#[derive(Debug)]
pub enum PlanNode {
    /// A single value from one entry.
    Value(usize),
    /// A complex single-valued attribute (`name`): sub-attributes in order.
    Complex(Vec<(Key, usize)>),
    /// A multi-valued attribute: its elements in order, or element-wise sub-attributes.
    Multi {
        elements: Vec<Element>,
        element_wise: Vec<(Key, usize)>,
    },
}

/// One element of a multi-valued attribute (a filter's, or the shared unfiltered one).
#[derive(Debug)]
pub struct Element {
    /// The filter's sub-attributes and values, in the order written.
    pub fixed: Vec<(Key, serde_json::Value)>,
    /// Mapped sub-attributes: canonical name and entry index.
    pub subs: Vec<(Key, usize)>,
    pub auto_primary: bool,
}

impl Section {
    /// The top-level record fields this section reads, or `None` when it may read any
    /// (`$env`, a general JSON Path): a record need not be parsed beyond these.
    pub fn fields_read(&self) -> Option<Vec<String>> {
        let mut fields = Vec::new();
        for entry in &self.entries {
            match &entry.source {
                Source::Direct(Path::Simple(segments)) => match segments.first() {
                    Some(Segment::Field(name)) => fields.push(name.clone()),
                    _ => return None,
                },
                Source::Direct(Path::General(p)) => fields.push(p.first_field()?.to_string()),
                Source::Const(_) => {}
                Source::Expr(node) => node.fields_read(&mut fields)?,
            }
        }
        for l in &self.lets {
            l.value.fields_read(&mut fields)?;
        }
        // `fields` first, in their order: a record read for this list has `Op::Field(i)` at
        // position `i` (`record::Positions`).
        let mut seen: std::collections::HashSet<String> = self.fields.iter().cloned().collect();
        let rest = fields.into_iter().filter(|f| seen.insert(f.clone()));
        Some(self.fields.iter().cloned().chain(rest).collect())
    }
}

/// The children of an `Op`, in evaluation order: one list for `Node::for_each_child` and its
/// mutable twin.
macro_rules! children {
    ($op:expr, $f:ident, $iter:ident) => {{
        let mut $f = $f;
        match $op {
            Op::Nil
            | Op::Bool(_)
            | Op::Int(_)
            | Op::Float(_)
            | Op::Str(_)
            | Op::Local(_)
            | Op::SectionLet(_)
            | Op::Field(_)
            | Op::Now
            | Op::Env => {}
            Op::Attr { name: n, .. }
            | Op::Unary(_, n)
            | Op::NameOf { arg: n, .. }
            | Op::MatchesConst { subject: n, .. }
            | Op::EqStr { subject: n, .. }
            | Op::IsNil { subject: n, .. }
            | Op::FormatLayout { receiver: n, .. }
            | Op::Shared { node: n, .. } => $f(n),
            Op::Array(items) | Op::Sequence(items) | Op::Concat { parts: items, .. } => {
                items.$iter().for_each(&mut $f)
            }
            Op::Native { args, .. } | Op::DateLayout { args, .. } => args.$iter().for_each(&mut $f),
            Op::Map(entries) => entries.$iter().for_each(|(k, v)| {
                $f(k);
                $f(v);
            }),
            Op::Binary(_, l, r) => {
                $f(l);
                $f(r);
            }
            Op::Member { object, index, .. } => {
                $f(object);
                $f(index);
            }
            Op::Slice { object, from, to } => {
                $f(object);
                [from, to].into_iter().flatten().for_each(|n| $f(n));
            }
            Op::Method { receiver, args, .. } => {
                $f(receiver);
                args.$iter().for_each(&mut $f);
            }
            Op::Predicate {
                list, body, extra, ..
            } => {
                $f(list);
                body.$iter().for_each(|b| $f(b));
                extra.$iter().for_each(&mut $f);
            }
            Op::Conditional {
                cond,
                then,
                otherwise,
            } => {
                $f(cond);
                $f(then);
                $f(otherwise);
            }
            Op::Let { value, body, .. } => {
                $f(value);
                $f(body);
            }
        }
    }};
}

impl Node {
    /// Calls `f` on each node directly below this one, in evaluation order (a chain's object
    /// or receiver first).
    pub fn for_each_child<'n>(&'n self, f: impl FnMut(&'n Node)) {
        children!(&self.op, f, iter);
    }

    /// `for_each_child` with mutable access, in the same order.
    pub fn for_each_child_mut<'n>(&'n mut self, f: impl FnMut(&'n mut Node)) {
        children!(&mut self.op, f, iter_mut);
    }

    /// Adds the record fields this expression reads; `None` when it reads the whole record.
    fn fields_read(&self, out: &mut Vec<String>) -> Option<()> {
        match &self.op {
            Op::Env => return None,
            Op::Attr { .. } => out.push("attributes".into()),
            _ => {}
        }
        let mut all = Some(());
        self.for_each_child(|n| {
            if all.is_some() {
                all = n.fields_read(out);
            }
        });
        all
    }

    /// Whether local slot `slot` is read anywhere in this expression.
    pub fn reads_local(&self, slot: usize) -> bool {
        // A stack of its own: called at every level of nested predicates.
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            if matches!(n.op, Op::Local(i) if i == slot) {
                return true;
            }
            n.for_each_child(|c| stack.push(c));
        }
        false
    }

    /// How deep evaluating this node recurses, counting a section `let` as deep as its value
    /// (`lets[i]`, the depth of `let` number i): the evaluator recurses through both.
    pub fn eval_depth(&self, lets: &[usize]) -> usize {
        let mut below = match self.op {
            Op::SectionLet(i) => lets.get(i).copied().unwrap_or(0),
            _ => 0,
        };
        self.for_each_child(|n| below = below.max(n.eval_depth(lets)));
        below.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::Predicate;

    #[test]
    fn predicate_names_round_trip() {
        for name in Predicate::names() {
            assert_eq!(Predicate::from_name(name).map(Predicate::name), Some(name));
        }
        assert_eq!(Predicate::names().count(), 15);
        assert_eq!(Predicate::from_name("upper"), None);
    }
}

//! The compiled evaluator: a section's IR turned once, when the mapping is compiled, into a
//! tree of code objects, each with its operation chosen and its operands resolved, so that
//! evaluating a record dispatches once per operation and never looks at an `Op` again.
//!
//! The budget is charged per block: the nodes a block always evaluates (everything but the
//! arms of `?:`, `&&`, `||` and `??`, predicate bodies and shared values, which are blocks of
//! their own) are charged as one sum when the block starts, where the tree walker charges a
//! step per node; a record evaluated either way takes the same number of steps when it
//! succeeds. The operations themselves are the tree walker's (`interp`), generic over what
//! evaluates an operand, so the two cannot disagree on a value or a message. Every operation
//! is compiled; the tree walker runs only while coverage is recorded (`scimap test
//! --coverage`), and values whose type the checker could not know (`$env`, `fromJSON`, `any`
//! fields) take the same dynamic operations either way.

use super::interp::{unary, Ctx, Eval, PredicateCall};
use crate::diagnostic::Span;
use crate::ir::{Node, Op, Section};
use crate::record::Doc;
use crate::runtime::builtins::{self, Call, Text};
use crate::runtime::error::EvalResult;
use crate::runtime::format;
use crate::runtime::pattern::Pattern;
use crate::runtime::time::Layout;
use crate::runtime::value::{Str, Value};
use crate::syntax::ast::{BinaryOp, UnaryOp};
use std::fmt;
use std::sync::Arc;

/// A compiled operation.
pub trait Code: Send + Sync {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>>;

    /// The value as JSON text appended to `out`, printing charged. Code that writes its string
    /// ([`write_str`](Code::write_str)) writes it here too.
    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        let v = self.eval(cx)?;
        format::write_json_bytes(&v, out, &mut cx.budget)
    }

    /// The value, when it is a string, appended to `out` as a JSON string, charged as
    /// evaluating it is (printing is not charged); any other value handed back. A string
    /// constant (escaped when compiled), a field, a builtin that builds a string, a `Format` and
    /// a sum of strings write theirs without making a value of it; a conditional's branch
    /// writes itself.
    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, _out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        self.eval(cx).map(Written::Value)
    }
}

/// [`Code::write_json`] by [`Code::write_str`]: a string's printing charged, any other value
/// printed.
#[inline]
fn print<'a>(code: &'a impl Code, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
    match code.write_str(cx, out)? {
        Written::Str(len) => format::charge_string(len, &mut cx.budget),
        Written::Value(v) => format::write_json_bytes(&v, out, &mut cx.budget),
    }
}

/// What [`Code::write_str`] did.
pub enum Written<'a> {
    /// Wrote a string of this many bytes.
    Str(usize),
    /// Wrote nothing: the value is not a string.
    Value(Value<'a>),
}

/// `s` written as a JSON string.
fn written<'a>(s: &str, out: &mut Vec<u8>) -> Written<'a> {
    crate::json::write_str(s, out);
    Written::Str(s.len())
}

type Boxed = Box<dyn Code>;

impl<'a> Eval<'a> for &'a dyn Code {
    #[inline]
    fn run(self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        self.eval(cx)
    }
}

/// A section's entries (`None`: not an expression) and `let`s, compiled.
pub struct Program {
    entries: Vec<Option<Block>>,
    /// Per entry, the record field it is when it is nothing else (`title = jobTitle`): its
    /// value goes to the payload without being made a value first.
    fields: Vec<Option<usize>>,
    lets: Vec<Block>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("entries", &self.entries.len())
            .field("lets", &self.lets.len())
            .finish()
    }
}

impl Program {
    /// The expressions of a section's entries, in order.
    pub fn section(section: &Section) -> Program {
        Program::new(
            section,
            section.entries.iter().map(|e| match &e.source {
                crate::ir::Source::Expr(node) => Some(node),
                _ => None,
            }),
        )
    }

    /// One expression, as entry 0, with the `let`s of its section.
    pub fn expression(section: &Section, node: &Node) -> Program {
        Program::new(section, std::iter::once(Some(node)))
    }

    fn new<'n>(section: &Section, roots: impl Iterator<Item = Option<&'n Node>>) -> Program {
        let roots: Vec<Option<&Node>> = roots.collect();
        Program {
            entries: roots.iter().map(|n| n.map(block)).collect(),
            fields: roots
                .iter()
                .map(|n| match n.map(|n| &n.op) {
                    Some(Op::Field(i)) => Some(*i),
                    _ => None,
                })
                .collect(),
            lets: section.lets.iter().map(|l| block(&l.value)).collect(),
        }
    }

    #[inline]
    pub fn entry(&self, i: usize) -> Option<&Block> {
        self.entries.get(i)?.as_ref()
    }

    /// The record field entry `i` is, when it is nothing else.
    #[inline]
    pub fn field(&self, i: usize) -> Option<usize> {
        self.fields.get(i).copied().flatten()
    }

    pub fn section_let(&self, i: usize) -> Option<&Block> {
        self.lets.get(i)
    }
}

/// Code whose always-evaluated steps are charged at once, when it starts: an entry, a `let`, an
/// arm of `?:`, a predicate's body, a shared value. Held in place by what runs it, so that
/// charging costs no call of its own.
pub struct Block {
    steps: u64,
    span: Span,
    code: Boxed,
}

impl Code for Block {
    #[inline]
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        self.charge(cx)?;
        self.code.eval(cx)
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        self.charge(cx)?;
        self.code.write_json(cx, out)
    }

    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        self.charge(cx)?;
        self.code.write_str(cx, out)
    }
}

impl Block {
    #[inline]
    fn charge(&self, cx: &mut Ctx<'_>) -> EvalResult<()> {
        if self.steps == 0 {
            return Ok(());
        }
        cx.budget.step(self.steps).map_err(|e| e.at(self.span))
    }
}

impl<'a> Eval<'a> for &'a Block {
    #[inline]
    fn run(self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        self.eval(cx)
    }
}

/// A node compiled as a block: its always-evaluated steps charged at once.
fn block(node: &Node) -> Block {
    let (code, steps) = compile(node);
    Block {
        steps,
        span: node.span,
        code,
    }
}

/// [`block`], for a holder of other code: boxed, or the code alone when it has no steps to
/// charge.
fn boxed_block(node: &Node) -> Boxed {
    let block = block(node);
    if block.steps == 0 {
        block.code
    } else {
        Box::new(block)
    }
}

/// A node's code, and the steps it always takes that are not charged inside it: its own, and
/// those of the operands it always evaluates (as the tree walker charges them).
fn compile(node: &Node) -> (Boxed, u64) {
    let span = node.span;
    let many = |nodes: &[Node]| -> (Vec<Boxed>, u64) {
        let mut steps = 0;
        let code = nodes
            .iter()
            .map(|n| {
                let (c, s) = compile(n);
                steps += s;
                c
            })
            .collect();
        (code, steps)
    };
    match &node.op {
        Op::Nil => (Box::new(Const::Nil), 1),
        Op::Bool(b) => (Box::new(Const::Bool(*b)), 1),
        Op::Int(i) => (Box::new(Const::Int(*i)), 1),
        Op::Float(f) => (Box::new(Const::Float(*f)), 1),
        Op::Str(s) => (Box::new(ConstStr::new(s)), 1),
        Op::Field(i) => (Box::new(Field(*i)), 1),
        Op::Local(i) => (Box::new(Local(*i)), 1),
        Op::SectionLet(i) => (Box::new(SectionLet(*i, span)), 1),
        Op::Unary(op, operand) => {
            let (operand, steps) = compile(operand);
            (
                Box::new(Unary {
                    op: *op,
                    operand,
                    span,
                }),
                1 + steps,
            )
        }
        Op::Binary(op, l, r) => {
            let (l, ls) = compile(l);
            let (r, rs) = match op {
                // The right operand is evaluated only sometimes: a block of its own.
                BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => (boxed_block(r), 0),
                _ => compile(r),
            };
            (
                Box::new(Binary {
                    op: *op,
                    l,
                    r,
                    span,
                }),
                1 + ls + rs,
            )
        }
        // A field compared with a constant, or with nil: read from the record as it is.
        Op::EqStr {
            subject,
            constant,
            negate,
        } if matches!(subject.op, Op::Field(_)) => {
            let Op::Field(field) = subject.op else {
                unreachable!("matched above")
            };
            (
                Box::new(FieldEqStr {
                    field,
                    constant: constant.clone(),
                    negate: *negate,
                    span,
                }),
                2,
            )
        }
        Op::IsNil { subject, negate } if matches!(subject.op, Op::Field(_)) => {
            let Op::Field(field) = subject.op else {
                unreachable!("matched above")
            };
            (
                Box::new(FieldIsNil {
                    field,
                    negate: *negate,
                }),
                4,
            )
        }
        Op::EqStr {
            subject,
            constant,
            negate,
        } => {
            let (subject, steps) = compile(subject);
            (
                Box::new(EqStr {
                    subject,
                    constant: constant.clone(),
                    negate: *negate,
                    span,
                }),
                1 + steps,
            )
        }
        Op::IsNil { subject, negate } => {
            let (subject, steps) = compile(subject);
            (
                Box::new(IsNil {
                    subject,
                    negate: *negate,
                }),
                3 + steps,
            )
        }
        Op::MatchesConst {
            subject,
            regex,
            negate,
        } => {
            let (subject, steps) = compile(subject);
            (
                Box::new(MatchesConst {
                    subject,
                    regex: regex.clone(),
                    negate: *negate,
                    span,
                }),
                1 + steps,
            )
        }
        Op::Native { call, args, .. } => {
            let (args, steps) = many(args);
            (
                Box::new(Native {
                    call: *call,
                    args,
                    span,
                }),
                1 + steps,
            )
        }
        Op::DateLayout { args, layout } => {
            let (args, steps) = many(args);
            (
                Box::new(DateLayout {
                    args,
                    layout: layout.clone(),
                    span,
                }),
                1 + steps,
            )
        }
        Op::Concat { parts, joins } => {
            let pieces = Piece::all(parts);
            let (parts, steps) = many(parts);
            (
                // `concat` charges the `+`s itself.
                Box::new(Concat {
                    parts,
                    pieces,
                    joins: joins.clone(),
                    span,
                }),
                1 + steps,
            )
        }
        Op::Conditional {
            cond,
            then,
            otherwise,
        } => {
            let (c, steps) = compile(cond);
            (
                Box::new(Conditional {
                    cond: c,
                    cond_span: cond.span,
                    then: block(then),
                    otherwise: block(otherwise),
                    span,
                }),
                1 + steps,
            )
        }
        Op::Let { slot, value, body } => {
            let (value, vs) = compile(value);
            let (body, bs) = compile(body);
            (
                Box::new(Let {
                    slot: *slot,
                    value,
                    body,
                    span,
                }),
                1 + vs + bs,
            )
        }
        Op::Sequence(items) => {
            let (items, steps) = many(items);
            (Box::new(Sequence { items, span }), 1 + steps)
        }
        Op::Attr { name, group } => {
            let (name, steps) = compile(name);
            (
                Box::new(Attr {
                    name,
                    group: *group,
                    span,
                }),
                1 + steps,
            )
        }
        Op::Predicate {
            func,
            list,
            body,
            extra,
            slot,
            map,
            written,
        } => {
            let (l, ls) = compile(list);
            let (extra, es) = many(extra);
            (
                Box::new(Predicate {
                    call: PredicateCall {
                        func: *func,
                        written: *written,
                        slot: *slot,
                        span,
                    },
                    list: l,
                    list_span: list.span,
                    extra,
                    // Run once per item: blocks of their own.
                    body: body.as_deref().map(block),
                    map: map.as_ref().map(|(m, slot)| (block(m), *slot)),
                }),
                1 + ls + es,
            )
        }
        Op::Shared { index, node: inner } => {
            // The tree walker charges the shared node's step at every use, and the value's
            // steps but its root's only when it computes it.
            let (code, steps) = compile(inner);
            (
                Box::new(Shared {
                    index: *index,
                    code: Block {
                        steps: steps.saturating_sub(1),
                        span,
                        code,
                    },
                    span,
                }),
                1,
            )
        }
        // `date(s).Format("layout")`.
        Op::FormatLayout {
            receiver,
            layout,
            optional: false,
        } if matches!(&receiver.op, Op::Native { name: "date", args, .. } if args.len() == 1) => {
            let Op::Native { call, args, .. } = &receiver.op else {
                unreachable!("matched above")
            };
            let (arg, steps) = many(args);
            (
                Box::new(DateFormat {
                    call: *call,
                    arg: arg
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Box::new(Const::Nil)),
                    layout: layout.clone(),
                    spans: (receiver.span, span),
                }),
                // As the chain `date(s).Format(…)` charges: the link twice, the call, `s`.
                3 + steps,
            )
        }
        Op::Member { .. } | Op::Slice { .. } | Op::Method { .. } | Op::FormatLayout { .. } => {
            let (link, steps, _) = link(node);
            // The walker charges the outermost link a step more: its node's.
            (Box::new(Chain(link)), 1 + steps)
        }
        Op::Env => (Box::new(Env), 1),
        Op::Now => (Box::new(Now), 1),
        Op::Array(items) => {
            let (items, steps) = many(items);
            (Box::new(Array { items, span }), 1 + steps)
        }
        Op::Map(entries) => {
            let mut steps = 0;
            let entries = entries
                .iter()
                .map(|(k, v)| {
                    let (kc, ks) = compile(k);
                    let (vc, vs) = compile(v);
                    steps += ks + vs;
                    (kc, k.span, vc)
                })
                .collect();
            (Box::new(Map { entries, span }), 1 + steps)
        }
        Op::NameOf { arg, weekday } => {
            let (arg, steps) = compile(arg);
            (
                Box::new(NameOf {
                    arg,
                    weekday: *weekday,
                    span,
                }),
                1 + steps,
            )
        }
    }
}

/// A link of a chain (`a.b`, `a?.b`, `a[1:2]`, `t.Year()`, `t.Format(…)`), its steps, and
/// whether a `?.` in it or below it may end the chain before its operands are evaluated: then
/// they are blocks of their own. Every link's own step is charged on the way down, before any
/// `?.` is met, as the tree walker charges it.
fn link(node: &Node) -> (Link, u64, bool) {
    let (object, optional) = match &node.op {
        Op::Member {
            object, optional, ..
        }
        | Op::Method {
            receiver: object,
            optional,
            ..
        }
        | Op::FormatLayout {
            receiver: object,
            optional,
            ..
        } => (object, *optional),
        Op::Slice { object, .. } => (object, false),
        _ => unreachable!("link() only compiles chain nodes"),
    };
    let (inner, inner_steps, stops) = match &object.op {
        Op::Member { .. } | Op::Slice { .. } | Op::Method { .. } | Op::FormatLayout { .. } => {
            let (l, s, stops) = link(object);
            (Object::Link(Box::new(l)), s, stops)
        }
        _ => {
            let (c, s) = compile(object);
            (Object::Value(c), s, false)
        }
    };
    let stops = stops || optional;
    let mut steps = 1 + inner_steps;
    let mut operand = |n: &Node| {
        if stops {
            boxed_block(n)
        } else {
            let (c, s) = compile(n);
            steps += s;
            c
        }
    };
    let op = match &node.op {
        Op::Member {
            index, object_text, ..
        } => LinkOp::Member {
            index: operand(index),
            object_text: object_text.clone(),
        },
        Op::Slice { from, to, .. } => LinkOp::Slice {
            from: from.as_deref().map(&mut operand),
            to: to.as_deref().map(&mut operand),
        },
        Op::Method {
            name,
            args,
            receiver_text,
            ..
        } => LinkOp::Method {
            name: name.clone(),
            args: args.iter().map(operand).collect(),
            receiver_text: receiver_text.clone(),
        },
        Op::FormatLayout { layout, .. } => LinkOp::Format(layout.clone()),
        _ => unreachable!("link() only compiles chain nodes"),
    };
    let link = Link {
        object: inner,
        object_span: object.span,
        optional,
        op,
        span: node.span,
    };
    (link, steps, stops)
}

/// The operands of an operation, as `Eval`s.
fn operands(codes: &[Boxed]) -> impl ExactSizeIterator<Item = &dyn Code> + Clone {
    codes.iter().map(|c| &**c)
}

enum Const {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Code for Const {
    fn eval<'a>(&'a self, _: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(match *self {
            Const::Nil => Value::Nil,
            Const::Bool(b) => Value::Bool(b),
            Const::Int(i) => Value::Int(i),
            Const::Float(f) => Value::Float(f),
        })
    }
}

/// A string constant, and its JSON text (escaped once, when compiled).
struct ConstStr {
    text: Box<str>,
    json: Box<[u8]>,
}

impl ConstStr {
    fn new(text: &str) -> ConstStr {
        let mut json = Vec::with_capacity(text.len() + 2);
        crate::json::write_str(text, &mut json);
        ConstStr {
            text: text.into(),
            json: json.into(),
        }
    }
}

impl Code for ConstStr {
    fn eval<'a>(&'a self, _: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(Value::Str(Str::Borrowed(&self.text)))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        format::charge_string(self.text.len(), &mut cx.budget)?;
        out.extend_from_slice(&self.json);
        Ok(())
    }

    fn write_str<'a>(&'a self, _: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        out.extend_from_slice(&self.json);
        Ok(Written::Str(self.text.len()))
    }
}

struct Field(usize);

impl Code for Field {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(cx.field_value(self.0))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        print(self, cx, out)
    }

    #[inline]
    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        Ok(match cx.field(self.0) {
            Some(Doc::Str(s)) => written(s, out),
            _ => Written::Value(cx.field_value(self.0)),
        })
    }
}

struct Local(usize);

impl Code for Local {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(cx.local(self.0))
    }
}

struct SectionLet(usize, Span);

impl Code for SectionLet {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.section_let(self.0).map_err(|e| e.at(self.1))
    }
}

struct Unary {
    op: UnaryOp,
    operand: Boxed,
    span: Span,
}

impl Code for Unary {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let v = self.operand.eval(cx).map_err(|e| e.at(self.span))?;
        unary(self.op, v).map_err(|e| e.at(self.span))
    }
}

struct Binary {
    op: BinaryOp,
    l: Boxed,
    r: Boxed,
    span: Span,
}

impl Code for Binary {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.binary(self.op, &*self.l, &*self.r, self.span)
            .map_err(|e| e.at(self.span))
    }
}

struct EqStr {
    subject: Boxed,
    constant: Box<str>,
    negate: bool,
    span: Span,
}

impl Code for EqStr {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let v = self.subject.eval(cx).map_err(|e| e.at(self.span))?;
        cx.eq_str(v, &self.constant, self.negate)
            .map_err(|e| e.at(self.span))
    }
}

struct IsNil {
    subject: Boxed,
    negate: bool,
}

impl Code for IsNil {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let v = self.subject.eval(cx)?;
        Ok(Value::Bool(v.is_nil() != self.negate))
    }
}

struct FieldEqStr {
    field: usize,
    constant: Box<str>,
    negate: bool,
    span: Span,
}

impl Code for FieldEqStr {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let text = match cx.field(self.field) {
            Some(Doc::Str(s)) => Some(&**s),
            _ => None,
        };
        cx.eq_text(text, &self.constant, self.negate)
            .map_err(|e| e.at(self.span))
    }
}

struct FieldIsNil {
    field: usize,
    negate: bool,
}

impl Code for FieldIsNil {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let nil = matches!(cx.field(self.field), None | Some(Doc::Null));
        Ok(Value::Bool(nil != self.negate))
    }
}

struct MatchesConst {
    subject: Boxed,
    regex: Arc<Pattern>,
    negate: bool,
    span: Span,
}

impl Code for MatchesConst {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let v = self.subject.eval(cx).map_err(|e| e.at(self.span))?;
        cx.matches_const(v, &self.regex, self.negate)
            .map_err(|e| e.at(self.span))
    }
}

struct Native {
    call: Call,
    args: Vec<Boxed>,
    span: Span,
}

impl Code for Native {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.native(self.call, operands(&self.args))
            .map_err(|e| e.at(self.span))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        print(self, cx, out)
    }

    #[inline]
    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        let Call::Text(f) = self.call else {
            return self.eval(cx).map(Written::Value);
        };
        cx.with_args(operands(&self.args), |args, budget| {
            builtins::text(f, args, budget, |made, built| match &made {
                Text::Same(s) => written(s, out),
                Text::Built => written(built, out),
            })
        })
        .map_err(|e| e.at(self.span))
    }
}

/// `date(s).Format("layout")`: an RFC 3339 timestamp in UTC (how records write dates) is
/// formatted as it is read, without a time value between.
struct DateFormat {
    call: Call,
    arg: Boxed,
    layout: Arc<Layout>,
    /// The call's and the whole chain's.
    spans: (Span, Span),
}

impl Code for DateFormat {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let arg = self.arg.eval(cx).map_err(|e| e.at(self.spans.0))?;
        let value = |s: &str| Value::Str(Str::Owned(s.into()));
        cx.date_format(self.call, arg, &self.layout, self.spans, value)
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        print(self, cx, out)
    }

    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        let arg = self.arg.eval(cx).map_err(|e| e.at(self.spans.0))?;
        let write = |s: &str| written(s, out);
        cx.date_format(self.call, arg, &self.layout, self.spans, write)
    }
}

struct DateLayout {
    args: Vec<Boxed>,
    layout: Arc<Layout>,
    span: Span,
}

impl Code for DateLayout {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.date_layout(operands(&self.args), &self.layout)
            .map_err(|e| e.at(self.span))
    }
}

struct Concat {
    parts: Vec<Boxed>,
    /// The parts when each is a record field or a string constant (`firstname + " " +
    /// lastname`): written as JSON text from the record's strings, nothing evaluated.
    pieces: Option<Box<[Piece]>>,
    joins: Vec<Span>,
    span: Span,
}

/// A part of a sum written straight from the record or the mapping.
enum Piece {
    Field(usize),
    Text(Box<str>),
}

impl Piece {
    fn all(parts: &[Node]) -> Option<Box<[Piece]>> {
        parts
            .iter()
            .map(|part| match &part.op {
                Op::Field(i) => Some(Piece::Field(*i)),
                Op::Str(s) => Some(Piece::Text(s.clone())),
                _ => None,
            })
            .collect()
    }

    /// The piece's string for this record; `None` for a field that is not a string.
    fn string<'a>(&'a self, cx: &mut Ctx<'a>) -> Option<Str<'a>> {
        match self {
            Piece::Field(f) => match cx.field(*f) {
                Some(Doc::Str(s)) => Some(Str::Borrowed(s)),
                _ => None,
            },
            Piece::Text(t) => Some(Str::Borrowed(t)),
        }
    }
}

impl Code for Concat {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.concat(operands(&self.parts), &self.joins)
            .map_err(|e| e.at(self.span))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        if self.pieces.is_none() {
            return cx
                .concat_json(operands(&self.parts), &self.joins, out)
                .map_err(|e| e.at(self.span));
        }
        print(self, cx, out)
    }

    #[inline]
    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        match &self.pieces {
            Some(pieces) => self.write_pieces(pieces, cx, out),
            None => self.eval(cx).map(Written::Value),
        }
    }
}

impl Concat {
    /// The sum of `pieces` escaped into `out` (`write_json` also charges its printing), or
    /// when a field is not a string, the sum as `concat` makes it, from where it started.
    #[inline]
    fn write_pieces<'a>(
        &'a self,
        pieces: &'a [Piece],
        cx: &mut Ctx<'a>,
        out: &mut Vec<u8>,
    ) -> EvalResult<Written<'a>> {
        let (start, mark) = (out.len(), cx.budget.mark());
        let string = |cx: &mut Ctx<'a>, piece: &'a Piece| Ok(piece.string(cx));
        if let Some(len) = cx
            .concat_escaped(pieces.iter(), &self.joins, out, string)
            .map_err(|e| e.at(self.span))?
        {
            return Ok(Written::Str(len));
        }
        out.truncate(start);
        cx.budget.rewind(mark);
        self.eval(cx).map(Written::Value)
    }
}

struct Conditional {
    cond: Boxed,
    cond_span: Span,
    then: Block,
    otherwise: Block,
    span: Span,
}

impl Code for Conditional {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.conditional(
            &*self.cond,
            self.cond_span,
            &self.then,
            &self.otherwise,
            self.span,
        )
        .map_err(|e| e.at(self.span))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        let taken = cx
            .condition(&*self.cond, self.cond_span, self.span)
            .map_err(|e| e.at(self.span))?;
        let branch = if taken { &self.then } else { &self.otherwise };
        branch.write_json(cx, out).map_err(|e| e.at(self.span))
    }

    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        let taken = cx
            .condition(&*self.cond, self.cond_span, self.span)
            .map_err(|e| e.at(self.span))?;
        let branch = if taken { &self.then } else { &self.otherwise };
        branch.write_str(cx, out).map_err(|e| e.at(self.span))
    }
}

struct Let {
    slot: usize,
    value: Boxed,
    body: Boxed,
    span: Span,
}

impl Code for Let {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.let_in(self.slot, &*self.value, &*self.body)
            .map_err(|e| e.at(self.span))
    }
}

struct Sequence {
    items: Vec<Boxed>,
    span: Span,
}

impl Code for Sequence {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let mut last = Value::Nil;
        for item in &self.items {
            last = item.eval(cx).map_err(|e| e.at(self.span))?;
        }
        Ok(last)
    }
}

struct Attr {
    name: Boxed,
    group: bool,
    span: Span,
}

impl Code for Attr {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let name = self.name.eval(cx).map_err(|e| e.at(self.span))?;
        cx.attr(&name, self.group).map_err(|e| e.at(self.span))
    }
}

struct Predicate {
    call: PredicateCall,
    list: Boxed,
    list_span: Span,
    extra: Vec<Boxed>,
    body: Option<Block>,
    map: Option<(Block, usize)>,
}

impl Code for Predicate {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.predicate(
            self.call,
            &*self.list,
            self.list_span,
            operands(&self.extra),
            self.body.as_ref(),
            self.map.as_ref().map(|(m, slot)| (m, *slot)),
        )
        .map_err(|e| e.at(self.call.span))
    }
}

struct Shared {
    index: usize,
    code: Block,
    span: Span,
}

impl Code for Shared {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        if let Some(v) = cx.shared_value(self.index) {
            return Ok(v);
        }
        let v = self.code.eval(cx).map_err(|e| e.at(self.span))?;
        cx.keep_shared(self.index, &v);
        Ok(v)
    }
}

struct Env;

impl Code for Env {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(cx.env())
    }
}

struct Now;

impl Code for Now {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(cx.now())
    }
}

struct Array {
    items: Vec<Boxed>,
    span: Span,
}

impl Code for Array {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.array(operands(&self.items)).map_err(|e| e.at(self.span))
    }
}

struct Map {
    entries: Vec<(Boxed, Span, Boxed)>,
    span: Span,
}

impl Code for Map {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let entries = self
            .entries
            .iter()
            .map(|(k, span, v)| (&**k as &dyn Code, *span, &**v as &dyn Code));
        cx.map(entries).map_err(|e| e.at(self.span))
    }
}

struct NameOf {
    arg: Boxed,
    weekday: bool,
    span: Span,
}

impl Code for NameOf {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let v = self.arg.eval(cx).map_err(|e| e.at(self.span))?;
        cx.name_of(v, self.weekday).map_err(|e| e.at(self.span))
    }
}

/// A whole chain: nil when a `?.` met nil.
struct Chain(Link);

impl Code for Chain {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(self.0.chain(cx)?.unwrap_or(Value::Nil))
    }

    fn write_json<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<()> {
        print(self, cx, out)
    }

    #[inline]
    fn write_str<'a>(&'a self, cx: &mut Ctx<'a>, out: &mut Vec<u8>) -> EvalResult<Written<'a>> {
        let LinkOp::Format(layout) = &self.0.op else {
            return self.eval(cx).map(Written::Value);
        };
        let Some(obj) = self.0.object(cx)? else {
            return Ok(Written::Value(Value::Nil));
        };
        cx.formatted(obj, layout, |s| written(s, out))
            .map_err(|e| e.at(self.0.span))
    }
}

struct Link {
    object: Object,
    object_span: Span,
    optional: bool,
    op: LinkOp,
    span: Span,
}

enum Object {
    Link(Box<Link>),
    Value(Boxed),
}

enum LinkOp {
    Member {
        index: Boxed,
        object_text: Box<str>,
    },
    Slice {
        from: Option<Boxed>,
        to: Option<Boxed>,
    },
    Method {
        name: Box<str>,
        args: Vec<Boxed>,
        receiver_text: Box<str>,
    },
    Format(Arc<Layout>),
}

impl Link {
    /// What the link applies to; `None` when a `?.` met nil, which ends the whole chain.
    fn object<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Option<Value<'a>>> {
        let object = match &self.object {
            Object::Link(inner) => inner.chain(cx),
            Object::Value(code) => code.eval(cx).map(Some),
        };
        let Some(obj) = object.map_err(|e| e.at(self.object_span))? else {
            return Ok(None);
        };
        Ok((!self.optional || !obj.is_nil()).then_some(obj))
    }

    /// The link's value; `None` when a `?.` met nil.
    fn chain<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Option<Value<'a>>> {
        let Some(obj) = self.object(cx)? else {
            return Ok(None);
        };
        let result = match &self.op {
            LinkOp::Member { index, object_text } => cx.member_of(obj, &**index, object_text),
            LinkOp::Slice { from, to } => cx.slice_of(obj, from.as_deref(), to.as_deref()),
            LinkOp::Method {
                name,
                args,
                receiver_text,
            } => cx.method_of(obj, name, operands(args), receiver_text, self.span),
            LinkOp::Format(layout) => cx.format_layout(obj, layout),
        };
        result.map(Some).map_err(|e| e.at(self.span))
    }
}

#[cfg(test)]
mod tests {
    //! The compiled evaluator against the tree walker (which runs whenever coverage is
    //! recorded): the same payloads and the same errors, message for message.

    use super::Program;
    use crate::eval::coverage;
    use crate::eval::interp::Ctx;
    use crate::record::{Doc, Obj};
    use crate::runtime::budget::Budget;
    use crate::{Kind, Limits, Mapping};
    use serde_json::Value as Json;

    /// `f` compiled, then walked.
    fn both<T>(f: impl Fn() -> T) -> (T, T) {
        (f(), coverage::record(&f).0)
    }

    fn lines(text: &str) -> impl Iterator<Item = Json> + '_ {
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(Json::is_object)
    }

    #[test]
    fn mappings_compiled_and_walked_agree_on_every_fixture_user() {
        let mappings = [
            include_str!("../../examples/trello.scimap"),
            include_str!("../../examples/miro.scimap"),
            include_str!("../../examples/monday.scimap"),
            include_str!("../../examples/trelica.scimap"),
            include_str!("../../benches/trello15.scimap"),
        ];
        let users: Vec<Json> = lines(include_str!("../../tests/fixtures/users.ndjson")).collect();
        assert!(users.len() > 40, "{} users", users.len());
        let (mut ok, mut failed) = (0, 0);
        for source in mappings {
            let mapping = Mapping::compile(source).expect("the examples compile");
            for user in &users {
                let (compiled, walked) = both(|| mapping.evaluate(Kind::User, user));
                assert_eq!(compiled, walked, "{source}\n{user}");
                if compiled.is_ok() {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
        }
        // Both sides of the comparison are exercised.
        assert!(ok > 100 && failed > 10, "{ok} ok, {failed} failed");
    }

    /// `src` evaluated against `env` compiled and walked: each answer (a value, or a message)
    /// and the steps it took. `None` when it does not compile.
    fn evaluate_both(src: &str, env: &Json) -> Option<[(Result<Json, String>, u64); 2]> {
        let limits = Limits::default();
        let expr = crate::syntax::parser::parse_expression(src, &limits).ok()?;
        let (section, node) = crate::check::check_expression(&expr, src, false, &limits).ok()?;
        let program = Program::expression(&section, &node);
        let Json::Object(fields) = env else {
            return None;
        };
        let obj = Obj::from_json(fields, None);
        let whole = Doc::Object(obj.clone());
        let run = |program: Option<&Program>| {
            let mut ctx = Ctx::new(&whole, &obj, &section, program, Budget::new(&limits), None);
            let value = ctx
                .entry(0, &node)
                .and_then(|v| crate::runtime::format::to_json(&v, &mut ctx.budget))
                .map_err(|e| e.message.clone());
            (value, ctx.budget.steps())
        };
        Some([run(Some(&program)), run(None)])
    }

    #[test]
    fn expressions_of_the_expr_suite_compiled_and_walked_agree_and_take_the_same_steps() {
        let generated = include_str!("../../tests/expr_suite/generated.jsonl");
        let env = lines(generated).next().map(|head| head["env"].clone());
        let env = env.expect("the environment line");
        let empty = Json::Object(Default::default());
        let tables = include_str!("../../tests/expr_suite/tables.jsonl");
        let cases = lines(generated)
            .skip(1)
            .map(|c| (c, &env))
            .chain(lines(tables).map(|c| (c, &empty)));
        let (mut compared, mut failed) = (0, 0);
        for (case, env) in cases {
            let Some(src) = case["expr"].as_str() else {
                continue;
            };
            let Some([(compiled, compiled_steps), (walked, walked_steps)]) =
                evaluate_both(src, env)
            else {
                continue;
            };
            assert_eq!(compiled, walked, "{src}");
            // Charged per block or per node, a success takes the same steps.
            if compiled.is_ok() {
                assert_eq!(compiled_steps, walked_steps, "{src}");
            } else {
                failed += 1;
            }
            compared += 1;
        }
        assert!(
            compared > 5000 && failed > 100,
            "{compared} expressions compared, {failed} failed"
        );
    }

    /// `date(s).Format(…)`, read and formatted at once for an RFC 3339 timestamp in UTC, gives
    /// the chain's answers and takes its steps, for every kind of argument.
    #[test]
    fn dates_formatted_as_read_agree_with_the_chain() {
        // A timestamp in UTC, one with an offset, a date alone, no such month, a number, a
        // field the record lacks, nine fraction digits, and a string made by the expression.
        let env = serde_json::json!({
            "created": "2024-11-05T06:14:47.009Z",
            "password_date": "2024-11-05T06:14:47+02:00",
            "department": "2024-11-05",
            "jobTitle": "2024-13-05T06:14:47Z",
            "unix_uid": 7,
            "company": "2024-11-05T06:14:47.123456789Z",
        });
        let mut compared = 0;
        for arg in [
            "created",
            "password_date",
            "department",
            "jobTitle",
            "unix_uid",
            "displayname",
            "company",
            "created + \"\"",
        ] {
            for layout in ["2006-01-02", "Mon Jan _2 15:04:05.000 MST 2006", ""] {
                let src = format!("date({arg}).Format(\"{layout}\")");
                let Some([compiled, walked]) = evaluate_both(&src, &env) else {
                    panic!("{src} does not compile");
                };
                assert_eq!(compiled, walked, "{src}");
                compared += 1;
            }
        }
        assert_eq!(compared, 24);
    }
}

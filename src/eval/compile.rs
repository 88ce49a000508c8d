//! The compiled evaluator: a section's IR turned once, when the mapping is compiled, into a
//! tree of code objects, each with its operation chosen and its operands resolved, so that
//! evaluating a record dispatches once per operation and never looks at an `Op` again.
//!
//! The budget is charged per block: the nodes a block always evaluates (everything but the
//! arms of `?:`, `&&`, `||` and `??`, predicate bodies and shared values, which are blocks of
//! their own) are charged as one sum when the block starts, where the tree walker charges a
//! step per node; a record evaluated either way takes the same number of steps when it
//! succeeds. The operations themselves are the tree walker's (`interp`), generic over what
//! evaluates an operand, so the two cannot disagree on a value or a message. What is not
//! compiled (optional chains, method calls, slices, list and map literals, `$env`, `now()`)
//! is walked node for node from here; coverage (`scimap test --coverage`) walks everything.

use super::interp::{member, unary, Ctx, Eval, PredicateCall};
use crate::diagnostic::Span;
use crate::ir::{Node, Op, Section};
use crate::runtime::builtins::NativeFn;
use crate::runtime::error::EvalResult;
use crate::runtime::pattern::Pattern;
use crate::runtime::time::Layout;
use crate::runtime::value::{Str, Value};
use crate::syntax::ast::{BinaryOp, UnaryOp};
use std::fmt;
use std::sync::Arc;

/// A compiled operation.
pub trait Code: Send + Sync {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>>;
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
    entries: Vec<Option<Boxed>>,
    lets: Vec<Boxed>,
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
        Program {
            entries: roots.map(|n| n.map(block)).collect(),
            lets: section.lets.iter().map(|l| block(&l.value)).collect(),
        }
    }

    #[inline]
    pub fn entry(&self, i: usize) -> Option<&dyn Code> {
        self.entries.get(i)?.as_deref()
    }

    pub fn section_let(&self, i: usize) -> Option<&dyn Code> {
        self.lets.get(i).map(|c| &**c)
    }
}

/// A node compiled as a block: its always-evaluated steps charged at once.
fn block(node: &Node) -> Boxed {
    let (code, steps) = compile(node);
    charged(code, steps, node.span)
}

fn charged(code: Boxed, steps: u64, span: Span) -> Boxed {
    if steps == 0 {
        code
    } else {
        Box::new(Charged { steps, span, code })
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
        Op::Str(s) => (Box::new(ConstStr(s.clone())), 1),
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
                BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => (block(r), 0),
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
        Op::Native { call, args } => {
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
            let (parts, steps) = many(parts);
            (
                // `concat` charges the `+`s itself.
                Box::new(Concat {
                    parts,
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
                    code: charged(code, steps.saturating_sub(1), span),
                    span,
                }),
                1,
            )
        }
        Op::Member { .. } | Op::FormatLayout { .. } => match chain(node, true) {
            Some(compiled) => compiled,
            None => walked(node),
        },
        Op::Env
        | Op::Array(_)
        | Op::Map(_)
        | Op::Slice { .. }
        | Op::Method { .. }
        | Op::Now
        | Op::NameOf { .. } => walked(node),
    }
}

/// A member access or `Format` call with no `?.` anywhere in its chain; `None` otherwise.
/// The tree walker charges a chain link one step more when it is the outermost (`outer`).
fn chain(node: &Node, outer: bool) -> Option<(Boxed, u64)> {
    let own = if outer { 2 } else { 1 };
    let object = |object: &Node| match &object.op {
        Op::Member { .. } | Op::FormatLayout { .. } => chain(object, false),
        Op::Slice { .. } | Op::Method { .. } => None,
        _ => Some(compile(object)),
    };
    match &node.op {
        Op::Member {
            object: o,
            index,
            optional: false,
            object_text,
        } => {
            let (object, os) = object(o)?;
            let (index, is) = compile(index);
            Some((
                Box::new(Member {
                    object,
                    object_span: o.span,
                    index,
                    object_text: object_text.clone(),
                    span: node.span,
                }),
                own + os + is,
            ))
        }
        Op::FormatLayout {
            receiver,
            layout,
            optional: false,
        } => {
            let (code, rs) = object(receiver)?;
            Some((
                Box::new(FormatLayout {
                    receiver: code,
                    receiver_span: receiver.span,
                    layout: layout.clone(),
                    span: node.span,
                }),
                own + rs,
            ))
        }
        _ => None,
    }
}

/// A node the tree walker runs (and charges) itself.
fn walked(node: &Node) -> (Boxed, u64) {
    (Box::new(Walked(node.clone())), 0)
}

/// The operands of an operation, as `Eval`s.
fn operands(codes: &[Boxed]) -> impl Iterator<Item = &dyn Code> {
    codes.iter().map(|c| &**c)
}

struct Charged {
    steps: u64,
    span: Span,
    code: Boxed,
}

impl Code for Charged {
    #[inline]
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.budget.step(self.steps).map_err(|e| e.at(self.span))?;
        self.code.eval(cx)
    }
}

struct Walked(Node);

impl Code for Walked {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.eval(&self.0)
    }
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

struct ConstStr(Box<str>);

impl Code for ConstStr {
    fn eval<'a>(&'a self, _: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(Value::Str(Str::Borrowed(&self.0)))
    }
}

struct Field(usize);

impl Code for Field {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        Ok(cx.field_value(self.0))
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
    call: NativeFn,
    args: Vec<Boxed>,
    span: Span,
}

impl Code for Native {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.native(self.call, operands(&self.args))
            .map_err(|e| e.at(self.span))
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
    joins: Vec<Span>,
    span: Span,
}

impl Code for Concat {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.concat(operands(&self.parts), &self.joins)
            .map_err(|e| e.at(self.span))
    }
}

struct Conditional {
    cond: Boxed,
    cond_span: Span,
    then: Boxed,
    otherwise: Boxed,
    span: Span,
}

impl Code for Conditional {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.conditional(
            &*self.cond,
            self.cond_span,
            &*self.then,
            &*self.otherwise,
            self.span,
        )
        .map_err(|e| e.at(self.span))
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
    body: Option<Boxed>,
    map: Option<(Boxed, usize)>,
}

impl Code for Predicate {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.predicate(
            self.call,
            &*self.list,
            self.list_span,
            operands(&self.extra),
            self.body.as_deref(),
            self.map.as_ref().map(|(m, slot)| (&**m, *slot)),
        )
        .map_err(|e| e.at(self.call.span))
    }
}

struct Shared {
    index: usize,
    code: Boxed,
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

struct Member {
    object: Boxed,
    object_span: Span,
    index: Boxed,
    object_text: Box<str>,
    span: Span,
}

impl Code for Member {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let obj = self.object.eval(cx).map_err(|e| e.at(self.object_span))?;
        let idx = self.index.eval(cx).map_err(|e| e.at(self.span))?;
        member(obj, idx, &self.object_text).map_err(|e| e.at(self.span))
    }
}

struct FormatLayout {
    receiver: Boxed,
    receiver_span: Span,
    layout: Arc<Layout>,
    span: Span,
}

impl Code for FormatLayout {
    fn eval<'a>(&'a self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        let obj = self
            .receiver
            .eval(cx)
            .map_err(|e| e.at(self.receiver_span))?;
        cx.format_layout(obj, &self.layout)
            .map_err(|e| e.at(self.span))
    }
}

#[cfg(test)]
mod tests {
    //! The compiled evaluator against the tree walker (which runs whenever coverage is
    //! recorded): the same payloads and the same errors, message for message.

    use crate::eval::coverage;
    use crate::{Expression, Kind, Mapping, Options};
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

    #[test]
    fn expressions_of_the_expr_suite_compiled_and_walked_agree() {
        let generated = include_str!("../../tests/expr_suite/generated.jsonl");
        let env = lines(generated).next().map(|head| head["env"].clone());
        let env = env.expect("the environment line");
        let empty = Json::Object(Default::default());
        let tables = include_str!("../../tests/expr_suite/tables.jsonl");
        let cases = lines(generated)
            .skip(1)
            .map(|c| (c, &env))
            .chain(lines(tables).map(|c| (c, &empty)));
        let options = Options::default();
        let mut compared = 0;
        for (case, env) in cases {
            let Some(Ok(e)) = case["expr"]
                .as_str()
                .map(|src| Expression::compile(src, Kind::User, &options))
            else {
                continue;
            };
            let (compiled, walked) = both(|| e.evaluate_json(env).map_err(|e| e.message));
            assert_eq!(compiled, walked, "{}", case["expr"]);
            compared += 1;
        }
        assert!(compared > 5000, "{compared} expressions compared");
    }
}
